"""Personal-data export: the archive's contents against the registry and the visibility rules,
the single-owner expiring download, the sweep, the command, and flat query counts."""

import io
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from privacy.account.consents import consents_set
from privacy.account.export import (
    EXPORT_EXPIRED,
    EXPORT_IN_PROGRESS,
    export_request,
    exports_sweep,
    write_archive,
)
from privacy.account.models import DataExport, ExportStatus, PolicyVersion
from privacy.account.policies import policy_accept
from privacy.account.profile import email_change_request, preferences_update
from privacy.audit.models import AuditEvent
from privacy.personal_data import registry
from tests.conftest import make_member
from tests.factories import MessageFactory, ParticipantFactory, TicketFactory, UserFactory, WorkspaceFactory
from tests.privacy.selfservice_support import (  # noqa: F401
    _fresh_policy_cache,
    export_data,
    person_with_tickets,
    read_zip,
    response_bytes,
)
from tickets.attachments import attachment_add
from tickets.models import MessageKind
from workspaces.models import Invitation, Role


def build(user) -> tuple[dict, list[str], bytes]:
    out = io.BytesIO()
    write_archive(user, out)
    raw = out.getvalue()
    with read_zip(raw) as archive:
        return json.loads(archive.read("data.json")), archive.namelist(), raw


