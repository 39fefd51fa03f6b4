"""Under ASGI the database connections stay bounded, however many requests are served.

With persistent per-thread connections (CONN_MAX_AGE>0) every request on a fresh ASGI thread
opened a connection and left it open until PostgreSQL refused new clients. The settings now use
Django's psycopg pool on PostgreSQL: 200 requests, 8 at a time, through uvicorn must open no more
server connections than the pool holds, and leave no more than that open. The same holds for
the production layout's pages (README "Production": Django's WSGI application in threads, as
gunicorn's gthread workers run it): each thread's connection goes back to the pool when its
request finishes.
"""

import socketserver
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection

from bench.prepare import session_cookie
from bench.server import free_port
from helpdesk.compiled_queries import custom_plans
from tests.asgi_server import serving
from tests.factories import TicketFactory

pytestmark = pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the pool is PostgreSQL's (SQLite has no server connections); CI runs this on PostgreSQL",
)

REQUESTS = 200
CONCURRENCY = 8


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serving_wsgi(app):
    """Django's WSGI application, one thread per connection (gthread's model), on loopback."""
    server = make_server("127.0.0.1", free_port(), app, ThreadingWSGIServer, QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(params=["asgi", "wsgi"])
def asgi_server(request, transactional_db, settings):
    from django.core.asgi import get_asgi_application
    from django.core.wsgi import get_wsgi_application

    from helpdesk.asgi import build_application

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.DEBUG = False
    if request.param == "wsgi":
        with serving_wsgi(get_wsgi_application()) as base:
            yield base
        return
    with serving(build_application(get_asgi_application())) as base:
        yield base


@pytest.fixture
def server_connections_opened(monkeypatch):
    """Counts every new PostgreSQL connection this process opens (Django's and the pool's)."""
    opened = []
    # The pool connects through the class method; Django without a pool through psycopg.connect
    # (bound to the class at import, so patching the class does not reach it): count both.
    original_classmethod = psycopg.Connection.connect.__func__
    original_function = psycopg.connect

    def counting_classmethod(cls, *args, **kwargs):
        opened.append(threading.get_ident())
        return original_classmethod(cls, *args, **kwargs)

    def counting_function(*args, **kwargs):
        opened.append(threading.get_ident())
        return original_function(*args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(counting_classmethod))
    monkeypatch.setattr(psycopg, "connect", counting_function)
    return opened


def open_sessions_on_test_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_requests_through_the_server_reuse_a_bounded_pool(
    asgi_server, server_connections_opened, agent, queue, requester
):
    pool = django_settings.DATABASES["default"]["OPTIONS"]["pool"]
    TicketFactory.create_batch(5, queue=queue, requester=requester.user)
    cookie = session_cookie(agent.user)
    list_url = f"{asgi_server}/w/{queue.workspace.slug}/tickets/"

    def get(i):
        # Half signed-in list pages (session, membership, tickets), half health checks.
        if i % 2:
            return httpx.get(list_url, headers={"cookie": cookie}, timeout=30).status_code
        return httpx.get(f"{asgi_server}/healthz", timeout=30).status_code

    before = len(server_connections_opened)
    with ThreadPoolExecutor(CONCURRENCY) as workers:
        statuses = list(workers.map(get, range(REQUESTS)))

    assert statuses.count(200) == REQUESTS
    opened = len(server_connections_opened) - before
    assert opened <= pool["max_size"], f"{opened} connections opened for {REQUESTS} requests"
    assert open_sessions_on_test_database() <= pool["max_size"]


@pytest.mark.django_db
def test_a_statement_run_again_and_again_on_a_pooled_connection_is_planned_once():
    """Server-side binding (README "Database connections", DB_PREPARE): PostgreSQL keeps the
    plan of a statement a page runs every time, instead of planning it on every request."""

    def prepared(sql_part: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{sql_part}%"]
            )
            return cursor.fetchone()[0]

    ticket = TicketFactory()
    for _ in range(6):
        assert list(type(ticket).objects.filter(pk=ticket.pk, workspace_id=ticket.workspace_id)) == [ticket]
    assert prepared('"tickets_ticket"."workspace_id" = $2') == 1


def _prepared(sql_part: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{sql_part}%"]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_statement_run_under_custom_plans_is_never_prepared_and_the_rest_still_are():
    """``custom_plans``: a query whose best plan depends on its values (the ticket list) is
    planned for them on every run, never from a generic plan; the connection prepares the
    other statements afterwards as before."""
    ticket = TicketFactory()
    for _ in range(8):
        with custom_plans():
            assert list(type(ticket).objects.filter(pk=ticket.pk, number=ticket.number)) == [ticket]
    assert _prepared('"tickets_ticket"."number" = $1') == 0
    assert connection.connection.prepare_threshold == 5
    for _ in range(6):
        assert list(type(ticket).objects.filter(pk=ticket.pk, number=ticket.number)) == [ticket]
    assert _prepared('"tickets_ticket"."number" = $1') == 1


def _prepared_parameters(sql_part: str) -> list[str]:
    """The parameter types of each statement prepared on this connection holding ``sql_part``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parameter_types::text FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{sql_part}%"],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_search_statement_whose_best_plan_depends_on_its_words_is_never_prepared(
    client, agent, queue, requester
):
    """A generic plan cannot know how rare a word is (at 1M tickets it read 180 ms for a word
    the plan for that word finds in 1.2 ms): planned for its words on every search, while the
    page's other statements still are prepared. The ordered word index's statement is prepared
    on purpose: it reads the index in order whatever the words (one plan: 1.1 ms for a word in
    5,000 subjects at 1M tickets, as planned for it, without the 0.5 ms of planning)."""
    TicketFactory.create_batch(
        3, queue=queue, requester=requester.user, assignee=agent.user, subject="Printer jam"
    )
    client.force_login(agent.user)
    for query in ["printer"] * 4 + ["printer out"] * 4:
        assert client.get(f"/w/{queue.workspace.slug}/tickets/?q={query}", secure=True).status_code == 200
    assert _prepared("to_tsquery") == _prepared("tickets_subjectword") == 1
    assert _prepared('FROM "django_session"') == 1


@pytest.mark.django_db
def test_the_list_page_statement_is_prepared_with_its_values_written_in(client, agent, queue, requester):
    """At 100k tickets the page query's generic plan (parameters of unknown value) sorted every
    open ticket of the agent: 24 ms, against 1.4 ms planned for the agent's values. Nothing in
    the first page's statement changes between views, so its values are written into it: the one
    plan PostgreSQL keeps is made for them, and no view plans it again."""
    TicketFactory.create_batch(
        3, queue=queue, requester=requester.user, assignee=agent.user, subject="Printer jam"
    )
    client.force_login(agent.user)
    for _ in range(8):
        assert client.get(f"/w/{queue.workspace.slug}/tickets/", secure=True).status_code == 200
    assert _prepared_parameters('ORDER BY "tickets_ticket"."updated_at" DESC') == ["{}"]


@pytest.mark.django_db
def test_view_counts_are_prepared_with_their_filters_written_in(client, agent, queue, requester):
    """The views' counts, a person's saved views among them, are one statement with its values
    written in (a generic plan of 16 counts read 58 ms at 1M tickets where the plan for the
    values read 43): prepared without parameters, another statement once a view is saved."""
    from tickets.saved_view_services import saved_view_create

    TicketFactory.create_batch(2, queue=queue, requester=requester.user)
    client.force_login(agent.user)
    url = f"/w/{queue.workspace.slug}/tickets/"
    for _ in range(8):
        assert client.get(url, secure=True).status_code == 200
    assert _prepared_parameters("capped_count") == ["{}"]

    saved_view_create(membership=agent, name="Waiting", params={"status": ["pending"]})
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # psycopg forgets its prepared statements too
    for _ in range(8):
        response = client.get(url, secure=True)
    assert _prepared_parameters("capped_count") == ["{}"]
    assert "Waiting" in response.content.decode()


@pytest.mark.django_db
def test_the_pool_hands_out_the_connection_returned_last_so_its_kept_plans_serve_the_next_request():
    """A queue would take the connection idle the longest: sequential requests went round every
    pooled connection, and each planned the page's statements anew until it had kept their plans
    (the ticket page: 33 views to get from 12.5 to 8.5 ms round three connections)."""
    from helpdesk.postgresql.base import RecentFirstPool

    assert isinstance(connection.pool, RecentFirstPool)
    params = {**connection.get_connection_params(), "autocommit": True}
    with RecentFirstPool(kwargs=params, min_size=3, max_size=3, open=True) as pool:
        pool.wait()
        first, second, third = (pool.getconn() for _ in range(3))
        for conn in (first, second, third):
            pool.putconn(conn)
        taken = [pool.getconn() for _ in range(3)]
        assert taken == [third, second, first]
        for conn in (first, second, third):
            pool.putconn(conn)
        # One at a time, the one returned last every time (a queue would go round all three).
        backends = set()
        for _ in range(6):
            with pool.connection() as conn:
                backends.add(conn.info.backend_pid)
        assert backends == {third.info.backend_pid}
