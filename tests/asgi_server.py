"""An ASGI application served by uvicorn on a free loopback port, in a thread of this process
(so the tests share its test database)."""

import threading
import time
from contextlib import contextmanager

from bench.server import free_port


@contextmanager
def serving(app):
    """Yield the base URL while uvicorn serves ``app``; stop it on exit."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
