"""Keep a session that is signed in but owes its second factor out of the app (HTTP and
websockets). See workspaces/two_factor/signin.py."""

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from workspaces.two_factor.signin import is_unverified, session_owes_second_factor

# URL names an unverified session may still reach.
ALLOWED_NAMES = ("two_factor_verify", "two_factor_verify_passkey", "two_factor_cancel", "logout")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and is_unverified(request) and not self._allowed(request.path_info):
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(reverse("two_factor_verify") + (f"?{query}" if query else ""))
        return self.get_response(request)

    @staticmethod
    def _allowed(path: str) -> bool:
        if path.startswith("/" + settings.STATIC_URL.lstrip("/")) or path == reverse("healthz"):
            return True
        return path in {reverse(name) for name in ALLOWED_NAMES}


class SecondFactorWebsocketGate:
    """ASGI middleware inside channels' AuthMiddlewareStack: an unverified session's websocket
    is anonymous, so every consumer refuses it as it refuses a stranger."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        session = scope.get("session")
        if session is not None and await database_sync_to_async(session_owes_second_factor)(session):
            scope = dict(scope, user=AnonymousUser())
        return await self.inner(scope, receive, send)
