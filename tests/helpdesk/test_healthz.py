import httpx
import pytest

from tests.helpdesk.conftest import manage


@pytest.mark.django_db
def test_healthz_reports_database_and_channel_layer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "channel_layer": True}}
    assert response["Cache-Control"].startswith("max-age=0")


def test_booted_asgi_app_answers_healthz_and_serves_hashed_compressed_static(production_env, asgi_server):
    manage(production_env, "collectstatic", "--no-input")
    base = asgi_server(production_env)

    health = httpx.get(f"{base}/healthz")
    assert health.status_code == 200
    assert health.json()["checks"] == {"database": True, "channel_layer": True}
    assert "default-src 'self'" in health.headers["content-security-policy"]

    login = httpx.get(f"{base}/accounts/login/")
    assert login.status_code == 200
    hashed = [
        part
        for part in login.text.split('"')
        if part.startswith("/static/css/app.") and part.endswith(".css")
    ]
    assert hashed and hashed[0] != "/static/css/app.css", "the page must link the hashed stylesheet"

    css = httpx.get(f"{base}{hashed[0]}", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200
    assert css.headers["content-encoding"] == "gzip"
    assert "immutable" in css.headers["cache-control"]

    # The tab's icon: linked from every page (a browser asks for /favicon.ico otherwise, a 404).
    icons = [part for part in login.text.split('"') if part.startswith("/static/favicon.")]
    assert icons, "the page must link its icon"
    icon = httpx.get(f"{base}{icons[0]}")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


def test_health_checks_at_once_all_pass_on_redis(settings):
    """Eight probes at once, each from its own thread and event loop: the Redis layer serves a
    process-specific channel through one receive loop, so a check that received on one failed
    every probe but the first ("two event loops") under a load balancer's parallel probes."""
    from concurrent.futures import ThreadPoolExecutor

    from helpdesk.views import _channel_layer_ok
    from tests.tickets.test_live import own_channel_layers

    with own_channel_layers(settings, forced_redis=True), ThreadPoolExecutor(8) as probes:
        results = list(probes.map(lambda _: _channel_layer_ok(), range(40)))

    assert results == [True] * 40
