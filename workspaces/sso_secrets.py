"""Encryption at rest of the workspaces' single sign-on client secrets.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key derived by HKDF-SHA256 from
``settings.SSO_SECRET_KEY`` (env ``SSO_SECRET_KEY``, falling back to ``SECRET_KEY``). A database
dump alone does not reveal a secret; changing the key makes stored secrets unreadable, and the
admins re-enter them (``SecretUnreadable``).
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_SALT = b"helpdesk.workspaces.sso"
_INFO = b"oidc-client-secret"


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another key (``SSO_SECRET_KEY`` changed)."""


def _fernet() -> Fernet:
    material = settings.SSO_SECRET_KEY.encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None
