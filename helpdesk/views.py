import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from workspaces.selectors import memberships_of

logger = logging.getLogger(__name__)


@login_required
@require_GET
def home(request):
    """Send a person to their workspace, or show the list when they have several."""
    memberships = memberships_of(user=request.user)
    if len(memberships) == 1:
        return redirect("workspace_home", slug=memberships[0].workspace.slug)
    return render(request, "home.html", {"memberships": memberships})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        logger.warning("healthz: database unreachable", exc_info=True)
        return False


def _channel_layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        # A plain channel name, not a process-specific one ("...!..."): the Redis layer serves
        # those through one receive loop per process, which a websocket consumer may own, so two
        # checks at once (or a check beside a live socket) would fail with "two event loops".
        channel = f"healthz.{uuid.uuid4().hex}"
        async_to_sync(layer.send)(channel, {"type": "healthz.ping"})
        message = async_to_sync(layer.receive)(channel)
        return message.get("type") == "healthz.ping"
    except Exception:  # noqa: BLE001
        logger.warning("healthz: channel layer unreachable", exc_info=True)
        return False


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database_ok(), "channel_layer": _channel_layer_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
    )


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def forbidden(request, exception=None):
    return render(request, "errors/403.html", status=403)


def server_error(request):
    return render(request, "errors/500.html", status=500)
