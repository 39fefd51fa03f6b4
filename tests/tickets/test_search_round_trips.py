"""A search page outside a transaction (as every request runs in production): each of the
search's statements travels with its planner settings in one message, and the check of the
matching messages' tickets is part of the message statement. The settings end with each
statement, so the pooled connection serves the next request without them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tickets.ticket_helpers import new_ticket, note, reply, url

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="planner settings and multi-statement messages are PostgreSQL's; CI runs this on PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def _search(client, workspace, query: str):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(workspace), {"q": query})
    assert response.status_code == 200
    searched = [q["sql"] for q in captured.captured_queries if "to_tsquery" in q["sql"]]
    return sorted(t.number for t in response.context["tickets"]), searched


def test_a_search_sends_each_statement_with_its_settings_and_checks_tickets_in_the_same_statement(
    workspace, queue, other_queue, requester, agent, login
):
    by_subject = new_ticket(requester, queue, subject="Kerberos ticket expired", description="Hello")
    by_reply = new_ticket(requester, queue, subject="Cannot sign in", description="Hello")
    reply(by_reply, agent, body="Your kerberos realm was wrong")
    by_note = new_ticket(requester, queue, subject="VPN", description="Hello")
    note(by_note, agent, body="kerberos keytab renewed")
    # A queue the agent is not granted: its ticket's matching message must not make it a hit.
    hidden = new_ticket(requester, other_queue, subject="Elsewhere", description="kerberos elsewhere")
    client = login(agent)

    found, statements = _search(client, workspace, "kerberos")

    assert found == sorted([by_subject.number, by_reply.number, by_note.number])
    assert hidden.number not in found
    # Two statements: the subjects, newest first from the ordered word index (no settings: it
    # reads its own index in order), then the messages with their tickets' check, sent with the
    # settings, where there were BEGIN, set_config, three statements and COMMIT.
    assert len(statements) == 2, statements
    assert "tickets_subjectword" in statements[0] and not statements[0].startswith("SELECT set_config(")
    assert statements[1].startswith("SELECT set_config(") and "search_candidates" in statements[1]
    # Nothing of the search's settings is left on the connection for the next request.
    assert _setting("enable_indexscan") == "on"
    assert _setting("gin_fuzzy_search_limit") == "0"


def test_a_requester_search_outside_a_transaction_still_reads_no_internal_note(
    workspace, queue, requester, agent, login
):
    ticket = new_ticket(requester, queue, subject="Printer", description="It jams")
    reply(ticket, agent, body="Please restart the spooler")
    note(ticket, agent, body="spooler is a red herring, internal")
    client = login(requester)

    assert _search(client, workspace, "spooler")[0] == [ticket.number]
    assert _search(client, workspace, "herring")[0] == []
