from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.utils.functional import LazyObject, empty

# No inline script anywhere: every script is a file under /static/. Inline style attributes
# are refused too, so markup injected into a message cannot restyle the page.
# connect-src is completed per request (``content_security_policy``): 'self' alone does not
# cover websockets in every browser, and a bare ``ws: wss:`` would let an injected script send
# the page's data to any host.
_POLICY_PARTS = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "{connect_src}",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]
CONNECT_SRC_SELF = "connect-src 'self'"


def connect_src(request) -> str:
    """``connect-src``: this origin and the websocket origin of the same host.

    A page served over HTTPS may only open ``wss://`` (``ws://`` would be mixed content); over
    plain HTTP both are listed, so a TLS-terminating proxy that does not tell Django the scheme
    still gets live updates. A host Django refuses (``DisallowedHost``) gets 'self' only.
    """
    try:
        host = request.get_host()
    except DisallowedHost:
        return CONNECT_SRC_SELF
    if request.is_secure():
        return f"{CONNECT_SRC_SELF} wss://{host}"
    return f"{CONNECT_SRC_SELF} ws://{host} wss://{host}"


def content_security_policy(request) -> str:
    return "; ".join(_POLICY_PARTS).replace("{connect_src}", connect_src(request))


# The policy without any websocket origin, for a page that sets its own variant of the header
# (and has no live updates).
CONTENT_SECURITY_POLICY = "; ".join(_POLICY_PARTS).replace("{connect_src}", CONNECT_SRC_SELF)


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy and related headers to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = content_security_policy(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if _signed_in(request):
            # Pages of a signed-in person hold personal data: never keep them in shared caches.
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


def _signed_in(request) -> bool:
    """Whether the response may hold a signed-in person's data, without loading anyone: the
    person is known when something on the way asked who they are (every page does); if nothing
    did, a browser that sent a session cookie is answered as signed in (the safe side)."""
    user = request.__dict__.get("user")
    if user is None:
        return False
    if isinstance(user, LazyObject) and user._wrapped is empty:
        return settings.SESSION_COOKIE_NAME in request.COOKIES
    return user.is_authenticated
