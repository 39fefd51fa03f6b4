"""The subject search's ordered word index (tickets/subject_words.py, migration 0032): the
database keeps it in step with every change of a subject, and a staff search's page lists the
newest matches there are, page after page, before they are counted."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.tickets.test_search import count_line
from tests.tickets.ticket_helpers import agent_of, new_ticket, url, walk_pages
from tickets import subject_words
from tickets.anonymize import tickets_anonymize
from tickets.models import SubjectWord, Ticket
from tickets.selectors import TicketFilters, ticket_list_page

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the word index is PostgreSQL's (triggers), SQLite's search is FTS5; CI runs it on PostgreSQL",
    ),
    pytest.mark.django_db,
]


def words_of(ticket) -> set[str]:
    return set(SubjectWord.objects.filter(ticket_id=ticket.pk).values_list("word", flat=True))


def test_the_word_index_follows_every_change_of_a_subject(workspace, queue, requester):
    ticket = new_ticket(requester, queue, subject="Kerberos ticket EXPIRED, kerberos again")
    other = new_ticket(requester, queue, subject="Printer")
    # Each distinct word once, lower-cased, as the full-text index reads it.
    assert words_of(ticket) == {"kerberos", "ticket", "expired", "again"}
    assert SubjectWord.objects.filter(ticket_id=ticket.pk, workspace_id=workspace.pk).count() == 4

    Ticket.objects.filter(pk=ticket.pk).update(subject="VPN down")
    assert words_of(ticket) == {"vpn", "down"}
    Ticket.objects.filter(pk=ticket.pk).update(status="open")  # the subject as it was
    assert words_of(ticket) == {"vpn", "down"}

    # Retention's marker has no words; the other ticket keeps its own.
    tickets_anonymize(workspace_id=workspace.pk, ticket_ids=[ticket.pk])
    assert words_of(ticket) == set()
    assert words_of(other) == {"printer"}

    Ticket.objects.filter(pk=other.pk).delete()
    assert not SubjectWord.objects.exists()


def test_pages_of_a_search_list_the_newest_matches_in_order_and_only_what_the_agent_may_see(
    workspace, queue, other_queue, requester
):
    agent = agent_of(workspace, queue)
    made = []
    for n in range(8):
        made.append(new_ticket(requester, queue, subject=f"Kerberos realm {n}"))
        new_ticket(requester, other_queue, subject=f"Kerberos elsewhere {n}")  # not the agent's
    new_ticket(requester, queue, subject="Printer")
    expected = [t.pk for t in reversed(made)]

    first = ticket_list_page(membership=agent, filters=TicketFilters(q="kerb"), page_size=3)
    # The first page is the three newest, shown before anything is counted.
    assert [t.pk for t in first.tickets] == expected[:3]
    assert not first.hits.counted and first.older_cursor == "r3"

    pages, back = walk_pages(agent, TicketFilters(q="kerb"), page_size=3)
    assert [pk for page in pages for pk in page] == expected
    assert back == pages[-2::-1]


def test_the_count_follows_from_its_own_address(
    workspace, other_workspace, queue, other_queue, requester, login
):
    agent = agent_of(workspace, queue)
    for n in range(60):
        new_ticket(requester, queue, subject=f"Kerberos realm {n}")
    for n in range(5):
        new_ticket(requester, other_queue, subject=f"Kerberos elsewhere {n}")  # not the agent's
    client = login(agent)
    response = client.get(url(workspace), {"q": "kerberos"})
    assert len(response.context["tickets"]) == 50
    html = response.content.decode()
    assert 'data-count-url="' in html and "search_count.js" in html
    assert count_line(client, response) == "60 tickets match “kerberos”."

    # Another workspace's address answers as every other door does.
    outsider = agent_of(other_workspace)
    assert login(outsider).get(url(workspace, "search-count/"), {"q": "kerberos"}).status_code == 404


def test_a_word_that_starts_too_many_words_is_left_to_the_full_text_index(
    workspace, queue, requester, monkeypatch
):
    agent = agent_of(workspace, queue)
    monkeypatch.setattr(subject_words, "MAX_WORDS_STARTED", 2)
    made = [new_ticket(requester, queue, subject=f"Kerb{n} issue") for n in range(4)]
    page = ticket_list_page(membership=agent, filters=TicketFilters(q="kerb"), page_size=2)
    # Counted, as the full-text search counts: every match is there.
    assert page.hits.counted and page.hits.count == 4
    assert [t.pk for t in page.tickets] == [t.pk for t in reversed(made)][:2]


def test_a_page_of_the_newest_matches_searches_nothing_else(workspace, queue, requester):
    agent = agent_of(workspace, queue)
    for n in range(4):
        new_ticket(requester, queue, subject=f"Kerberos realm {n}", description="kerberos in the body too")
    with CaptureQueriesContext(connection) as captured:
        page = ticket_list_page(membership=agent, filters=TicketFilters(q="kerberos"), page_size=3)
    assert len(page.tickets) == 3 and not page.hits.counted
    searched = [q["sql"] for q in captured.captured_queries if "to_tsquery" in q["sql"]]
    # One statement: the word index with its ticket check; no full-text scan of subjects or bodies.
    assert len(searched) == 1 and "tickets_subjectword" in searched[0]


@pytest.mark.django_db(transaction=True)
def test_two_people_renaming_one_ticket_at_once_leave_the_words_of_the_last(workspace, queue, requester):
    ticket = new_ticket(requester, queue, subject="Printer on fire")
    first_wrote, errors = threading.Event(), []

    def waiting_for_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

    def first():
        try:
            with transaction.atomic():
                Ticket.objects.filter(pk=ticket.pk).update(subject="Alpha outage")
                first_wrote.set()
                # Commit only once the second writer waits for this row.
                deadline = time.monotonic() + 10
                while not waiting_for_a_lock():
                    assert time.monotonic() < deadline, "the second writer never waited"
                    time.sleep(0.01)
        except Exception as error:  # noqa: BLE001  (reported in the test's thread)
            errors.append(error)
        finally:
            connection.close()

    def second():
        try:
            assert first_wrote.wait(10)
            with transaction.atomic():
                Ticket.objects.filter(pk=ticket.pk).update(subject="Beta login issue")
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    writers = [threading.Thread(target=first), threading.Thread(target=second)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(20)
    assert not errors
    ticket.refresh_from_db()
    assert ticket.subject == "Beta login issue"
    assert words_of(ticket) == {"beta", "login", "issue"}
