"""Single-use tokens (invitations, sign-up and email-change confirmations) are mailed in clear
and stored only as this hash, so a database reader cannot use one."""

import hashlib


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
