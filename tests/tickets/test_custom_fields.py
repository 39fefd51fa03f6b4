"""Custom ticket fields (issue 13): admins define them, staff fill them in with validation by
kind, requesters see and are asked only the fields visible to them, audit events never hold a
value, and personal values are exported, anonymized and erased through the registry."""

import io
import json

import pytest
from django.utils import timezone

from privacy.account.erasure import erasure_request, erasure_run
from privacy.account.export import write_archive
from privacy.audit.models import AuditEvent
from tests.privacy.selfservice_support import read_zip
from tests.tickets.ticket_helpers import url
from tickets import custom_fields
from tickets.anonymize import tickets_anonymize
from tickets.models import CustomField, CustomFieldValue, FieldKind, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(workspace, admin):
    make = custom_fields.custom_field_create
    return {
        "product": make(
            workspace=workspace,
            label="Product",
            kind=FieldKind.DROPDOWN,
            options="Printer\nScanner",
            visible_to_requesters=True,
            required=True,
            actor=admin.user,
        ),
        "phone": make(
            workspace=workspace, label="Phone number", kind=FieldKind.TEXT, personal=True, actor=admin.user
        ),
        "contact": make(
            workspace=workspace,
            label="Preferred contact",
            kind=FieldKind.TEXT,
            personal=True,
            visible_to_requesters=True,
            actor=admin.user,
        ),
        "seats": make(workspace=workspace, label="Seats", kind=FieldKind.NUMBER, actor=admin.user),
        "renewal": make(workspace=workspace, label="Renewal", kind=FieldKind.DATE, actor=admin.user),
        "vip": make(workspace=workspace, label="VIP", kind=FieldKind.CHECKBOX, actor=admin.user),
    }


def fields_url(workspace, ticket):
    return url(workspace, "", ticket.number, "fields")


def stored(ticket):
    return dict(CustomFieldValue.objects.filter(ticket=ticket).values_list("field__label", "value"))


def test_values_are_validated_by_kind_and_stored_typed_as_text(fields):
    f = fields
    assert custom_fields.clean_value(f["seats"], " 12.50 ") == "12.5"
    assert custom_fields.clean_value(f["renewal"], "2026-03-31") == "2026-03-31"
    assert custom_fields.clean_value(f["vip"], "on") == "true"
    assert custom_fields.clean_value(f["product"], "Scanner") == "Scanner"
    for field, bad, message in (
        (f["seats"], "lots", custom_fields.NOT_A_NUMBER),
        (f["renewal"], "31/03/2026", custom_fields.NOT_A_DATE),
        (f["product"], "Fax", custom_fields.NOT_AN_OPTION),
    ):
        with pytest.raises(Exception) as refused:
            custom_fields.clean_value(field, bad)
        assert str(message) in str(refused.value)


def test_staff_save_the_fields_form_and_required_ones_block(login, agent, ticket, workspace, fields):
    client = login(agent)
    page = client.get(url(workspace, "", ticket.number)).content.decode()
    assert "Phone number" in page and "Product" in page
    # Staff are told which fields the requester sees and which may hold personal data.
    assert "Shown to the requester" in page and "May hold personal data" in page
    f = fields
    missing = client.post(fields_url(workspace, ticket), {f"cf_{f['phone'].pk}": "+49 30 1234"})
    assert missing.status_code == 400
    assert "This field is required." in missing.content.decode()
    assert stored(ticket) == {}

    bad = client.post(
        fields_url(workspace, ticket), {f"cf_{f['product'].pk}": "Printer", f"cf_{f['seats'].pk}": "x"}
    )
    assert bad.status_code == 400 and "Enter a number." in bad.content.decode()
    assert stored(ticket) == {}

    saved = client.post(
        fields_url(workspace, ticket),
        {
            f"cf_{f['product'].pk}": "Printer",
            f"cf_{f['phone'].pk}": "+49 30 1234",
            f"cf_{f['seats'].pk}": "3",
            f"cf_{f['renewal'].pk}": "2026-03-31",
            f"cf_{f['vip'].pk}": "on",
        },
        follow=True,
    )
    assert "Fields saved." in saved.content.decode()
    assert stored(ticket) == {
        "Product": "Printer",
        "Phone number": "+49 30 1234",
        "Seats": "3",
        "Renewal": "2026-03-31",
        "VIP": "true",
    }
    # One event, field ids and labels only: never the (personal) values.
    event = AuditEvent.objects.get(action="ticket.fields_changed")
    assert {d["label"] for d in event.detail["fields"]} == {
        "Product",
        "Phone number",
        "Seats",
        "Renewal",
        "VIP",
    }
    assert "+49" not in json.dumps(event.detail)


