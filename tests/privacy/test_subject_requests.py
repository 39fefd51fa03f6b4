"""Data-subject requests (privacy/requests): the person files one from their account, the
workspace's admins answer it from the console; export and erasure reach this workspace only."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse

from privacy.account.consents import consents_current, consents_set
from privacy.audit.models import AuditEvent
from privacy.requests import services
from privacy.requests.models import RequestKind, RequestVia, SubjectRequest
from tests.conftest import make_member
from tests.factories import MembershipFactory, QueueFactory
from tests.tickets.ticket_helpers import new_ticket, reply
from tickets.models import Message, Ticket
from workspaces.models import Membership, Role


@pytest.fixture
def two_workspaces(workspace, other_workspace, requester, queue, agent):
    """The requester has a ticket in acme and, as a member of globex too, one there."""
    there = MembershipFactory(workspace=other_workspace, role=Role.REQUESTER, user=requester.user)
    other_queue = QueueFactory(workspace=other_workspace, name="Help")
    here_ticket = new_ticket(requester, queue, subject="Acme printer", description="Acme words")
    reply(here_ticket, agent, body="Acme answer")
    there_ticket = new_ticket(there, other_queue, subject="Globex laptop", description="Globex words")
    return here_ticket, there_ticket


def _file(requester, admin, kind=RequestKind.ERASURE):
    return services.request_file(
        workspace=requester.workspace,
        subject=requester.user,
        kind=kind,
        filed_by=admin.user,
        via=RequestVia.CONSOLE,
    )


def test_admin_records_a_request_by_email_and_sees_what_is_held(
    client, login, admin, requester, two_workspaces
):
    login(admin)
    url = reverse("subject_requests", args=["acme"])
    response = client.post(url, {"email": requester.user.email.upper(), "kind": "access", "details": "What?"})
    assert response.status_code == 302
    found = SubjectRequest.objects.get()
    assert found.subject == requester.user and found.status == "received"
    assert found.due_at - found.received_at == timedelta(days=30)
    page = client.get(response.url).content.decode()
    assert "What this workspace holds about them" in page
    assert "Tickets" in page and "subject_request.filed" in page
    event = AuditEvent.objects.get(action="subject_request.filed")
    assert event.detail["kind"] == "access" and "What?" not in json.dumps(event.detail)


def test_an_unknown_address_is_refused_and_nothing_recorded(client, login, admin):
    login(admin)
    response = client.post(
        reverse("subject_requests", args=["acme"]), {"email": "nobody@example.test", "kind": "access"}
    )
    assert response.status_code == 400
    assert str(services.PERSON_NOT_FOUND) in response.content.decode()
    assert not SubjectRequest.objects.exists()


def test_export_holds_this_workspace_only(client, login, admin, requester, two_workspaces):
    found = _file(requester, admin, RequestKind.EXPORT)
    login(admin)
    response = client.post(reverse("subject_request_export", args=["acme", found.pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    assert [t["subject"] for t in data["tickets"]] == ["Acme printer"]
    assert [m["workspace"] for m in data["memberships"]] == ["acme"]
    assert "Globex" not in archive.read("data.json").decode()
    assert "consents" not in data and "profile" not in data
    assert AuditEvent.objects.filter(action="subject_request.exported", workspace=admin.workspace).exists()


def test_erase_reaches_this_workspace_only(client, login, admin, requester, two_workspaces, other_workspace):
    here_ticket, there_ticket = two_workspaces
    found = _file(requester, admin)
    login(admin)
    url = reverse("subject_request_erase", args=["acme", found.pk])
    assert client.post(url, {}).status_code == 302  # not confirmed: nothing happens
    assert Membership.objects.filter(pk=requester.pk).exists()
    assert client.post(url, {"confirm": "on"}).status_code == 302
    here_ticket.refresh_from_db()
    assert here_ticket.requester_id is None and here_ticket.anonymized_at is not None
    assert not Message.objects.filter(ticket=here_ticket, body__contains="Acme words").exists()
    assert not Membership.objects.filter(workspace=admin.workspace, user=requester.user).exists()
    # Globex and the account are untouched.
    there_ticket.refresh_from_db()
    assert there_ticket.requester_id == requester.user.pk and there_ticket.subject == "Globex laptop"
    assert Message.objects.filter(ticket=there_ticket, body="Globex words").exists()
    assert Membership.objects.filter(workspace=other_workspace, user=requester.user).exists()
    requester.user.refresh_from_db()
    assert requester.user.is_active
    found.refresh_from_db()
    assert found.status == "completed" and found.closed_at is not None
    event = AuditEvent.objects.get(action="subject_request.erased")
    assert event.workspace_id == admin.workspace_id and event.detail["counts"]["memberships_ended"] == 1
    assert Ticket.objects.filter(workspace=other_workspace).count() == 1


def test_the_person_files_from_their_account_and_sees_the_answer(client, login, admin, requester):
    login(requester)
    url = reverse("account_requests")
    page = client.get(url).content.decode()
    assert "Send a request" in page and "Acme" in page
    response = client.post(
        url, {"workspace": str(requester.workspace_id), "kind": "restriction", "details": "Wrong data"}
    )
    assert response.status_code == 302
    found = SubjectRequest.objects.get()
    assert found.via == "account" and found.filed_by == requester.user
    login(admin)
    console = client.get(reverse("subject_requests", args=["acme"])).content.decode()
    assert requester.user.email in console
    client.post(reverse("subject_request_restrict", args=["acme", found.pk]), {"action": "restrict"})
    client.post(
        reverse("subject_request_detail", args=["acme", found.pk]),
        {"status": "completed", "response": "Restricted until we checked."},
    )
    requester.refresh_from_db()
    assert requester.restricted_at is not None
    login(requester)
    page = client.get(url).content.decode()
    assert "Completed" in page and "Restricted until we checked." in page
    trail = [e.action for e in services.trail(found)]
    assert trail == ["subject_request.filed", "member.restricted", "subject_request.status_changed"]


def test_an_objection_withdraws_the_optional_consents(client, login, requester):
    consents_set(user=requester.user, answers={"product_updates": True, "user_research": True})
    login(requester)
    client.post(reverse("account_requests"), {"workspace": str(requester.workspace_id), "kind": "objection"})
    assert consents_current(requester.user) == {"product_updates": False, "user_research": False}
    assert SubjectRequest.objects.get().kind == "objection"


def test_a_person_cannot_file_with_a_workspace_they_are_not_in(client, login, requester, other_workspace):
    login(requester)
    response = client.post(
        reverse("account_requests"), {"workspace": str(other_workspace.pk), "kind": "access"}
    )
    assert response.status_code == 400
    assert not SubjectRequest.objects.exists()


def test_account_erasure_blanks_the_persons_words_but_keeps_the_record(admin, requester):
    from privacy.account.erasure import erase_account_data

    found = services.request_file(
        workspace=requester.workspace,
        subject=requester.user,
        kind=RequestKind.ACCESS,
        details="My phone is 0123",
        filed_by=requester.user,
        via=RequestVia.ACCOUNT,
    )
    erase_account_data(requester.user)
    found.refresh_from_db()
    assert found.details == "" and found.kind == "access"


def test_another_workspaces_admin_cannot_open_the_request(client, login, requester, admin, other_workspace):
    found = _file(requester, admin)
    outsider = make_member(other_workspace, Role.ADMIN)
    login(outsider)
    assert client.get(reverse("subject_request_detail", args=["acme", found.pk])).status_code == 404
    assert client.get(reverse("subject_request_detail", args=["globex", found.pk])).status_code == 404
