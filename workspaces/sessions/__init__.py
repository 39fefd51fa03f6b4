"""The signed-in person's sessions: one row per browser they are signed in on, listed on the
account page, each signed out on its own or all at once.

``models`` (the row), ``keys`` (hashing and sealing a session key), ``devices`` (browser, system
and network from a request), ``services`` (start, touch, end, revoke), ``selectors`` (the
person's list, one row or 404), ``middleware`` (last seen, at most once per interval),
``receivers`` (sign-in, sign-out, a deleted session row) and ``personal_data`` (export and
erasure). This package imports nothing from here so that ``workspaces.models`` can import the
model.
"""