def test_requesters_see_only_fields_visible_to_them(login, requester, agent, ticket, workspace, fields):
    f = fields
    custom_fields.ticket_set_field_values(
        ticket=ticket,
        values={f["product"].pk: "Scanner", f["phone"].pk: "+49 30 999", f["contact"].pk: "mornings"},
        actor=agent.user,
    )
    page = login(requester).get(url(workspace, "", ticket.number)).content.decode()
    assert "Scanner" in page and "mornings" in page
    assert "Phone number" not in page and "+49 30 999" not in page
    assert (
        login(requester).post(fields_url(workspace, ticket), {f"cf_{f['product'].pk}": "Printer"}).status_code
        == 404
    )
    assert stored(ticket)["Product"] == "Scanner"


def test_requesters_are_asked_visible_fields_when_opening_a_ticket(
    login, requester, queue, workspace, fields
):
    f = fields
    client = login(requester)
    form = client.get(url(workspace, "new/")).content.decode()
    assert "Product" in form and "Preferred contact" in form and "Phone number" not in form
    assert "Shown to the requester" not in form
    base = {"subject": "Jam", "queue": queue.pk, "priority": "normal", "description": "It jams."}
    refused = client.post(url(workspace, "new/"), base)
    assert refused.status_code == 400
    assert not CustomFieldValue.objects.exists()
    opened = client.post(
        url(workspace, "new/"),
        {**base, f"cf_{f['product'].pk}": "Printer", f"cf_{f['phone'].pk}": "smuggled"},
    )
    assert opened.status_code == 302
    assert dict(CustomFieldValue.objects.values_list("field__label", "value")) == {"Product": "Printer"}


def test_admins_define_change_and_archive_fields(login, admin, agent, ticket, workspace):
    client = login(admin)
    created = client.post(
        f"/w/{workspace.slug}/admin/fields/",
        {"label": "Order number", "kind": "text", "personal": "on", "position": "5"},
        follow=True,
    )
    assert "Field “Order number” added." in created.content.decode()
    field = CustomField.objects.get(label="Order number")
    assert field.personal and not field.visible_to_requesters
    clash = client.post(f"/w/{workspace.slug}/admin/fields/", {"label": "ORDER NUMBER", "kind": "text"})
    assert clash.status_code == 400 and "already has a field called" in clash.content.decode()
    no_options = client.post(f"/w/{workspace.slug}/admin/fields/", {"label": "Product", "kind": "dropdown"})
    assert no_options.status_code == 400 and "needs at least one option" in no_options.content.decode()

    client.post(
        f"/w/{workspace.slug}/admin/fields/{field.pk}/", {"label": "Order no.", "visible_to_requesters": "on"}
    )
    field.refresh_from_db()
    assert (field.label, field.visible_to_requesters, field.kind) == ("Order no.", True, "text")
    client.post(f"/w/{workspace.slug}/admin/fields/{field.pk}/archive/")
    field.refresh_from_db()
    assert field.archived_at is not None
    assert f'name="cf_{field.pk}"' not in login(agent).get(url(workspace, "", ticket.number)).content.decode()
    actions = list(
        AuditEvent.objects.filter(action__startswith="custom_field.")
        .order_by("id")
        .values_list("action", "detail")
    )
    assert [a for a, _ in actions] == [
        "custom_field.created",
        "custom_field.changed",
        "custom_field.archived",
    ]
    assert actions[1][1]["changed"] == ["label", "personal", "visible_to_requesters"]


def test_agents_and_other_workspaces_cannot_reach_the_fields_admin(
    login, agent, admin, workspace, other_workspace
):
    from tests.conftest import make_member
    from workspaces.models import Role

    field = custom_fields.custom_field_create(
        workspace=workspace, label="Secret", kind="text", actor=admin.user
    )
    assert login(agent).get(f"/w/{workspace.slug}/admin/fields/").status_code == 404
    outsider = make_member(other_workspace, Role.ADMIN)
    assert login(outsider).get(f"/w/{other_workspace.slug}/admin/fields/{field.pk}/").status_code == 404


# Personal data ------------------------------------------------------------------------------


def export_of(user) -> dict:
    out = io.BytesIO()
    write_archive(user, out)
    with read_zip(out.getvalue()) as archive:
        return json.loads(archive.read("data.json"))


