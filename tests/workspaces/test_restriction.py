"""Restriction of processing (workspaces/restriction.py): a restricted person's data is kept but
frozen in that workspace: no email reaches them, nobody changes it or gives them work, agents'
lists and search leave them out, admins see it marked; an admin releases it; all audited."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.tickets.ticket_helpers import new_ticket, reply
from tickets import services
from workspaces.models import Role
from workspaces.restriction import member_release, member_restrict
from workspaces.services import MEMBER_RESTRICTED, member_set_role


@pytest.fixture
def restricted(requester, admin):
    return member_restrict(membership=requester, reason="Contests accuracy", actor=admin.user)


def test_admin_restricts_from_the_member_page_and_it_is_audited(client, login, admin, requester):
    login(admin)
    page = client.get(reverse("admin_member", args=["acme", requester.pk])).content.decode()
    assert "Restriction of processing" in page and "Restrict processing" in page
    url = reverse("admin_member_restriction", args=["acme", requester.pk])
    response = client.post(url, {"reason": "Contests accuracy"})
    assert response.status_code == 302
    requester.refresh_from_db()
    assert requester.restricted_at is not None
    event = AuditEvent.objects.get(action="member.restricted")
    assert event.detail == {"reason": "Contests accuracy", "role": "requester"}
    assert event.target_id == str(requester.user_id) and event.actor_id == admin.user_id
    page = client.get(reverse("admin_member", args=["acme", requester.pk])).content.decode()
    assert "Restricted since" in page
    assert "Restricted" in client.get(reverse("admin_members", args=["acme"])).content.decode()
    client.post(url, {"action": "release"})
    requester.refresh_from_db()
    assert requester.restricted_at is None
    assert AuditEvent.objects.filter(action="member.restriction_released").count() == 1


def test_a_reason_is_required(client, login, admin, requester):
    login(admin)
    client.post(reverse("admin_member_restriction", args=["acme", requester.pk]), {"reason": " "})
    requester.refresh_from_db()
    assert requester.restricted_at is None
    assert not AuditEvent.objects.filter(action="member.restricted").exists()


def test_a_restricted_requester_gets_no_email(
    ticket, agent, requester, admin, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket, agent, body="First answer")
    assert [m.to for m in mail.outbox] == [[requester.user.email]]
    mail.outbox.clear()
    member_restrict(membership=requester, reason="Contests accuracy", actor=admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket, agent, body="Second answer")
        services.ticket_set_status(ticket=ticket, status="solved", actor=agent.user)
    assert mail.outbox == []
    member_release(membership=requester, actor=admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket, agent, body="Third answer")
    assert [m.to for m in mail.outbox] == [[requester.user.email]]


def test_a_restricted_agent_is_not_assigned_nor_emailed_about_new_tickets(
    workspace, queue, agent, admin, requester, django_capture_on_commit_callbacks
):
    member_restrict(membership=agent, reason="Objection", actor=admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket(requester, queue)
    assert agent.user.email not in [address for m in mail.outbox for address in m.to]
    with pytest.raises(ValidationError) as refused:
        services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    assert "restricted" in str(refused.value)


def test_nobody_changes_a_restricted_persons_data(ticket, requester, admin, agent, workspace):
    message = reply(ticket, requester, body="Tpyo")
    member_restrict(membership=requester, reason="Contests accuracy", actor=admin.user)
    with pytest.raises(ValidationError):
        services.message_edit(message=message, editor=requester.user, body="Typo")
    with pytest.raises(ValidationError) as refused:
        member_set_role(membership=requester, role=Role.AGENT, actor=admin.user)
    assert str(MEMBER_RESTRICTED) in str(refused.value)
    other = new_ticket(make_member(workspace, Role.REQUESTER), ticket.queue)
    with pytest.raises(ValidationError):
        services.participant_add(ticket=other, user=requester.user, actor=agent.user)
    message.refresh_from_db()
    requester.refresh_from_db()
    assert message.body == "Tpyo" and requester.role == Role.REQUESTER


def test_hidden_from_agents_lists_and_search_but_marked_for_admins(
    client, login, ticket, requester, admin, agent
):
    member_restrict(membership=requester, reason="Contests accuracy", actor=admin.user)
    list_url = reverse("ticket_list", args=["acme"])
    login(agent)
    assert ticket.subject not in client.get(list_url, {"view": "all"}).content.decode()
    assert ticket.subject not in client.get(list_url, {"q": "Printer"}).content.decode()
    login(admin)
    assert ticket.subject in client.get(list_url, {"view": "all"}).content.decode()
    page = client.get(reverse("ticket_detail", args=["acme", ticket.number])).content.decode()
    assert "Processing of the requester" in page
    # The person still sees their own ticket.
    login(requester)
    assert ticket.subject in client.get(list_url).content.decode()


def test_restriction_is_per_workspace(requester, admin, other_workspace, django_capture_on_commit_callbacks):
    """Restricted in acme, the same person still hears from globex."""
    from guardian.shortcuts import assign_perm

    from tests.factories import MembershipFactory, QueueFactory
    from workspaces.models import QUEUE_PERMISSION

    member_restrict(membership=requester, reason="x", actor=admin.user)
    there = MembershipFactory(workspace=other_workspace, role=Role.REQUESTER, user=requester.user)
    queue = QueueFactory(workspace=other_workspace, name="Support")
    agent_there = make_member(other_workspace, Role.AGENT)
    assign_perm(QUEUE_PERMISSION, agent_there.user, queue)
    ticket = new_ticket(there, queue)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket, agent_there, body="Answer from Globex")
    assert [m.to for m in mail.outbox] == [[requester.user.email]]


def test_the_weekly_summary_leaves_out_the_restricted_workspace(ticket, requester, admin):
    from helpdesk import digest

    assert [s["workspace"].slug for s in digest.sections_for(requester.user)] == ["acme"]
    member_restrict(membership=requester, reason="x", actor=admin.user)
    assert digest.sections_for(requester.user) == []
