"""Keeps "last seen" of the signed-in person's session up to date, at most one write per
session per ``SESSION_LAST_SEEN_MINUTES`` (default 5): in between, a request costs no query
(one cache look-up; workspaces/sessions/services.py).

Placed after ``AuthenticationMiddleware``. It looks before the view (so the account page lists
the current session even on its first request) and again after it when the view changed the
session key (``cycle_key`` on a password change), so the row follows the key.
"""

from workspaces.sessions.services import session_touch


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key_before = self._touch(request)
        response = self.get_response(request)
        if key_before is not None and request.session.session_key != key_before:
            self._touch(request, previous_key=key_before)
        return response

    @staticmethod
    def _touch(request, previous_key: str | None = None) -> str | None:
        session = getattr(request, "session", None)
        if session is None or not session.session_key or not request.user.is_authenticated:
            return None
        session_touch(request=request, previous_key=previous_key)
        return session.session_key
