"""A word in most messages: on PostgreSQL the search reads the newest messages instead of the
word's whole entry in the full-text index, and still finds only what the searcher may see."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import QueueFactory
from tests.plans import json_plan, plan_nodes
from tests.tickets.test_search import count_line
from tests.tickets.ticket_helpers import agent_of, member, new_ticket, note, reply, url
from tickets import search
from tickets.access import visible_tickets
from tickets.models import Message, MessageKind
from tickets.selectors import searchable_messages
from workspaces.models import Role

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
    search.forget_word_shares()
    assert search._message_share(["refund"]) > 0.5
    assert search._message_share(["refund", "printer"]) > 0.3
    assert search._message_share(["zebracode"]) == 0.0


def test_the_statistics_are_read_once_for_many_searches(workspace, queue, requester, agent):
    new_ticket(requester, queue, subject="Printer", description="printer refund")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_message")
    search.forget_word_shares()
    with CaptureQueriesContext(connection) as captured:
        for word in ("printer", "refund", "printer"):
            search.search(visible_tickets(agent), searchable_messages(agent), word, staff=True)
    assert sum("pg_stats" in q["sql"] for q in captured.captured_queries) == 1


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


def test_a_common_word_matches_word_starts_of_every_word_in_any_language(
    workspace, queue, requester, agent, login, monkeypatch
):
    monkeypatch.setattr(search, "_message_share", lambda words: 1.0)
    both = new_ticket(requester, queue, subject="One", description="Printer refunds: ÉTÉ prices")
    one = new_ticket(requester, queue, subject="Two", description="printer only, été")
    inside = new_ticket(requester, queue, subject="Three", description="misprinter and unrefunded")
    client = login(agent)
    assert numbers(client.get(url(workspace), {"q": "printer refund"})) == [both.number]
    assert numbers(client.get(url(workspace), {"q": "été printer"})) == sorted([both.number, one.number])
    assert inside.number not in numbers(client.get(url(workspace), {"q": "printer"}))


def _messages(ticket, count, *, newest, body=lambda n: "refund asked again"):
    """``count`` messages on ``ticket``, one a minute, the last ``newest``."""
    Message.objects.bulk_create(
        Message(
            workspace_id=ticket.workspace_id,
            ticket=ticket,
            kind=MessageKind.REPLY,
            body=body(n),
            created_at=newest - timedelta(minutes=n),
        )
        for n in range(count)
    )


def _message_rows_read(agent, candidates: int) -> int:
    """Rows of the messages table the common-word search of "refund" reads, as EXPLAIN ANALYZE
    counts them, planned under the settings the search itself set for its transaction."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_message")
    search.forget_word_shares()
    with CaptureQueriesContext(connection) as captured:
        search.search(visible_tickets(agent), searchable_messages(agent), "refund", staff=True)
    queries = [q["sql"] for q in captured.captured_queries]
    (sql,) = [q for q in queries if '"tickets_message"' in q and q.endswith(f"LIMIT {candidates}")]
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in (q for q in queries if "set_config" in q):
            cursor.execute(setting)
        plan = json_plan(sql, analyze=True)
    return sum(
        node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        for node in plan_nodes(plan)
        if node.get("Relation Name") == "tickets_message"
    )


def test_a_common_word_reads_only_the_workspaces_newest_messages(
    workspace, queue, other_workspace, requester, agent, monkeypatch
):
    """Another workspace's newer messages (the newest of the whole table) are not read and
    dropped: the search reads its own workspace's, newest first, and stops at
    COMMON_CANDIDATES matches."""
    monkeypatch.setattr(search, "_message_share", lambda words: 1.0)
    monkeypatch.setattr(search, "COMMON_CANDIDATES", 5)
    now = timezone.now()
    mine = new_ticket(requester, queue, subject="Ours", description="first words")
    _messages(mine, 300, newest=now - timedelta(days=1))
    other_queue = QueueFactory(workspace=other_workspace, name="Theirs")
    theirs = new_ticket(member(other_workspace, Role.REQUESTER), other_queue, subject="Theirs")
    _messages(theirs, 3000, newest=now)
    found = search.search(visible_tickets(agent), searchable_messages(agent), "refund", staff=True)
    assert found.ranked_ids == [mine.pk]
    # Five matches of its own and a few rows past them, not the other workspace's 3,000.
    assert _message_rows_read(agent, 5) <= 10


def test_a_common_word_is_not_read_whole_and_sorted_when_the_planner_thinks_it_rare(
    workspace, queue, requester, agent, monkeypatch
):
    """PostgreSQL guesses a word prefix is in a few percent of the messages. Asked for the
    newest 500 matches, it would then read all of the workspace's messages, computing each
    one's words, and sort them; the search has it read them newest first instead."""
    monkeypatch.setattr(search, "_message_share", lambda words: 1.0)
    ticket = new_ticket(requester, queue, subject="Ours", description="first words")
    _messages(ticket, 4000, newest=timezone.now(), body=lambda n: "refund asked" if n % 2 else "other words")
    read = _message_rows_read(agent, search.COMMON_CANDIDATES)
    # 500 matches among every second message, not all 4,000.
    assert read <= 2 * search.COMMON_CANDIDATES + 10, read


def _analyze_subjects():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    search.forget_word_shares()


def _found_by(agent, query):
    hits = search.search(visible_tickets(agent), searchable_messages(agent), query, staff=True)
    return hits, set(hits.ranked_ids)


