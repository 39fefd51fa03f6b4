"""Smoke tests of the benchmark harness: the loader at a tiny size, the HTTP measurement against a
real server, and the bench-only headers staying out of production responses."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from bench import measure_http
from bench.environment import Target, child_env
from bench.middleware import QUERIES_HEADER, SERVER_MS_HEADER
from bench.prepare import describe, session_cookie
from bench.seed import (
    AGENT_QUEUES,
    BIG_THREAD,
    MAIN_SLUG,
    OTHER_SLUG,
    Plan,
    parse_size,
    seed_bench,
    seeded_size,
    size_label,
)
from bench.server import Server
from bench.views import FLOOR_BODY
from privacy.audit.models import AuditEvent
from tests.asgi_server import serving
from tickets.models import Attachment, Message, Ticket, TicketParticipant
from workspaces.models import Membership, QueueUserObjectPermission, Workspace

SIZE = 200


def quiet(*args):
    pass


def test_sizes_parse_and_label():
    assert parse_size("10k") == 10_000
    assert parse_size("1M") == 1_000_000
    assert parse_size("200") == 200
    assert size_label(100_000) == "100k"
    assert size_label(1_000_000) == "1m"
    plan = Plan.for_size(1_000_000)
    assert plan.big_numbers[-1] == 1_000_000
    assert plan.heavy == 1_000 and plan.erase == 200


@pytest.mark.django_db
def test_loader_respects_the_constraints_of_the_product():
    seed_bench(SIZE, log=quiet)

    main = Workspace.objects.get(slug=MAIN_SLUG)
    other = Workspace.objects.get(slug=OTHER_SLUG)
    numbers = list(Ticket.objects.filter(workspace=main).order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, SIZE + 1))
    assert main.last_ticket_number == SIZE
    assert other.last_ticket_number == Ticket.objects.filter(workspace=other).count() == 20
    assert seeded_size() == SIZE

    # Replies and notes: ~3 per ticket, the newest ticket is the 50-message thread.
    messages = Message.objects.filter(workspace=main)
    assert 2.0 <= messages.count() / SIZE <= 5.0
    assert messages.filter(ticket__number=SIZE).count() == BIG_THREAD
    assert messages.filter(kind="note").exists() and messages.filter(kind="reply").exists()
    # Nothing crosses a workspace: children carry their ticket's workspace.
    for model in (Message, Attachment, TicketParticipant):
        assert not model.objects.exclude(workspace_id=F("ticket__workspace_id")).exists()
    assert Attachment.objects.filter(workspace=main).count() > 0
    assert not Attachment.objects.exclude(ticket_id=F("message__ticket_id")).exists()

    # Agents hold guardian grants; the measured agent sees about half the tickets, one query.
    agent0 = Membership.objects.get(workspace=main, user__email=f"agent0@{MAIN_SLUG}.bench.test")
    assert QueueUserObjectPermission.objects.filter(user=agent0.user).count() == AGENT_QUEUES
    visible = Ticket.objects.visible_to(agent0).count()
    assert 0 < visible < SIZE
    assert Ticket.objects.visible_to(agent0).filter(number=SIZE).exists()

    # The heavy requester owns many tickets; requesters in general own several.
    fixture = describe(SIZE, ws_sessions=2)
    assert fixture["requester_ticket_count"] == Plan.for_size(SIZE).heavy
    assert fixture["erase_ticket_count"] == Plan.for_size(SIZE).erase
    per_requester = (
        Ticket.objects.filter(workspace=main).values("requester").annotate(n=Count("id")).order_by("-n")
    )
    assert per_requester[0]["n"] == Plan.for_size(SIZE).heavy
    assert len(fixture["ws_cookies"]) == 2

    # One audit event per ticket, chained exactly as audit_record chains them.
    assert AuditEvent.objects.filter(action="ticket.created").count() == SIZE + 20
    call_command("verify_audit_log", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # Ids and sequences were reset: the product's own writes carry on after the seed.
    from tickets.services import ticket_create

    requester = Membership.objects.get(workspace=main, user__email=f"requester5@{MAIN_SLUG}.bench.test").user
    created = ticket_create(
        workspace=main,
        queue=main.queues.first(),
        requester=requester,
        subject="After the seed",
        description="Still numbered in order.",
    )
    assert created.number == SIZE + 1


@pytest.fixture
def bench_server(transactional_db, settings):
    """The ASGI app with the bench settings' additions, served by uvicorn on loopback in-process."""
    from django.core.asgi import get_asgi_application

    from helpdesk.asgi import build_application

    settings.BENCH_QUERY_COUNT = True
    settings.ROOT_URLCONF = "bench.urls"
    settings.MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *settings.MIDDLEWARE]
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.DEBUG = False
    with serving(build_application(get_asgi_application())) as base:
        yield base


