"""The export is complete: everything the database holds about a person, as the personal-data
registry finds it (``entry.rows_of(user)`` for every exported model), is in their archive;
every audit event by or about them, in every chain, is there; what a legal hold keeps is
listed as such; other people's IP addresses and browsers are not."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from privacy.account.consents import consents_set
from privacy.account.export import write_archive
from privacy.account.profile import email_change_request, profile_update
from privacy.audit import events
from privacy.audit.log import ACCOUNT_CHAIN
from privacy.personal_data import registry
from privacy.retention.holds import legal_hold_place
from privacy.retention.models import HoldScope
from tests.conftest import make_member
from tests.factories import MembershipFactory
from tests.privacy.selfservice_support import read_zip
from tickets.attachments import attachment_add
from tickets.models import MessageKind
from tickets.services import message_post, ticket_create
from workspaces.models import Role

pytestmark = pytest.mark.django_db

PERSON_IP, ADMIN_IP = "203.0.113.41", "198.51.100.250"
PERSON_UA, ADMIN_UA = "PersonBrowser/1.0", "AdminBrowser/9.9"

# Sections whose entries are one per registered row of the model.
ONE_ROW_EACH = {
    "privacy.AuditEvent": "audit_events",
    "privacy.Consent": "consents",
    "privacy.EmailChange": "email_changes",
    "privacy.PastIdentifier": "past_identifiers",
    "privacy.PolicyAcceptance": "policy_acceptances",
    "workspaces.Membership": "memberships",
}


def request_as(user, ip, ua):
    request = RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)
    request.user = user
    return request


def export_of(user) -> dict:
    out = io.BytesIO()
    write_archive(user, out)
    with read_zip(out.getvalue()) as archive:
        return json.loads(archive.read("data.json"))


@pytest.fixture
def person_everywhere(workspace, other_workspace, queue, admin, agent):
    """A requester in two workspaces with tickets, replies, a file, consents, a name and an
    address change, added to the second workspace by its admin."""
    membership = make_member(workspace, Role.REQUESTER, email="pia@example.test", display_name="Pia Person")
    user = membership.user
    mine = request_as(user, PERSON_IP, PERSON_UA)
    ticket = ticket_create(
        workspace=workspace,
        queue=queue,
        requester=user,
        subject="Printer",
        description="It jams.",
        request=mine,
    )
    reply = message_post(ticket=ticket, author=user, kind=MessageKind.REPLY, body="Still jams.", request=mine)
    attachment_add(
        ticket=ticket,
        message=reply,
        uploaded_by=user,
        upload=SimpleUploadedFile("jam.txt", b"paper jam", "text/plain"),
        request=mine,
    )
    message_post(ticket=ticket, author=agent.user, kind=MessageKind.REPLY, body="Try tray 2.")
    other_admin = make_member(other_workspace, Role.ADMIN)
    second = MembershipFactory(workspace=other_workspace, role=Role.REQUESTER, user=user)
    events.member_added(
        membership=second, actor=other_admin.user, request=request_as(other_admin.user, ADMIN_IP, ADMIN_UA)
    )
    consents_set(user=user, answers={"product_updates": True}, request=mine)
    profile_update(user=user, display_name="Pia Newname", language="", time_zone="", request=mine)
    email_change_request(user=user, new_email="pia.new@example.test", request=mine)
    return user


def test_the_export_holds_every_row_the_registry_finds_and_every_event_about_them(
    person_everywhere, workspace, admin
):
    user = person_everywhere
    legal_hold_place(
        workspace=workspace, actor=admin.user, scope=HoldScope.PERSON, reason="Case 9", user=user
    )
    data = export_of(user)

    for entry in registry.entries():
        if entry.export is None:
            continue
        assert entry.export in data, f"{entry.label}: section {entry.export} missing"
        rows = entry.rows_of(user)
        if entry.label == "tickets.Message":
            # On their own tickets their words are under each ticket; elsewhere in "messages".
            nested = [m for t in data["tickets"] for m in t["messages"] if m["written_by_you"]]
            assert len(nested) + len(data["messages"]) == rows.count()
            continue
        if rows.exists():
            assert data[entry.export], f"{entry.label}: {rows.count()} rows, section {entry.export} empty"
        section = ONE_ROW_EACH.get(entry.label)
        if section is not None:
            assert len(data[section]) == rows.count(), entry.label

    events_in_db = registry.entry_for("privacy.AuditEvent").rows_of(user)
    assert {e["id"] for e in data["audit_events"]} == set(events_in_db.values_list("pk", flat=True))
    in_workspaces = {e["action"] for e in data["audit_events"] if e["workspace"]}
    assert {"ticket.created", "reply.created", "attachment.uploaded", "member.added"} <= in_workspaces
    assert events_in_db.exclude(chain=ACCOUNT_CHAIN).count() >= 4

    # Their own events with their IP and browser; the admin's IP and browser are not theirs.
    text = json.dumps(data)
    assert PERSON_IP in text and PERSON_UA in text
    assert ADMIN_IP not in text and ADMIN_UA not in text
    added = next(e for e in data["audit_events"] if e["action"] == "member.added")
    assert added["actor"] == "someone else" and added["by_you"] is False

    # What the hold keeps is listed as such, without its reason.
    assert [k["workspace"] for k in data["kept_under_legal_hold"]] == [workspace.slug]
    assert data["kept_under_legal_hold"][0]["tickets"] == 1
    assert "Case 9" not in text
    flagged = {e["workspace"] for e in data["audit_events"] if e["kept_under_legal_hold"]}
    assert flagged == {workspace.slug, None}  # this workspace's chain and the account chain
