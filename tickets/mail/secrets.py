"""Encryption at rest of mailbox IMAP passwords.

Sealed with ``helpdesk.sealing`` (Fernet, from ``cryptography``) under a key derived for this
purpose from ``settings.MAIL_SECRET_KEY`` (env ``MAIL_SECRET_KEY``, falling back to
``SECRET_KEY``). A database dump alone does not reveal a password; after a key change the stored
passwords cannot be read and an admin enters them again (``SecretUnreadable``).
"""

from django.conf import settings

from helpdesk.sealing import InvalidToken, fernet_for

PURPOSE = "tickets.mail.imap_secret"


class SecretUnreadable(Exception):
    """The stored secret was sealed under another key (``MAIL_SECRET_KEY`` changed)."""


def _fernet():
    return fernet_for(PURPOSE, (settings.MAIL_SECRET_KEY,))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None