def test_the_requesters_export_holds_personal_values_they_may_see(requester, agent, ticket, fields):
    f = fields
    custom_fields.ticket_set_field_values(
        ticket=ticket,
        values={f["product"].pk: "Printer", f["contact"].pk: "mornings", f["phone"].pk: "+49 30 999"},
        actor=agent.user,
    )
    section = export_of(requester.user)["ticket_fields"]
    assert [(row["ticket"], row["field"], row["value"]) for row in section] == [
        (ticket.number, "Preferred contact", "mornings")
    ]
    # The hidden personal value never reaches the requester; the non-personal one is not theirs.
    assert "+49 30 999" not in json.dumps(export_of(requester.user))


def test_anonymizing_a_ticket_blanks_personal_values_and_keeps_the_others(requester, agent, ticket, fields):
    f = fields
    custom_fields.ticket_set_field_values(
        ticket=ticket,
        values={f["product"].pk: "Printer", f["contact"].pk: "mornings", f["phone"].pk: "+49 30 999"},
        actor=agent.user,
    )
    counts = tickets_anonymize(workspace_id=ticket.workspace_id, ticket_ids=[ticket.pk])
    assert counts["field_values_erased"] == 2
    assert stored(ticket) == {"Product": "Printer"}


def test_the_retention_sweep_anonymizes_personal_values_of_closed_tickets(
    requester, agent, ticket, fields, django_capture_on_commit_callbacks
):
    from privacy.retention.sweep import retention_sweep

    f = fields
    custom_fields.ticket_set_field_values(
        ticket=ticket, values={f["product"].pk: "Scanner", f["phone"].pk: "+49 30 999"}, actor=agent.user
    )
    ticket.status, ticket.closed_at = Status.CLOSED, timezone.now() - timezone.timedelta(days=4000)
    ticket.save(update_fields=["status", "closed_at"])
    with django_capture_on_commit_callbacks(execute=True):
        retention_sweep(now=timezone.now())
    ticket.refresh_from_db()
    assert ticket.anonymized_at is not None
    assert stored(ticket) == {"Product": "Scanner"}


def test_erasing_the_requester_erases_their_personal_values(requester, agent, ticket, fields):
    f = fields
    custom_fields.ticket_set_field_values(
        ticket=ticket,
        values={f["product"].pk: "Printer", f["contact"].pk: "mornings", f["phone"].pk: "+49 30 999"},
        actor=agent.user,
    )
    erasure_run(erasure_id=erasure_request(user=requester.user, grace=0).pk, force=True)
    assert stored(ticket) == {"Product": "Printer"}


def test_an_admins_erasure_in_this_workspace_erases_personal_values(requester, agent, admin, ticket, fields):
    from privacy.requests import services as requests
    from privacy.requests.models import RequestKind, RequestVia

    f = fields
    custom_fields.ticket_set_field_values(
        ticket=ticket, values={f["product"].pk: "Printer", f["phone"].pk: "+49 30 999"}, actor=agent.user
    )
    found = requests.request_file(
        workspace=requester.workspace,
        subject=requester.user,
        kind=RequestKind.ERASURE,
        filed_by=admin.user,
        via=RequestVia.CONSOLE,
    )
    counts = requests.request_erase(subject_request=found, actor=admin.user)
    assert counts["field_values_erased"] == 1
    assert stored(ticket) == {"Product": "Printer"}


def test_a_legal_hold_keeps_personal_values_from_account_erasure(requester, agent, admin, ticket, fields):
    from privacy.retention.holds import legal_hold_place
    from privacy.retention.models import HoldScope

    f = fields
    custom_fields.ticket_set_field_values(
        ticket=ticket, values={f["phone"].pk: "+49 30 999"}, actor=agent.user, enforce_required=False
    )
    legal_hold_place(
        workspace=ticket.workspace, actor=admin.user, scope=HoldScope.TICKET, reason="Case", ticket=ticket
    )
    erasure_run(erasure_id=erasure_request(user=requester.user, grace=0).pk, force=True)
    assert stored(ticket) == {"Phone number": "+49 30 999"}


def test_only_a_requester_visible_field_is_announced_to_the_requester(
    agent, ticket, fields, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets import realtime

    sent = []
    monkeypatch.setattr(realtime, "_send", lambda groups, event: sent.extend(groups))
    f = fields
    with django_capture_on_commit_callbacks(execute=True):
        custom_fields.ticket_set_field_values(
            ticket=ticket, values={f["phone"].pk: "+49 30 999"}, actor=agent.user, enforce_required=False
        )
    assert realtime.ticket_public_group(ticket.pk) not in sent
    assert realtime.ticket_staff_group(ticket.pk) in sent
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        custom_fields.ticket_set_field_values(
            ticket=ticket, values={f["product"].pk: "Printer"}, actor=agent.user, enforce_required=False
        )
    assert realtime.ticket_public_group(ticket.pk) in sent
