"""Two-factor sign-in: TOTP (django-otp's TOTPDevice), one-time recovery codes and passkeys
(WebAuthn, py_webauthn). See README "Two-factor sign-in".

``models`` holds the rows, ``services`` the writes and checks, ``passkeys`` the WebAuthn
ceremonies, ``signin`` the session state of a sign-in waiting for its second step, and
``middleware`` the gate that keeps such a session out of the app.
"""
