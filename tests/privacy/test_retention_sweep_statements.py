"""A retention batch of tickets costs a fixed number of statements whatever the number of tickets
in it (issue 7's "5,000 tickets/s"): the anonymization, its outbox of files and the run's
bookkeeping are all set-based, so a larger batch only makes each statement larger."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from privacy.retention.models import PendingFileDeletion
from tests.privacy import retention_support
from tests.privacy.retention_support import file_exists, set_policy
from tickets.anonymize import RETENTION_MESSAGE, RETENTION_SUBJECT
from tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db

frozen = retention_support.frozen
sweep = retention_support.sweep


_due = retention_support.closed_tickets_with_pseudonyms


def _sweep_statements(sweep, batches: list) -> int:
    with CaptureQueriesContext(connection) as queries:
        sweep(batch_size=50, on_batch=lambda workspace, kind, n: batches.append((kind, n)))
    return len(queries.captured_queries)


@pytest.mark.parametrize("count", [1, 2])
def test_a_larger_ticket_batch_takes_the_same_statements(frozen, workspace, queue, sweep, count):
    set_policy(workspace, tickets_days=365)
    few = _due(workspace, queue, count, tag="a")
    few_batches: list = []
    few_statements = _sweep_statements(sweep, few_batches)
    more = _due(workspace, queue, count + 5, tag="b")
    files = list(Attachment.objects.values_list("file", flat=True))
    more_batches: list = []
    more_statements = _sweep_statements(sweep, more_batches)

    assert few_batches == [("tickets", count)] and more_batches == [("tickets", count + 5)]
    assert few_statements == more_statements
    ids = [t.pk for t in [*few, *more]]
    assert set(Ticket.objects.filter(pk__in=ids).values_list("subject", "requester_id")) == {
        (RETENTION_SUBJECT, None)
    }
    bodies = Message.objects.filter(ticket_id__in=ids).values_list("body", flat=True)
    assert set(bodies) == {RETENTION_MESSAGE}
    assert not Attachment.objects.filter(ticket_id__in=ids).exists()
    # Deleted after the commit, and the outbox emptied.
    assert len(files) == count + 5 and not any(file_exists(name) for name in files)
    assert not PendingFileDeletion.objects.exists()