def test_a_whole_word_in_many_subjects_is_matched_before_the_words_it_starts(
    workspace, queue, requester, agent, monkeypatch
):
    # More subjects hold "printer" itself than the search collects: the subjects it shows are
    # those, not "printers" ones (matching every word starting "printer" costs the index more),
    # although the "printers" ones come first in the table.
    monkeypatch.setattr(search, "SEARCH_CAP", 3)
    starts = [
        new_ticket(requester, queue, subject=f"Printers {n} offline", description="Help.") for n in range(2)
    ]
    whole = [
        new_ticket(requester, queue, subject=f"Printer {n} jammed", description="Help.") for n in range(8)
    ]
    _analyze_subjects()
    assert search._subjects_holding(["printer"]) >= search.EXACT_FIRST * search.SEARCH_CAP
    hits, found = _found_by(agent, "printer")
    assert hits.capped and len(found) == 3
    assert found <= {t.pk for t in whole} and not found & {t.pk for t in starts}


def test_whole_words_that_find_fewer_than_the_cap_give_way_to_their_starts(
    workspace, other_workspace, queue, requester, agent, monkeypatch
):
    # The statistics count every workspace's subjects: here most "printer" subjects are in
    # another workspace, so the whole word finds one subject; its starts find the others.
    monkeypatch.setattr(search, "SEARCH_CAP", 3)
    elsewhere_queue = QueueFactory(workspace=other_workspace)
    elsewhere = member(other_workspace, Role.REQUESTER)
    for n in range(10):
        new_ticket(elsewhere, elsewhere_queue, subject=f"Printer {n}", description="Help.")
    one = new_ticket(requester, queue, subject="Printer jammed", description="Help.")
    starts = [
        new_ticket(requester, queue, subject=f"Printers {n} offline", description="Help.") for n in range(2)
    ]
    _analyze_subjects()
    assert search._subjects_holding(["printer"]) >= search.EXACT_FIRST * search.SEARCH_CAP
    hits, found = _found_by(agent, "printer")
    assert found == {one.pk, *(t.pk for t in starts)} and hits.capped


def test_a_rarer_whole_word_is_matched_by_its_starts_at_once(workspace, queue, requester, agent, monkeypatch):
    monkeypatch.setattr(search, "SEARCH_CAP", 3)
    exact = new_ticket(requester, queue, subject="Printer jammed", description="Help.")
    plural = new_ticket(requester, queue, subject="Printers offline", description="Help.")
    _analyze_subjects()
    with CaptureQueriesContext(connection) as captured:
        hits, found = _found_by(agent, "printer")
    assert found == {exact.pk, plural.pk} and not hits.capped
    # The subjects were matched once, on the word's starts: the statistics say the whole word
    # is in too few subjects to fill the cap alone.
    subject_statements = [q for q in captured if '"tickets_ticket"."subject") @@' in q["sql"]]
    assert len(subject_statements) == 1


def test_a_whole_word_in_many_messages_is_matched_before_the_words_it_starts(
    workspace, queue, requester, agent, monkeypatch
):
    # As for subjects: more messages hold "printer" itself than the search collects, so the
    # messages it collects are those, although the "printers" ones come first in the table.
    monkeypatch.setattr(search, "MESSAGE_CANDIDATES", 3)
    monkeypatch.setattr(search, "COMMON_SHARE", 2.0)  # never read newest first here
    starts = [
        new_ticket(requester, queue, subject=f"Case {n}", description="Printers offline.") for n in range(2)
    ]
    whole = [
        new_ticket(requester, queue, subject=f"Case {n}", description="Printer jammed.") for n in range(8)
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_message")
    search.forget_word_shares()
    assert search._messages_holding(["printer"]) >= search.EXACT_FIRST * search.MESSAGE_CANDIDATES
    hits, found = _found_by(agent, "printer")
    assert hits.capped and len(found) == 3
    assert found <= {t.pk for t in whole} and not found & {t.pk for t in starts}


def test_a_count_from_a_sampled_index_is_shown_as_a_lower_bound(
    workspace, queue, requester, agent, login, monkeypatch
):
    """Past GIN_SAMPLE entries the full-text index hands over a sample, so an agent may collect
    fewer matches than they may see without reaching the cap: the page then says "at least"."""
    tickets = [
        new_ticket(requester, queue, subject=f"Refund {n}", description="the refund") for n in range(3)
    ]
    client = login(agent)

    def summary(q="refund"):
        return count_line(client, client.get(url(workspace), {"q": q}))

    assert summary().startswith("3 tickets match")
    # The subjects are read from the ordered word index, never sampled: still an exact count.
    monkeypatch.setattr(search, "_subjects_holding", lambda words: search.GIN_SAMPLE + 1)
    assert summary() == "3 tickets match “refund”."
    # Where the word index does not serve (a word beyond plain ASCII, which it leaves to the
    # full-text index), the sampled subject index makes the count a lower bound.
    accented = [new_ticket(requester, queue, subject=f"Réglé {n}") for n in range(2)]
    assert summary("réglé").startswith("At least 2 tickets match")
    listed = client.get(url(workspace), {"q": "réglé"}).context["tickets"]
    assert {t.pk for t in listed} == {t.pk for t in accented}
    monkeypatch.setattr(search, "_subjects_holding", lambda words: 0.0)
    monkeypatch.setattr(search, "_messages_holding", lambda words: search.GIN_SAMPLE + 1)
    # The messages' matches are the sample's, not the newest: the line says newer may be missing.
    assert summary().startswith("At least 3 tickets match")
    assert "newer tickets may be missing" in summary()
    # Each row still shows its excerpt, looked for in the page's own tickets' messages.
    page = client.get(url(workspace), {"q": "refund"})
    assert {t.pk for t in page.context["tickets"]} == {t.pk for t in tickets}
    assert all(
        t.search_snippet and "<mark>refund</mark>" in t.search_snippet for t in page.context["tickets"]
    )
