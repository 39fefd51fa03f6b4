import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Django must be set up before anything imports models (consumers, middleware).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from helpdesk.heap import freeze_startup_heap  # noqa: E402
from helpdesk.routing import websocket_urlpatterns  # noqa: E402
from workspaces.two_factor.middleware import SecondFactorWebsocketGate  # noqa: E402


async def lifespan(scope, receive, send):
    """The server's startup and shutdown (uvicorn sends them; a test's communicator does not):
    the loaded heap is frozen at startup (helpdesk/heap.py)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                freeze_startup_heap()
            except Exception as error:  # noqa: BLE001  # any failure: the server says why, and stops
                await send({"type": "lifespan.startup.failed", "message": f"{type(error).__name__}: {error}"})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def build_application(http_app=None):
    """HTTP through Django; websockets authenticated by session, behind the Origin check; the
    server's lifespan events."""
    return ProtocolTypeRouter(
        {
            "lifespan": lifespan,
            "http": http_app or django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(SecondFactorWebsocketGate(URLRouter(websocket_urlpatterns)))
            ),
        }
    )


application = build_application()
