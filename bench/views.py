import os
import time

from django.conf import settings
from django.http import HttpResponse

FLOOR_BODY = "ok"
# tests/bench: a request held in one worker until the test lets it go (files in VAR_DIR).
HOLD_STARTED, HOLD_RELEASE = "bench-hold-started", "bench-hold-release"
HOLD_LIMIT = 60.0


def _answer(body: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain")
    response["X-Bench-Worker"] = str(os.getpid())  # which server process answered
    return response


def floor(request):
    """The reference row: a bare view returning a constant, through the same middleware and server."""
    return _answer(FLOOR_BODY)


def hold(request):
    """Keep this worker's thread busy until the test creates the release file (at most
    HOLD_LIMIT seconds), saying when it started: how a test makes one worker busy."""
    var = settings.VAR_DIR
    (var / HOLD_STARTED).write_text(str(os.getpid()))
    deadline = time.monotonic() + HOLD_LIMIT
    while not (var / HOLD_RELEASE).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return _answer("released")
