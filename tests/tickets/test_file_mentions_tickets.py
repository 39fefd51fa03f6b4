"""Account erasure searches other people's files on the person's tickets: the tickets they
requested, were assigned, take part in or wrote on, found by lookups of the person's own
columns (one query, whatever the size of the ticket and attachment tables)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import MessageFactory, TicketFactory, UserFactory
from tickets.file_mentions import _tickets_of
from tickets.models import TicketParticipant

pytestmark = pytest.mark.django_db


def test_the_persons_tickets_are_every_way_they_touched_one_and_no_other(workspace, queue):
    person, other = UserFactory(), UserFactory()
    requested = TicketFactory(workspace=workspace, queue=queue, requester=person)
    assigned = TicketFactory(workspace=workspace, queue=queue, requester=other, assignee=person)
    taking_part = TicketFactory(workspace=workspace, queue=queue, requester=other)
    TicketParticipant.objects.create(workspace=workspace, ticket=taking_part, user=person)
    written_on = TicketFactory(workspace=workspace, queue=queue, requester=other)
    MessageFactory(ticket=written_on, author=person)
    MessageFactory(ticket=requested, author=person)  # twice the same ticket: listed once
    untouched = TicketFactory(workspace=workspace, queue=queue, requester=other)
    MessageFactory(ticket=untouched, author=other)

    with CaptureQueriesContext(connection) as queries:
        found = _tickets_of(person.pk)

    assert found == sorted([requested.pk, assigned.pk, taking_part.pk, written_on.pk])
    assert untouched.pk not in found
    assert len(queries.captured_queries) == 1
