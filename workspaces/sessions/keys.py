"""A session key is a bearer credential: what the sessions table keeps of it.

Why the key is kept sealed rather than only hashed: signing out another browser means deleting
its session from the session store, and every server-side engine (``db``, ``cached_db``,
``cache``, ``file``) deletes by key. The alternatives were a hash only plus a scan of the store
(decoding every session on the site to find the person's: a full table read per click, and
impossible with the ``cache`` engine), or a custom ``SESSION_ENGINE`` with a user column (a new
session table for every deployment). So the key is kept encrypted with Fernet (AES-128-CBC +
HMAC-SHA256) under a key derived from ``SECRET_KEY``, and opened only to ask
the store whether that session still lives and to sign it out.
A copy of the database alone yields no usable key; with the default ``db`` engine the session
table next to it holds the same keys in plain anyway, so the sealed copy adds no exposure there,
and with a cache engine the key stays out of the database. ``SECRET_KEY_FALLBACKS`` still open
keys sealed before a rotation. (The ``signed_cookies`` engine keeps nothing on the server: its
sessions can be listed but not signed out.)

The row is found by ``hash_key`` (plain SHA-256: a session key is 32 random characters from
36, about 165 bits, so a hash cannot be reversed by guessing, and it does not change when
``SECRET_KEY`` rotates).
"""

import hashlib

from django.conf import settings

from helpdesk.sealing import InvalidToken, fernet_for

SEAL_SALT = "workspaces.sessions.keys.seal"


def hash_key(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def _current():
    return fernet_for(SEAL_SALT, (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])))


def seal(session_key: str) -> str:
    return _current().encrypt(session_key.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The session key, or ``None`` when it cannot be opened (sealed under a secret that is no
    longer configured): that session can no longer be found in the store, only forgotten."""
    try:
        return _current().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
