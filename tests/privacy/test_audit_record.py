"""audit_record and the typed events built on it: the vocabulary (documented both ways), one
write each, nothing on rollback, rate limits and deduplication."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from privacy.audit import actions, events
from privacy.audit.events import REFUSED_NOT_MEMBER, REFUSED_ROLE, access_refused, ticket_viewed
from privacy.audit.log import audit_record, chain_for
from privacy.audit.maintenance import audit_events_anonymize_user, audit_events_purge
from privacy.audit.models import AUDIT_APPEND_ONLY, AuditChainHead, AuditEvent
from tests.factories import TicketFactory, UserFactory
from tests.privacy.audit_support import request_for, run_verify
from workspaces.access import audit_refused_at
from workspaces.services import invitation_create

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


ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("workspaces", "tickets", "privacy", "helpdesk")
EVENTS_MODULE = ROOT / "privacy" / "audit" / "events.py"


def _product_modules():
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts and path != EVENTS_MODULE:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _event_calls(tree) -> set[str]:
    """Names of the typed events a module calls: ``events.<name>(...)`` through
    ``from privacy.audit import events [as x]``, or ``<name>(...)`` imported from the module."""
    modules, functions = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "privacy.audit":
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "events"}
        elif isinstance(node, ast.ImportFrom) and node.module == "privacy.audit.events":
            functions |= {alias.name for alias in node.names if alias.name in events.EVENT_ACTIONS}
    called = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules:
            called.add(func.attr)
        elif isinstance(func, ast.Name) and func.id in functions:
            called.add(func.id)
    return called


def test_every_documented_action_is_written_by_the_product_and_everything_written_is_documented():
    called: dict[str, set[str]] = {}
    for path, tree in _product_modules():
        for name in _event_calls(tree):
            called.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert called, "the scan found no call of a typed audit event at all"
    unknown = set(called) - set(events.EVENT_ACTIONS)
    assert not unknown, f"called as audit events but not registered with @_writes: {unknown}"
    written = {events.EVENT_ACTIONS[name] for name in called}
    never_written = set(actions.ACTIONS) - written
    assert not never_written, f"documented but no product code writes them: {sorted(never_written)}"
    undocumented = set(events.EVENT_ACTIONS.values()) - set(actions.ACTIONS)
    assert not undocumented, f"written but not in the vocabulary: {undocumented}"
    unused = set(events.EVENT_ACTIONS) - set(called)
    assert not unused, f"typed events no product code calls: {sorted(unused)}"


def test_only_the_typed_events_call_audit_record():
    """No product module writes an event with a free-form action: audit_record is called in
    privacy/audit/events.py only (its definition lives in log.py)."""
    callers = set()
    for path, tree in _product_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name == "audit_record":
                    callers.add(str(path.relative_to(ROOT)))
    assert callers == set(), callers


def test_each_typed_event_writes_the_action_it_is_registered_for():
    source = ast.parse(EVENTS_MODULE.read_text())
    for node in source.body:
        if isinstance(node, ast.FunctionDef) and node.name in events.EVENT_ACTIONS:
            written = {
                keyword.value.attr
                for call in ast.walk(node)
                if isinstance(call, ast.Call)
                for keyword in call.keywords
                if keyword.arg == "action" and isinstance(keyword.value, ast.Attribute)
            } | {
                arg.attr
                for call in ast.walk(node)
                if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "_ticket_change"
                for arg in call.args[:1]
                if isinstance(arg, ast.Attribute)
            }
            expected = {events.EVENT_ACTIONS[node.name]}
            assert {getattr(actions, constant) for constant in written} == expected, node.name


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
        access_refused(request, workspace=workspace, reason=REFUSED_ROLE)
        raise Boom
    assert not AuditEvent.objects.exists()
    # The rolled-back attempt does not count against the limit.
    assert access_refused(request, workspace=workspace, reason=REFUSED_ROLE) is not None


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

    assert ticket_viewed(membership=agent, ticket=ticket, request=request) is not None
    assert ticket_viewed(membership=agent, ticket=ticket, request=request) is None
    assert ticket_viewed(membership=admin, ticket=ticket, request=request) is not None
    assert ticket_viewed(membership=agent, ticket=other, request=request) is not None
    # Requesters read their own tickets: not recorded.
    assert ticket_viewed(membership=requester, ticket=ticket, request=request) is None
    clock.advance(timedelta(minutes=59))
    assert ticket_viewed(membership=agent, ticket=ticket, request=request) is None
    clock.advance(timedelta(minutes=1, seconds=1))
    assert ticket_viewed(membership=agent, ticket=ticket, request=request) is not None

    viewed = AuditEvent.objects.filter(action=actions.TICKET_VIEWED)
    assert viewed.count() == 4
    assert set(viewed.values_list("target_type", flat=True)) == {"tickets.ticket"}
    assert viewed.filter(actor_id=agent.user_id, target_id=str(ticket.pk)).count() == 2


def test_ticket_view_writes_nothing_when_the_transaction_rolls_back(workspace, queue, agent):
    ticket = TicketFactory(workspace=workspace, queue=queue)
    with pytest.raises(Boom), transaction.atomic():
        ticket_viewed(membership=agent, ticket=ticket, request=None)
        raise Boom
    assert not AuditEvent.objects.exists()
    assert ticket_viewed(membership=agent, ticket=ticket, request=None) is not None
    assert AuditEvent.objects.count() == 1


def test_ticket_view_refuses_a_ticket_of_another_workspace(workspace, other_workspace, agent):
    foreign = TicketFactory(workspace=other_workspace)
    with pytest.raises(ValueError):
        ticket_viewed(membership=agent, ticket=foreign, request=None)
    assert not AuditEvent.objects.exists()


def test_ticket_view_lookup_is_one_query_when_already_recorded(
    workspace, queue, agent, django_assert_num_queries
):
    ticket = TicketFactory(workspace=workspace, queue=queue)
    ticket_viewed(membership=agent, ticket=ticket, request=None)
    with django_assert_num_queries(1):
        assert ticket_viewed(membership=agent, ticket=ticket, request=None) is None


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


def test_an_unusable_invitation_link_is_recorded_once_per_reason_and_person(client, workspace, admin):
    invitation, token = invitation_create(
        workspace=workspace, email="new@example.test", role="agent", actor=admin.user
    )
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save(update_fields=["expires_at"])
    url = reverse("invitation_accept", args=[token])

    assert client.get(url).status_code == 410
    assert client.get(url).status_code == 410  # a reload within 10 minutes writes nothing more

    [event] = AuditEvent.objects.filter(action=actions.INVITATION_REFUSED)
    assert (event.chain, event.target_id, event.detail) == (
        chain_for(workspace),
        str(invitation.pk),
        {"reason": "expired"},
    )
    assert "new@example.test" not in str(event.detail)


def test_refused_files_are_recorded_with_their_reasons_only(login, requester, ticket):
    response = login(requester).post(
        reverse("ticket_detail", args=[ticket.workspace.slug, ticket.number]),
        {"body": "see attached", "attachments": [SimpleUploadedFile("setup.exe", b"MZ" + b"\0" * 64)]},
    )
    assert response.status_code == 400
    [event] = AuditEvent.objects.filter(action=actions.ATTACHMENT_REJECTED)
    assert (event.actor_id, event.target_id) == (requester.user_id, str(ticket.pk))
    assert event.detail == {"reasons": ["blocked_extension"], "ticket": ticket.number}