def test_http_measurement_reports_times_and_query_counts(bench_server):
    seed_bench(SIZE, log=quiet)
    agent = Membership.objects.get(user__email=f"agent0@{MAIN_SLUG}.bench.test").user
    client = measure_http.Client(bench_server)
    scenarios = [
        measure_http.Scenario("floor", "reference", "/bench/floor"),
        measure_http.Scenario("list_first", "agent list", f"/w/{MAIN_SLUG}/tickets/", session_cookie(agent)),
        measure_http.Scenario("missing", "not built", None, note=measure_http.NOT_AVAILABLE),
    ]
    results = measure_http.measure(client, scenarios, repeat=3, warmup=0)
    client.close()

    floor = results["floor"]
    assert floor["status"] == [200]
    assert floor["queries"] == 0
    assert floor["server_ms"]["n"] == 3 and floor["client_ms"]["n"] == 3
    assert floor["client_ms"]["median"] >= floor["server_ms"]["median"] > 0
    listing = results["list_first"]
    assert listing["status"] == [200]
    assert listing["queries"] >= 2  # the membership and the tickets at least
    assert results["missing"] == {
        "label": "not built",
        "available": False,
        "note": measure_http.NOT_AVAILABLE,
    }


def test_bench_headers_never_reach_production_responses(client, settings):
    assert not getattr(settings, "BENCH_QUERY_COUNT", False)
    response = client.get("/healthz")
    assert QUERIES_HEADER not in response.headers
    assert SERVER_MS_HEADER not in response.headers
    assert client.get("/bench/floor").status_code == 404


def test_server_subprocess_serves_the_floor(tmp_path):
    target = Target(None, "smoke")
    env = child_env(f"sqlite:///{tmp_path / 'smoke.sqlite3'}")
    env["HELPDESK_VAR_DIR"] = str(tmp_path)
    env.pop("REDIS_URL", None)  # the worker beside the servers has its own test
    server = Server(env, log_path=Path(tmp_path) / "server.log", startup_seconds=30)
    with server:
        client = measure_http.Client(server.base)
        response = client.get("/bench/floor")
        client.close()
    assert response.status == 200
    assert response.text == FLOOR_BODY
    assert response.queries == 0 and response.server_ms is not None
    assert target.name == "hd_bench_smoke"


@pytest.mark.django_db(transaction=True)
def test_the_mail_bench_measures_throughput_and_the_live_event(settings):
    from bench import mail_bench

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    result = mail_bench.run(messages=3, rounds=2, log=quiet)
    assert result["throughput"]["messages"] == 3 and result["throughput"]["new_tickets_per_s"] > 0
    assert result["live"]["rounds"] == 2 and result["live"]["median_ms"] < 30_000


def test_the_websocket_fan_out_is_measured_per_client_count(bench_server):
    """``measure_ws.run_counts`` (``make bench``, ``python -m bench.ws_fanout``): every client
    count it has sessions for gets the reply's arrival at the last client, with the load average;
    a count beyond the sessions says so instead of failing."""
    from bench import measure_ws

    seed_bench(SIZE, log=quiet)
    fixture = describe(SIZE, ws_sessions=3)
    results = measure_ws.run_counts(bench_server, fixture, counts=[1, 3, 4], rounds=2, log=quiet)
    for count in ("1", "3"):
        figures = results[count]
        assert figures["available"], figures
        assert (figures["clients"], figures["missing"]) == (int(count), 0)
        assert 0 < figures["last_client_median_ms"] <= figures["last_client_max_ms"]
        assert figures["last_client_p95_ms"] <= figures["last_client_max_ms"]
        assert len(figures["loadavg"]) == 3
    assert results["4"] == {"available": False, "note": "only 3 sessions"}
