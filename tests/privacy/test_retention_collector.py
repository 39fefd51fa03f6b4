"""While the sweep runs, the objects the process held before it are left out of the garbage
collector's full collections; afterwards (also after a failure) they are back in them."""

import gc

import pytest

from tests.factories import TicketFactory
from tests.privacy import retention_support
from tests.privacy.retention_support import requester_in
from tickets import retention_kinds as ticket_kinds
from tickets.models import Status

pytestmark = pytest.mark.django_db

frozen = retention_support.frozen
sweep = retention_support.sweep


@pytest.fixture
def inactive_requesters_ticket(workspace, queue):
    person = requester_in(workspace, last_login_days=1100).user
    return TicketFactory(workspace=workspace, queue=queue, requester=person, status=Status.OPEN)


def test_the_sweep_sets_the_process_objects_aside_and_puts_them_back(
    frozen, inactive_requesters_ticket, sweep, monkeypatch
):
    before, during = gc.get_freeze_count(), []
    real = ticket_kinds.tickets_anonymize

    def watching(**kwargs):
        during.append(gc.get_freeze_count())
        return real(**kwargs)

    monkeypatch.setattr(ticket_kinds, "tickets_anonymize", watching)
    sweep()
    assert during and min(during) > before
    assert gc.get_freeze_count() == before


def test_a_sweep_that_fails_puts_them_back_too(frozen, inactive_requesters_ticket, sweep, monkeypatch):
    before = gc.get_freeze_count()

    def failing(**kwargs):
        raise RuntimeError("storage is down")

    monkeypatch.setattr(ticket_kinds, "tickets_anonymize", failing)
    with pytest.raises(RuntimeError):
        sweep()
    assert gc.get_freeze_count() == before
