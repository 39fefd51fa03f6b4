"""Encryption at rest of the workspaces' single sign-on client secrets.

Sealed with ``helpdesk.sealing`` (Fernet) under a key derived for this purpose from
``settings.SSO_SECRET_KEY`` (env ``SSO_SECRET_KEY``, falling back to ``SECRET_KEY``). A database
dump alone does not reveal a secret; changing the key makes stored secrets unreadable, and the
admins re-enter them (``SecretUnreadable``).
"""

from django.conf import settings

from helpdesk.sealing import InvalidToken, fernet_for

PURPOSE = "workspaces.sso.client_secret"


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another key (``SSO_SECRET_KEY`` changed)."""


def _fernet():
    return fernet_for(PURPOSE, (settings.SSO_SECRET_KEY,))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None
