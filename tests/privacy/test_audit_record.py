"""audit_record and the helpers built on it: the vocabulary, one write each, nothing on rollback,
rate limits and deduplication."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction

from privacy.audit.log import (
    REFUSED_NOT_MEMBER,
    REFUSED_ROLE,
    actions,
    audit_record,
    audit_refused,
    audit_ticket_viewed,
    chain_for,
)
from privacy.audit.maintenance import audit_events_anonymize_user, audit_events_purge
from privacy.audit.models import AUDIT_APPEND_ONLY, AuditChainHead, AuditEvent
from tests.factories import TicketFactory, UserFactory
from tests.privacy.audit_support import request_for, run_verify
from workspaces.access import audit_refused_at

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-log.md"


class Boom(Exception):
    pass


def test_unknown_action_is_refused_with_a_clear_message(workspace):
    with pytest.raises(ValueError) as error:
        audit_record(action="ticket.teleported", workspace=workspace)
    assert str(error.value) == actions.UNKNOWN_ACTION.format(action="ticket.teleported")
    assert not AuditEvent.objects.exists()


def test_every_action_is_documented_and_every_documented_action_exists():
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    assert documented == set(actions.ACTIONS)
    assert all(text.strip() for text in actions.ACTIONS.values())


def test_actions_used_by_the_code_base_are_in_the_vocabulary():
    root = Path(__file__).resolve().parents[2]
    used = set()
    for folder in ("workspaces", "tickets", "privacy", "helpdesk"):
        for path in (root / folder).rglob("*.py"):
            used |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text()))
    assert used, "the scan found no audit_record call at all"
    assert used <= set(actions.ACTIONS), used - set(actions.ACTIONS)


def test_record_writes_one_linked_event_with_request_metadata(workspace, admin):
    request = request_for("/w/acme/tickets/", user=admin.user, ip="2001:DB8::0:1", agent="Browser\r\nX")
    first = audit_record(action=actions.SETTINGS_CHANGED, request=request, workspace=workspace)
    second = audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace, detail={"n": (1, 2)})

    assert AuditEvent.objects.count() == 2
    assert (first.chain, first.seq, first.prev_hash) == (chain_for(workspace), 1, "")
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert first.ip_address == "2001:db8::1"  # the database's form, so the hash matches it
    assert (first.actor_id, first.actor_label, first.user_agent) == (
        admin.user.pk,
        admin.user.email,
        "Browser\r\nX",
    )
    assert second.detail == {"n": [1, 2]}
    head = AuditChainHead.objects.get(pk=chain_for(workspace))
    assert (head.last_seq, head.last_hash) == (2, second.hash)
    assert run_verify()[0]


def test_record_writes_nothing_when_the_transaction_rolls_back(workspace):
    with pytest.raises(Boom), transaction.atomic():
        audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace)
        raise Boom
    assert not AuditEvent.objects.exists()
    assert not AuditChainHead.objects.filter(last_seq__gt=0).exists()
    event = audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace)
    assert event.seq == 1


def test_events_cannot_be_changed_or_deleted_through_the_orm(workspace):
    event = audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace)
    for attempt in (
        event.save,
        event.delete,
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="x.y"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(PermissionError) as error:
            attempt()
        assert str(error.value) == AUDIT_APPEND_ONLY
    assert AuditEvent.objects.get(pk=event.pk).action == actions.SETTINGS_CHANGED


# access.refused ----------------------------------------------------------------------------


def test_refusal_is_recorded_once_per_person_and_kind_in_ten_minutes(clock, workspace, other_workspace):
    stranger = UserFactory()
    request = request_for("/w/acme/tickets/", user=stranger)

    first = audit_refused_at(request, slug="acme", reason=REFUSED_NOT_MEMBER)
    assert first is not None
    assert (first.action, first.workspace_id, first.actor_id) == (
        actions.ACCESS_REFUSED,
        workspace.pk,
        stranger.pk,
    )
    assert first.detail == {"reason": REFUSED_NOT_MEMBER, "kind": "ticket_list", "method": "GET"}

    clock.advance(timedelta(minutes=9, seconds=59))
    assert audit_refused_at(request, slug="acme", reason=REFUSED_NOT_MEMBER) is None
    # Same person and kind of page in another workspace: still within the limit.
    assert (
        audit_refused_at(request_for("/w/globex/tickets/", user=stranger), slug="globex", reason="x")
        is None
    )
    # Another kind of page is counted on its own.
    assert (
        audit_refused_at(request_for("/w/acme/", user=stranger), slug="acme", reason="x") is not None
    )
    assert AuditEvent.objects.filter(action=actions.ACCESS_REFUSED).count() == 2

    clock.advance(timedelta(seconds=2))
    assert audit_refused_at(request, slug="acme", reason=REFUSED_NOT_MEMBER) is not None
    assert AuditEvent.objects.filter(action=actions.ACCESS_REFUSED).count() == 3


def test_refusals_of_signed_out_visitors_are_limited_per_address(clock, db):
    a = request_for("/w/nowhere/tickets/", ip="198.51.100.1")
    b = request_for("/w/nowhere/tickets/", ip="198.51.100.2")
    assert audit_refused_at(a, slug="nowhere", reason=REFUSED_NOT_MEMBER) is not None
    assert audit_refused_at(a, slug="nowhere", reason=REFUSED_NOT_MEMBER) is None
    assert audit_refused_at(b, slug="nowhere", reason=REFUSED_NOT_MEMBER) is not None
    event = AuditEvent.objects.filter(ip_address="198.51.100.1").get()
    # No such workspace: the account chain, with the slug that was asked for.
    assert (event.chain, event.workspace_id, event.detail["slug"]) == ("account", None, "nowhere")


def test_refusal_writes_nothing_when_the_transaction_rolls_back(workspace):
    request = request_for("/w/acme/tickets/", user=UserFactory())
    with pytest.raises(Boom), transaction.atomic():
        audit_refused(request, workspace=workspace, reason=REFUSED_ROLE)
        raise Boom
    assert not AuditEvent.objects.exists()
    # The rolled-back attempt does not count against the limit.
    assert audit_refused(request, workspace=workspace, reason=REFUSED_ROLE) is not None


def test_workspace_view_records_strangers_and_wrong_roles(client, workspace, requester, admin):
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get("/w/acme/tickets/").status_code == 404
    client.force_login(requester.user)
    assert client.get("/w/acme/admin/audit/").status_code == 404
    client.force_login(admin.user)
    assert client.get("/w/acme/admin/audit/").status_code == 200

    refused = list(AuditEvent.objects.filter(action=actions.ACCESS_REFUSED).order_by("id"))
    assert [(e.actor_id, e.workspace_id, e.detail["reason"], e.detail["kind"]) for e in refused] == [
        (stranger.pk, workspace.pk, REFUSED_NOT_MEMBER, "ticket_list"),
        (requester.user_id, workspace.pk, REFUSED_ROLE, "audit_log"),
    ]


# ticket.viewed -----------------------------------------------------------------------------


def test_ticket_view_is_recorded_once_per_person_ticket_and_hour(
    clock, workspace, queue, admin, agent, requester
):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    other = TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    request = request_for("/w/acme/tickets/", user=agent.user)

    assert audit_ticket_viewed(membership=agent, ticket=ticket, request=request) is not None
    assert audit_ticket_viewed(membership=agent, ticket=ticket, request=request) is None
    assert audit_ticket_viewed(membership=admin, ticket=ticket, request=request) is not None
    assert audit_ticket_viewed(membership=agent, ticket=other, request=request) is not None
    # Requesters read their own tickets: not recorded.
    assert audit_ticket_viewed(membership=requester, ticket=ticket, request=request) is None
    clock.advance(timedelta(minutes=59))
    assert audit_ticket_viewed(membership=agent, ticket=ticket, request=request) is None
    clock.advance(timedelta(minutes=1, seconds=1))
    assert audit_ticket_viewed(membership=agent, ticket=ticket, request=request) is not None

    viewed = AuditEvent.objects.filter(action=actions.TICKET_VIEWED)
    assert viewed.count() == 4
    assert set(viewed.values_list("target_type", flat=True)) == {"tickets.ticket"}
    assert viewed.filter(actor_id=agent.user_id, target_id=str(ticket.pk)).count() == 2


def test_ticket_view_writes_nothing_when_the_transaction_rolls_back(workspace, queue, agent):
    ticket = TicketFactory(workspace=workspace, queue=queue)
    with pytest.raises(Boom), transaction.atomic():
        audit_ticket_viewed(membership=agent, ticket=ticket, request=None)
        raise Boom
    assert not AuditEvent.objects.exists()
    assert audit_ticket_viewed(membership=agent, ticket=ticket, request=None) is not None
    assert AuditEvent.objects.count() == 1


def test_ticket_view_refuses_a_ticket_of_another_workspace(workspace, other_workspace, agent):
    foreign = TicketFactory(workspace=other_workspace)
    with pytest.raises(ValueError):
        audit_ticket_viewed(membership=agent, ticket=foreign, request=None)
    assert not AuditEvent.objects.exists()


def test_ticket_view_lookup_is_one_query_when_already_recorded(
    workspace, queue, agent, django_assert_num_queries
):
    ticket = TicketFactory(workspace=workspace, queue=queue)
    audit_ticket_viewed(membership=agent, ticket=ticket, request=None)
    with django_assert_num_queries(1):
        assert audit_ticket_viewed(membership=agent, ticket=ticket, request=None) is None


# maintenance helpers -----------------------------------------------------------------------


def test_purge_writes_one_event_and_nothing_on_rollback(clock, workspace):
    for _ in range(3):
        audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace)
    clock.advance(timedelta(days=1))
    with pytest.raises(Boom), transaction.atomic():
        audit_events_purge(workspace=workspace, before=clock.now)
        raise Boom
    assert AuditEvent.objects.count() == 3
    purged = audit_events_purge(workspace=workspace, before=clock.now)
    assert AuditEvent.objects.filter(action=actions.AUDIT_PURGED).count() == 1
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [purged.seq] == [4]
    assert purged.detail["deleted"] == 3
    assert run_verify()[0]


def test_anonymize_writes_one_event_and_nothing_on_rollback(workspace, admin):
    request = request_for("/w/acme/", user=admin.user)
    audit_record(action=actions.SETTINGS_CHANGED, request=request, workspace=workspace)
    with pytest.raises(Boom), transaction.atomic():
        audit_events_anonymize_user(user_id=admin.user_id)
        raise Boom
    assert AuditEvent.objects.get().ip_address == "203.0.113.7"
    assert audit_events_anonymize_user(user_id=admin.user_id) == 1
    assert AuditEvent.objects.filter(action=actions.AUDIT_ANONYMIZED).count() == 1


def test_a_ticket_out_of_reach_inside_the_workspace_is_recorded_as_refused(client, workspace, requester):
    someone_elses = TicketFactory(workspace=workspace)
    client.force_login(requester.user)

    for _ in range(3):
        response = client.get(f"/w/{workspace.slug}/tickets/{someone_elses.number}/")
        assert response.status_code == 404

    refused = AuditEvent.objects.filter(action="access.refused", workspace=workspace)
    assert refused.count() == 1  # rate-limited: one per person and kind of page per 10 minutes
    assert refused.get().detail["reason"] == "not_visible"
    assert refused.get().actor == requester.user
