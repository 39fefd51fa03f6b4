"""Sealing small secrets at rest (a session key, an SSO client secret) with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The Fernet key is derived per purpose from a server secret, so one secret serves several
purposes without one purpose's token opening under another. Several secrets (the current one
first, then fallbacks) make a ``MultiFernet``: tokens sealed before a rotation still open.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.utils.crypto import salted_hmac

__all__ = ["InvalidToken", "fernet_for"]


@lru_cache(maxsize=8)
def fernet_for(purpose: str, secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    salted_hmac(purpose, "fernet", secret=s, algorithm="sha256").digest()
                )
            )
            for s in secrets
        ]
    )
