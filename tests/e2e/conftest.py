"""Real-browser journeys: Chromium (Debian's package) driven by Playwright against the ASGI app
served by uvicorn on loopback, HTTP and websockets alike."""

import os
import socket
import threading
import time

import pytest

from tests.e2e import accessibility

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Playwright's sync API keeps an event loop running in the test thread, which Django would
# take for async code; the test thread's database calls are plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_asgi(transactional_db, settings):
    """The whole ASGI application (HTTP + websockets) on a loopback port, in this process,
    so tests share the test database and ``mail.outbox``."""
    import uvicorn
    from channels.layers import channel_layers
    from django.core.asgi import get_asgi_application

    from helpdesk.asgi import build_application

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    settings.DEBUG = False
    # Server threads close their database connection after each request, so the test
    # database can be dropped at the end of the run.
    from django.db import connections

    db_settings = connections.settings["default"]
    previous_max_age = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    if "pool" in db_settings.get("OPTIONS", {}):
        # Start from a full PostgreSQL pool, whatever threads of earlier tests left checked out.
        connections["default"].close_pool()
    # The server's consumers build their channel layer from this test's settings, in the
    # server's event loop; none cached by an earlier test (or its loop) is reused.
    channel_layers.backends.clear()
    # A fresh Django handler, so its middleware sees the overridden settings.
    app = build_application(get_asgi_application())
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 seconds")
        time.sleep(0.02)
    accessibility.app_origins.add(origin)
    try:
        yield origin
    finally:
        accessibility.app_origins.discard(origin)
        server.should_exit = True
        thread.join(timeout=10)
        db_settings["CONN_MAX_AGE"] = previous_max_age
        channel_layers.backends.clear()  # built in the server's loop, which is gone now
        # A fresh PostgreSQL pool for the next test: connections the server's threads still
        # held when they stopped would otherwise stay counted against the pool's maximum.
        if "pool" in db_settings.get("OPTIONS", {}):
            connections["default"].close_pool()


@pytest.fixture
def fresh_channel_layer(settings):
    """A channel layer of the test's own, built from its settings (on Redis when REDIS_URL is
    set, its socket timeout included), flushed and dropped from channels' cache afterwards: a
    journey whose pages go live asks for it with ``usefixtures``, so no layer (or its event
    loop) cached by an earlier test is reused."""
    from tests.tickets.test_live import own_channel_layers

    with own_channel_layers(settings):
        yield


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def accessibility_audit(monkeypatch):
    """Every app page a journey visits must pass axe's WCAG 2.2 A/AA rules (tests/e2e/accessibility.py)."""
    auditor = accessibility.Auditor()
    auditor.install(monkeypatch)
    return auditor


@pytest.fixture
def new_page(chromium, accessibility_audit):
    """Open a fresh browser context (its own cookies) per call; closed after the test, once its
    open pages passed the accessibility check."""
    contexts = []

    def make(width=1280, height=900):
        context = chromium.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    try:
        accessibility_audit.finish(contexts)
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def sign_in():
    def do_sign_in(page, base_url, email, password):
        page.goto(f"{base_url}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")

    return do_sign_in


def off_loop(function, *args, **kwargs):
    """Run ``function`` in a plain thread and return its result.

    Playwright's event loop runs in the test thread, and code that sends to the channel layer
    (async_to_sync) refuses to run beside a running loop, so setup that calls services goes here.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            # The thread's connection goes back (to PostgreSQL's pool, or closed): a thread that
            # ends holding one would keep a pool slot taken for the rest of the run.
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def screenshot(page, name: str) -> str:
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.abspath(os.path.join(ARTIFACTS, f"{name}.png"))
    page.screenshot(path=path, full_page=True)
    return path
