"""A word in most messages: on PostgreSQL the search reads the newest messages instead of the
word's whole entry in the full-text index, and still finds only what the searcher may see."""

import pytest
from django.db import connection

from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply, url
from tickets import search

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the planner statistics it reads are PostgreSQL's"
)


def numbers(response):
    return sorted(t.number for t in response.context["tickets"])


def test_the_share_of_a_word_comes_from_the_index_statistics(workspace, queue, requester, agent):
    for n in range(30):
        ticket = new_ticket(requester, queue, subject=f"Ticket {n}", description="printer refund")
        reply(ticket, agent, body="refund sent" if n % 2 else "kerberos once")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_message")
    assert search._message_share(["refund"]) > 0.5
    assert search._message_share(["refund", "printer"]) > 0.3
    assert search._message_share(["zebracode"]) == 0.0


def test_a_common_word_finds_the_newest_matches_and_only_visible_ones(
    workspace, queue, other_queue, requester, agent, login, monkeypatch
):
    monkeypatch.setattr(search, "_message_share", lambda words: 1.0)
    monkeypatch.setattr(search, "COMMON_CANDIDATES", 3)
    tickets = [new_ticket(requester, queue, subject=f"Case {n}", description="the refund") for n in range(5)]
    hidden = new_ticket(requester, other_queue, subject="Elsewhere", description="refund elsewhere")
    note(tickets[0], agent, body="internal refund remark")
    found = numbers(login(agent).get(url(workspace), {"q": "refund"}))
    # The three newest matching messages: the note on the first ticket, the hidden ticket's
    # (dropped: another queue) and the fifth ticket's; the page says there may be more.
    assert found == sorted([tickets[0].number, tickets[4].number])
    assert hidden.number not in found
    other = agent_of(workspace, other_queue)
    assert numbers(login(other).get(url(workspace), {"q": "refund"})) == [hidden.number]
