"""A server process freezes its loaded heap, so the collector's full passes skip it
(helpdesk/heap.py); a process that only imports the application (a test) is left as it is.

Each case runs in a child process: a frozen heap lasts as long as its process.
"""

import json

from tests.helpdesk.conftest import run_python

# What a full collection walks, measured in the child: the objects the collector tracks outside
# the frozen generation (gc.get_objects leaves that generation out).
_REPORT = (
    "import gc, json, sys; "
    "print(json.dumps({'frozen': gc.get_freeze_count(), 'walked': len(gc.get_objects()),"
    " 'views_loaded': 'tickets.views' in sys.modules}))"
)


# Sends the ASGI application the lifespan events of its arguments, as uvicorn does (README
# "Production", --lifespan on), and returns what the application answered.
_LIFESPAN = (
    "import asyncio, json, helpdesk.asgi as asgi\n"
    "def lifespan(*events):\n"
    "    async def main():\n"
    "        inbox, sent = asyncio.Queue(), []\n"
    "        async def send(message):\n"
    "            sent.append(message)\n"
    "        for event in events:\n"
    "            await inbox.put({'type': event})\n"
    "        await asgi.application({'type': 'lifespan'}, inbox.get, send)\n"
    "        return sent\n"
    "    return asyncio.run(main())\n"
)


def _run(env, code: str) -> dict:
    result = run_python(env, "-c", code)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _assert_frozen_with_every_view_loaded(seen: dict) -> None:
    assert seen["views_loaded"], "the URL patterns (and their views) load before the freeze"
    assert seen["frozen"] > 50_000
    # A full pass now walks only what came after startup: a few hundred objects, not the
    # process's hundred and fifty thousand.
    assert seen["walked"] < seen["frozen"] / 20


def test_the_wsgi_server_s_heap_is_frozen_with_every_view_loaded(production_env):
    # gunicorn, granian and runserver import this module in each worker process.
    _assert_frozen_with_every_view_loaded(_run(production_env, "import helpdesk.wsgi; " + _REPORT))


def test_the_asgi_server_freezes_its_heap_at_lifespan_startup(production_env):
    code = (
        _LIFESPAN + "import gc\n"
        "assert gc.get_freeze_count() == 0, 'importing the application freezes nothing'\n"
        "sent = [m['type'] for m in lifespan('lifespan.startup', 'lifespan.shutdown')]\n"
        "assert sent == ['lifespan.startup.complete', 'lifespan.shutdown.complete'], sent\n" + _REPORT
    )
    _assert_frozen_with_every_view_loaded(_run(production_env, code))


def test_a_process_that_only_imports_the_asgi_application_is_not_frozen(production_env):
    # The websocket tests import helpdesk.asgi into the test process: nothing may stay frozen
    # there (uncollectable for the rest of the run).
    seen = _run(production_env, "import helpdesk.asgi; " + _REPORT)

    assert seen["frozen"] == 0


def test_a_failed_startup_is_reported_to_the_asgi_server(production_env):
    # uvicorn then logs the message and exits instead of serving without what it loads.
    code = (
        _LIFESPAN + "def broken():\n"
        "    raise RuntimeError('the URL patterns did not load')\n"
        "asgi.freeze_startup_heap = broken\n"
        "print(json.dumps(lifespan('lifespan.startup')))\n"
    )
    sent = _run(production_env, code)

    failed = {"type": "lifespan.startup.failed", "message": "RuntimeError: the URL patterns did not load"}
    assert sent == [failed]