def request_and_download(client, user, django_capture_on_commit_callbacks) -> bytes:
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_export_create"))
    assert response.status_code == 302
    export = DataExport.objects.filter(user=user).latest("created_at")
    assert export.status == ExportStatus.READY, export.error
    response = client.get(reverse("account_export_download", args=[export.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment;" in response["Content-Disposition"]
    return response_bytes(response)


# Contents ---------------------------------------------------------------------------------------------------


def test_a_requesters_export_never_holds_an_internal_note(workspace, queue, agent):
    membership, ticket = person_with_tickets(workspace, queue, agent_membership=agent)
    data, names, raw = build(membership.user)
    assert b"SECRET-NOTE" not in raw  # not in data.json, not in summary.html, nowhere
    [exported] = data["tickets"]
    assert exported["subject"] == "Printer on fire"
    assert [m["body"] for m in exported["messages"]] == [
        "My printer is on fire, please help.",
        "Unplug it, we are on our way.",
    ]
    assert {m["kind"] for m in exported["messages"]} == {"reply"}
    assert "summary.html" in names and "README.txt" in names


def test_an_agents_export_holds_the_notes_they_wrote_but_not_other_peoples(workspace, queue, agent):
    membership, ticket = person_with_tickets(workspace, queue, agent_membership=agent)
    other_agent = make_member(workspace, Role.ADMIN)
    MessageFactory(
        ticket=ticket, author=other_agent.user, kind=MessageKind.NOTE, body="ADMIN-NOTE not theirs"
    )
    data, _, raw = build(agent.user)
    assert data["tickets"] == []  # they requested no ticket
    bodies = {m["body"]: m["kind"] for m in data["messages"]}
    assert bodies == {"Unplug it, we are on our way.": "reply", "SECRET-NOTE customer sounds upset": "note"}
    assert b"ADMIN-NOTE" not in raw
    assert data["memberships"][0]["queues"] == ["Support"]


def test_participants_get_the_tickets_they_take_part_in_and_nothing_of_other_workspaces(workspace, queue):
    person = make_member(workspace, Role.REQUESTER)
    ticket = TicketFactory(workspace=workspace, queue=queue, subject="Shared ticket")
    ParticipantFactory(ticket=ticket, user=person.user)
    TicketFactory(workspace=workspace, queue=queue, subject="Someone else's ticket")
    elsewhere = WorkspaceFactory()
    make_member(elsewhere, Role.REQUESTER, email="x@example.test")
    TicketFactory(workspace=elsewhere, subject="Other workspace ticket")
    data, _, raw = build(person.user)
    assert [(t["subject"], t["your_role"]) for t in data["tickets"]] == [("Shared ticket", "participant")]
    assert b"Someone else" not in raw and b"Other workspace" not in raw


def test_a_former_member_still_gets_their_own_tickets_as_a_requester_sees_them(workspace, queue, agent):
    membership, ticket = person_with_tickets(workspace, queue, agent_membership=agent)
    membership.delete()
    data, _, raw = build(membership.user)
    assert data["memberships"] == []
    assert [t["subject"] for t in data["tickets"]] == ["Printer on fire"]
    assert b"SECRET-NOTE" not in raw


def test_every_registered_field_of_the_persons_rows_appears_in_the_export(workspace, queue, agent, settings):
    membership, ticket = person_with_tickets(workspace, queue, agent_membership=agent)
    user = membership.user
    attachment_add(
        ticket=ticket,
        message=ticket.messages.first(),
        uploaded_by=user,
        upload=SimpleUploadedFile("invoice-4711.txt", b"Invoice 4711", "text/plain"),
    )
    consents_set(user=user, answers={"product_updates": True, "user_research": False})
    policy_accept(user=user, policy_ids=PolicyVersion.objects.values_list("pk", flat=True))
    preferences_update(user=user, values={"email_weekly_summary": True})
    email_change_request(user=user, new_email="new-address@example.test")
    Invitation.objects.create(
        workspace=workspace,
        email=user.email,
        role=Role.REQUESTER,
        token_hash="e" * 64,
        expires_at=timezone.now(),
    )
    DataExport.objects.create(user=user, expires_at=timezone.now() + timedelta(days=1), size=1234)
    from privacy.audit.log import audit_record

    audit_record(action="auth.login", actor=user)
    data, names, raw = build(user)
    text = raw.decode("latin-1")
    data_json = json.dumps(data, ensure_ascii=False)
    checked = 0
    for entry in registry.entries():
        if entry.export is None:
            continue
        rows = list(entry.rows_of(user))
        if entry.model._meta.label == "privacy.DataExport":
            rows = [r for r in rows if r.size]  # the archive lists the exports made before it
        for row in rows:
            for field in entry.fields:
                value = getattr(row, field)
                if value is None or value == "":
                    continue
                if isinstance(value, Model):
                    value = (
                        getattr(value, "slug", None)
                        or getattr(value, "version", None)
                        or getattr(value, "name", None)
                    )
                elif hasattr(value, "isoformat"):
                    value = value.isoformat()
                elif isinstance(value, bool):
                    value = json.dumps(value)
                assert str(value) in data_json, f"{entry.label}.{field}={value!r} is not in data.json"
                checked += 1
        assert entry.export in data, f"section {entry.export} missing"
    assert checked > 25
    assert "invoice-4711.txt" in "".join(names)
    assert "Invoice 4711" in text or any("invoice-4711" in n for n in names)


def test_summary_html_escapes_what_people_wrote(workspace, queue):
    person = make_member(workspace, Role.REQUESTER)
    ticket = TicketFactory(
        workspace=workspace, queue=queue, requester=person.user, subject="<script>alert(1)</script>"
    )
    MessageFactory(ticket=ticket, author=person.user, body="<img src=x onerror=alert(2)>")
    _, _, raw = build(person.user)
    with read_zip(raw) as archive:
        summary = archive.read("summary.html").decode()
    assert "<script>alert" not in summary and "&lt;script&gt;alert(1)&lt;/script&gt;" in summary
    assert "<img src=x" not in summary


# Requesting and downloading ---------------------------------------------------------------------------------


def test_request_and_download_are_audited_and_the_file_holds_the_attachments(
    client, workspace, queue, agent, django_capture_on_commit_callbacks
):
    membership, ticket = person_with_tickets(workspace, queue, agent_membership=agent)
    attachment_add(
        ticket=ticket,
        message=ticket.messages.first(),
        uploaded_by=membership.user,
        upload=SimpleUploadedFile("photo-of-printer.txt", b"smoke everywhere", "text/plain"),
    )
    raw = request_and_download(client, membership.user, django_capture_on_commit_callbacks)
    with read_zip(raw) as archive:
        [path] = [n for n in archive.namelist() if n.startswith("files/")]
        assert path.endswith("photo-of-printer.txt")
        assert archive.read(path) == b"smoke everywhere"
    user = membership.user
    assert AuditEvent.objects.filter(action="export.requested", actor=user).count() == 1
    assert AuditEvent.objects.filter(action="export.downloaded", actor=user).count() == 1
    page = client.get("/account/").content.decode()
    assert "Download</a>" in page


def test_only_the_owner_can_download(client, requester, django_capture_on_commit_callbacks):
    raw = request_and_download(client, requester.user, django_capture_on_commit_callbacks)
    assert raw[:2] == b"PK"
    export = DataExport.objects.get(user=requester.user)
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(reverse("account_export_download", args=[export.pk])).status_code == 404
    assert client.get(reverse("account_export_download", args=[export.pk + 999])).status_code == 404
    client.logout()
    response = client.get(reverse("account_export_download", args=[export.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_one_export_at_a_time(requester):
    export_request(user=requester.user)  # on_commit never runs here: it stays pending
    from privacy.account.export import ExportError

    with pytest.raises(ExportError) as error:
        export_request(user=requester.user)
    assert error.value.message == EXPORT_IN_PROGRESS


def test_expired_exports_cannot_be_downloaded_and_the_sweep_deletes_their_files(
    client, requester, django_capture_on_commit_callbacks
):
    request_and_download(client, requester.user, django_capture_on_commit_callbacks)
    export = DataExport.objects.get(user=requester.user)
    storage, name = export.file.storage, export.file.name
    assert storage.exists(name)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("account_export_download", args=[export.pk]))
    assert response.status_code == 410
    assert str(EXPORT_EXPIRED) in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert exports_sweep() == 1
    assert not storage.exists(name)
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED and not export.file
    out = io.StringIO()
    call_command("sweep_exports", stdout=out)
    assert "Expired 0 export(s)." in out.getvalue()


def test_sweep_task_is_registered(requester):
    from privacy.account.export import exports_sweep_task

    assert exports_sweep_task.name == "privacy.tasks.exports_sweep"
    assert exports_sweep_task.delay().get() == 0


def test_export_user_data_command_writes_the_same_archive(tmp_path, workspace, queue, agent):
    membership, _ = person_with_tickets(workspace, queue, agent_membership=agent)
    out = tmp_path / "export.zip"
    stdout = io.StringIO()
    call_command("export_user_data", membership.user.email.upper(), "--out", str(out), stdout=stdout)
    data = export_data(out.read_bytes())
    assert data["profile"]["email"] == membership.user.email
    assert b"SECRET-NOTE" not in out.read_bytes()
    assert AuditEvent.objects.filter(action="export.requested", target_id=str(membership.user.pk)).exists()


def test_building_costs_the_same_queries_for_few_or_many_tickets(
    workspace, queue, django_assert_max_num_queries
):
    person = make_member(workspace, Role.REQUESTER)
    for _ in range(3):
        MessageFactory(
            ticket=TicketFactory(workspace=workspace, queue=queue, requester=person.user), author=person.user
        )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        build(person.user)
    for _ in range(30):
        ticket = TicketFactory(workspace=workspace, queue=queue, requester=person.user)
        MessageFactory(ticket=ticket, author=person.user)
        MessageFactory(ticket=ticket, author=person.user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        build(person.user)


def test_other_peoples_tickets_cost_the_export_no_query(workspace, queue, agent, django_assert_num_queries):
    """The same account costs the same queries whether the workspace holds few or many tickets of
    other people (with their messages, notes, files and the files' audit events)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    membership, _ = person_with_tickets(workspace, queue, agent_membership=agent)
    with CaptureQueriesContext(connection) as few:
        build(membership.user)
    for _ in range(20):
        other = make_member(workspace, Role.REQUESTER).user
        ticket = TicketFactory(workspace=workspace, queue=queue, requester=other)
        MessageFactory(ticket=ticket, author=other)
        MessageFactory(ticket=ticket, author=agent.user, kind=MessageKind.NOTE)
        attachment_add(
            ticket=ticket,
            message=ticket.messages.first(),
            uploaded_by=other,
            upload=SimpleUploadedFile("o.txt", b"theirs", content_type="text/plain"),
        )
    with django_assert_num_queries(len(few.captured_queries)):
        build(membership.user)


def test_tickets_read_in_chunks_keep_each_ticket_with_its_own_messages(workspace, queue, agent, monkeypatch):
    """Messages are read per chunk of tickets: a chunk boundary moves no message to another
    ticket and loses none (chunks of 2 over 5 tickets here)."""
    import tickets.personal_data

    membership, _ = person_with_tickets(workspace, queue, agent_membership=agent)
    for n in range(4):
        ticket = TicketFactory(workspace=workspace, queue=queue, requester=membership.user)
        for i in range(n):
            MessageFactory(ticket=ticket, author=agent.user, body=f"reply {i} on {ticket.number}")
        MessageFactory(ticket=ticket, author=agent.user, kind=MessageKind.NOTE, body="SECRET-NOTE")
    whole, _, _ = build(membership.user)
    monkeypatch.setattr(tickets.personal_data, "CHUNK_ROWS", 2)
    chunked, _, raw = build(membership.user)
    assert chunked["tickets"] == whole["tickets"]
    assert [len(t["messages"]) for t in chunked["tickets"]] == [2, 0, 1, 2, 3]
    assert b"SECRET-NOTE" not in raw
