"""The bench's serving layouts (bench/server.py) and its Markdown page (bench/report.py)."""

import os
import threading
import time
from pathlib import Path

import pytest

from bench import measure_http
from bench.environment import child_env
from bench.report import growth_table, render_markdown
from bench.server import DEFAULT_LAYOUT, Server, parse_layout
from bench.views import FLOOR_BODY, HOLD_RELEASE, HOLD_STARTED


def test_layouts_parse_and_refuse_unknown_names():
    assert parse_layout("uvicorn-2") == parse_layout("uvicorn-2")
    assert (parse_layout("uvicorn-2").workers, parse_layout("uvicorn-2").split) == (2, False)
    gunicorn = parse_layout("gunicorn-3x4")
    assert (gunicorn.server, gunicorn.workers, gunicorn.threads, gunicorn.split) == ("gunicorn", 3, 4, True)
    assert parse_layout(DEFAULT_LAYOUT).split  # the production layout keeps websockets apart
    for wrong in ("gunicorn-2", "daphne-1", "uvicorn-2x4", ""):
        with pytest.raises(ValueError):
            parse_layout(wrong)


@pytest.mark.parametrize("layout", ["gunicorn-1x2", "uvicorn-1"])
def test_each_layout_serves_pages_and_an_asgi_process_for_websockets(tmp_path, layout):
    env = child_env(f"sqlite:///{tmp_path / 'smoke.sqlite3'}")
    env["HELPDESK_VAR_DIR"] = str(tmp_path)
    env.pop("REDIS_URL", None)  # no broker: no Celery worker beside the servers
    server = Server(env, log_path=Path(tmp_path) / "server.log", layout=layout, startup_seconds=30)
    with server:
        assert (server.ws_base != server.base) is parse_layout(layout).split
        for base in (server.base, server.ws_base):
            client = measure_http.Client(base)
            response = client.get("/bench/floor")
            client.close()
            assert response.status == 200 and response.text == FLOOR_BODY
        pids = [process.popen.pid for process in server.processes]
    assert len(pids) == (2 if parse_layout(layout).split else 1)
    assert server.processes == [] and server.worker is None


def test_a_worker_whose_threads_are_all_busy_leaves_the_next_request_to_another(tmp_path):
    """The production layout's gunicorn takes no more connections per worker than it has
    threads (README "Production"): one worker could otherwise take every keep-alive connection
    and run all requests on one core while the other worker idles."""
    env = child_env(f"sqlite:///{tmp_path / 'smoke.sqlite3'}")
    env["HELPDESK_VAR_DIR"] = str(tmp_path)
    env.pop("REDIS_URL", None)
    server = Server(env, log_path=Path(tmp_path) / "server.log", layout="gunicorn-2x1", startup_seconds=30)
    held = {}

    def hold():
        client = measure_http.Client(server.base, timeout=90)
        held["response"] = client.get("/bench/hold")
        client.close()

    with server:
        holder = threading.Thread(target=hold)
        holder.start()
        started = tmp_path / HOLD_STARTED
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # until the held request is in a worker
        try:
            assert started.exists(), "the held request never reached a worker"
            busy = started.read_text()
            client = measure_http.Client(server.base, timeout=30)
            answered = client.get("/bench/floor")
            client.close()
        finally:
            (tmp_path / HOLD_RELEASE).write_text("go")
            holder.join(90)
    # Answered while the first worker was still held, by the other one.
    assert answered.status == 200 and answered.headers["x-bench-worker"] != busy
    assert held["response"].headers["x-bench-worker"] == busy


def test_with_a_redis_the_servers_get_a_celery_worker_on_it_as_in_production(tmp_path):
    """A reply's emails leave the request as a queued task in production; the bench serves the
    same way when it has a Redis: a broker on it and one worker that answers on that broker."""
    from celery import Celery

    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    env = child_env(f"sqlite:///{tmp_path / 'smoke.sqlite3'}")
    env.update({"HELPDESK_VAR_DIR": str(tmp_path), "REDIS_URL": redis_url})
    env.pop("CELERY_BROKER_URL", None)
    server = Server(env, log_path=Path(tmp_path) / "server.log", layout="gunicorn-1x2", startup_seconds=30)
    probe = Celery("bench-probe", broker=redis_url)
    with server:
        assert server.env["CELERY_BROKER_URL"] == redis_url
        worker = server.worker.popen
        deadline, replies = time.monotonic() + 60, []
        while not replies and time.monotonic() < deadline and worker.poll() is None:
            replies = probe.control.ping(timeout=1.0)
        log = server.worker.log_path.read_text()[-2000:]
        assert replies, f"the worker never answered on the broker:\n{log}"
    assert worker.poll() is not None  # stopped with the servers


def results(**run):
    base_run = {
        "label": "10k",
        "counts": {"tickets": 10_100, "messages": 30_519, "audit_events": 10_100},
        "seed_seconds": 31.5,
        "loadavg_start": [7.0, 3.0, 1.2],
        "loadavg_end": [7.5, 3.9, 1.6],
    }
    data = {
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "dirty": False,
        "date": "2026-12-02T12:41:57+00:00",
        "machine": {"cpu": "AMD EPYC", "cpus": 2, "memory_gb": 23.5, "python": "3.11.7", "platform": "Linux"},
        "database": "postgresql",
        "channel_layer": "redis",
        "serve": {"layout": "gunicorn-2x4", "description": parse_layout("gunicorn-2x4").describe()},
        "sizes": ["10k"],
        "options": {"repeat": 20},
        "runs": {"10k": {**base_run, **run}},
    }
    data["table"] = growth_table(data)
    return data


def test_the_markdown_page_has_the_machine_date_commit_load_and_every_table():
    http = {
        "floor": {
            "available": True,
            "label": "floor",
            "server_ms": {"median": 10.0, "p95": 12.0},
            "queries": 2,
        },
        "list_first": {
            "available": True,
            "label": "agent ticket list",
            "server_ms": {"median": 150.0, "p95": 200.0},
            "queries": 18,
        },
    }
    wrk = {"available": True, "requests_per_s": 42.0, "p50_ms": 100, "p95_ms": 200, "p99_ms": 300}
    wrk |= {"errors": 0, "connections": 8}
    job = {"available": True, "label": "verify_audit_log", "seconds": 2.0, "items": 10_100, "unit": "events"}
    job |= {"items_per_s": 5050, "peak_rss_mb": 80}
    page = render_markdown(
        results(
            http=http, load=wrk, load_lists={**wrk, "requests_per_s": 30.0}, jobs={"verify_audit_log": job}
        )
    )
    assert "2026-12-02T12:41:57+00:00" in page and "0123456789abcdef0123456789abcdef01234567" in page
    assert "AMD EPYC, 2 CPUs" in page and "7.0 / 3.0 / 1.2 → 7.5 / 3.9 / 1.6" in page
    assert "`gunicorn-2x4`" in page
    for section in ("## Pages", "## Throughput", "## Audit"):
        assert section in page
    assert "15.0× floor" in page  # one decimal: 4.6× and 5.4× are not both "5×"
    assert "42 req/s" in page and "30 req/s" in page
    assert "5,050/s" in page
    # Every table row has as many cells as its header.
    for block in page.split("\n\n"):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines:
            assert {line.count(" | ") for line in lines} == {lines[0].count(" | ")}, block
