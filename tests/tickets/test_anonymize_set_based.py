"""Retention anonymizes a batch of tickets in a fixed number of statements (issue 15): every
statement selects its rows from the batch's ticket ids, so more tickets, messages, files,
participants and audit events do not mean more statements, and the files go in one after-commit
callback."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from privacy.audit.models import AuditEvent
from tests.privacy import retention_support
from tests.privacy.retention_support import file_exists
from tickets.anonymize import RETENTION_MESSAGE, RETENTION_SUBJECT, tickets_anonymize
from tickets.models import Attachment, Message, Ticket, TicketParticipant

pytestmark = pytest.mark.django_db


_tickets = retention_support.closed_tickets_with_pseudonyms


def _anonymize(workspace, tickets, capture):
    with capture(execute=True) as callbacks, CaptureQueriesContext(connection) as queries:
        counts = tickets_anonymize(workspace_id=workspace.pk, ticket_ids=[t.pk for t in tickets])
    return counts, len(queries.captured_queries), len(callbacks)


@pytest.mark.parametrize("count", [1, 3])
def test_more_tickets_take_the_same_statements(workspace, queue, count, django_capture_on_commit_callbacks):
    few = _tickets(workspace, queue, count, tag="a")
    more = _tickets(workspace, queue, count + 4, tag="b")
    _, few_statements, few_callbacks = _anonymize(workspace, few, django_capture_on_commit_callbacks)
    _, more_statements, more_callbacks = _anonymize(workspace, more, django_capture_on_commit_callbacks)
    assert few_statements == more_statements
    assert few_callbacks == more_callbacks == 1


def test_a_batch_leaves_no_file_row_body_or_address(workspace, queue, django_capture_on_commit_callbacks):
    tickets = _tickets(workspace, queue, 4, tag="c")
    ids = [t.pk for t in tickets]
    files = list(Attachment.objects.filter(ticket_id__in=ids).values_list("file", flat=True))
    assert files and all(file_exists(name) for name in files)
    counts, _, _ = _anonymize(workspace, tickets, django_capture_on_commit_callbacks)
    assert counts["tickets_anonymized"] == 4
    assert counts["attachments_deleted"] == 4
    assert counts["messages_redacted"] == 16
    # The requester's first message and the participant's one on each ticket.
    assert counts["messages_unlinked"] == 8
    assert counts["participants_removed"] == 4
    assert counts["audit_events_anonymized"] == 4
    assert not any(file_exists(name) for name in files)
    assert not Attachment.objects.filter(ticket_id__in=ids).exists()
    assert not TicketParticipant.objects.filter(ticket_id__in=ids).exists()
    bodies = Message.objects.filter(ticket_id__in=ids).values_list("body", flat=True)
    assert set(bodies) == {RETENTION_MESSAGE}
    for ticket in Ticket.objects.filter(pk__in=ids):
        assert ticket.subject == RETENTION_SUBJECT and ticket.requester_id is None
        assert ticket.requester_pseudonym.startswith("Deleted user ")
    events = AuditEvent.objects.filter(target_type="tickets.ticket", target_id__in=[str(i) for i in ids])
    assert events.count() == 4
    assert set(events.values_list("ip_address", "user_agent", "actor_label")) == {(None, "", "")}


def test_a_second_run_changes_nothing(workspace, queue, django_capture_on_commit_callbacks):
    tickets = _tickets(workspace, queue, 2, tag="d")
    _anonymize(workspace, tickets, django_capture_on_commit_callbacks)
    counts, _, callbacks = _anonymize(workspace, tickets, django_capture_on_commit_callbacks)
    assert counts["attachments_deleted"] == counts["messages_redacted"] == counts["messages_unlinked"] == 0
    assert counts["audit_events_anonymized"] == 0
    assert callbacks == 0
