"""Issue 17, "no silent overwrite": the properties form carries the version and the values the
person saw; only what they changed is applied, a field someone else changed since is refused
with what changed, other fields are merged on top of the newer ticket."""

import threading

import pytest
from django.core import mail

from tests.concurrency import run_threads
from tests.tickets.ticket_helpers import agent_of, properties_data, url
from tickets import services
from tickets.forms import FORM_OUT_OF_DATE
from tickets.models import Priority, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(workspace, queue):
    return agent_of(workspace, queue, display_name="Ann")


@pytest.fixture
def bea(workspace):
    from tests.conftest import make_member
    from workspaces.models import Role

    return make_member(workspace, Role.ADMIN, display_name="Bea")


def _post(client, workspace, ticket, data, capture):
    with capture(execute=True):
        return client.post(url(workspace, "", ticket.number, "properties"), data)


def _emails_to(person):
    return [m.subject for m in mail.outbox if m.to == [person.user.email]]


def _ann_takes_it(client, workspace, ticket, ann, capture, **extra):
    """Ann sets herself as assignee, Pending and High (the scene of the issue)."""
    data = properties_data(
        ticket, assignee=ann.user.pk, status=Status.PENDING, priority=Priority.HIGH, **extra
    )
    response = _post(client, workspace, ticket, data, capture)
    assert response.status_code == 302
    return response


def test_a_stale_save_of_the_same_field_is_refused_with_what_changed_and_keeps_the_choices(
    workspace, ticket, ann, bea, requester, client, django_capture_on_commit_callbacks
):
    seen_by_bea = properties_data(ticket)  # Bea opens the page
    client.force_login(ann.user)
    _ann_takes_it(client, workspace, ticket, ann, django_capture_on_commit_callbacks)
    saved = Ticket.objects.get(pk=ticket.pk)
    emails_before = len(mail.outbox)

    client.force_login(bea.user)
    response = _post(
        client,
        workspace,
        ticket,
        {**seen_by_bea, "priority": Priority.URGENT},
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 409
    page = response.content.decode().replace("&#x27;", "'")
    assert (
        "Ann set Status to Pending, Priority to High and Assignee to Ann since you opened the page." in page
    )
    assert "Your choices are kept below and were not saved" in page
    form = response.context["properties_form"]
    assert form["priority"].value() == Priority.URGENT  # Bea's choice, for one click
    assert form["status"].value() == Status.PENDING  # what she did not touch shows as it is now
    assert str(form["version"].value()) == str(saved.version)  # ...against the new version
    assert form["seen_status"].value() == Status.PENDING
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id, ticket.version) == (
        Status.PENDING,
        Priority.HIGH,
        ann.user.pk,
        saved.version,
    )
    assert len(mail.outbox) == emails_before  # nothing saved, nobody emailed

    # One click: the form as shown again is posted as it is.
    again = {name: ("" if value is None else value) for name, value in form.data.items()}
    response = _post(client, workspace, ticket, again, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == (
        Status.PENDING,
        Priority.URGENT,
        ann.user.pk,
    )
    assert len(mail.outbox) == emails_before  # a priority change emails nobody


def test_the_scene_of_the_issue_a_stale_save_of_another_field_merges_and_loses_nothing(
    workspace, ticket, ann, bea, requester, client, django_capture_on_commit_callbacks
):
    """Ann sets assignee, Pending and High; Bea, on a stale page, changes only the queue: the
    ticket stays Pending and assigned, and the requester is not told it is "new" again."""
    seen_by_bea = properties_data(ticket)
    client.force_login(ann.user)
    data = properties_data(ticket, assignee=ann.user.pk, status=Status.PENDING)
    assert _post(client, workspace, ticket, data, django_capture_on_commit_callbacks).status_code == 302
    status_emails = _emails_to(requester)
    assert len(status_emails) == 1  # "now pending"

    client.force_login(bea.user)
    response = _post(
        client,
        workspace,
        ticket,
        {**seen_by_bea, "priority": Priority.LOW},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == (Status.PENDING, Priority.LOW, ann.user.pk)
    assert _emails_to(requester) == status_emails  # no "Ticket is now new"
    flash = [str(m) for m in response.wsgi_request._messages]
    assert flash[-1:] == [
        "The ticket was updated. Ann set Status to Pending and Assignee to Ann since you opened the page. "
        "Your changes were applied on top of theirs."
    ]


def test_a_stale_save_with_no_change_changes_nothing_and_emails_nobody(
    workspace, ticket, ann, bea, requester, client, django_capture_on_commit_callbacks
):
    seen_by_bea = properties_data(ticket)
    client.force_login(ann.user)
    _ann_takes_it(client, workspace, ticket, ann, django_capture_on_commit_callbacks)
    version, emails = Ticket.objects.get(pk=ticket.pk).version, len(mail.outbox)

    client.force_login(bea.user)
    response = _post(client, workspace, ticket, seen_by_bea, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id, ticket.version) == (Status.PENDING, ann.user.pk, version)
    assert len(mail.outbox) == emails


def test_setting_the_value_someone_else_already_set_is_no_conflict(
    workspace, ticket, ann, bea, client, django_capture_on_commit_callbacks
):
    seen_by_bea = properties_data(ticket)
    client.force_login(ann.user)
    _ann_takes_it(client, workspace, ticket, ann, django_capture_on_commit_callbacks)
    version = Ticket.objects.get(pk=ticket.pk).version
    client.force_login(bea.user)
    stale = {**seen_by_bea, "status": Status.PENDING}
    assert _post(client, workspace, ticket, stale, django_capture_on_commit_callbacks).status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).version == version


def test_every_property_change_counts_a_version_and_names_who_made_it(ticket, ann, requester):
    start = Ticket.objects.get(pk=ticket.pk).version
    services.ticket_set_priority(ticket=ticket, priority=Priority.HIGH, actor=ann.user)
    services.ticket_assign(ticket=ticket, assignee=ann.user, actor=ann.user)
    services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=ann.user)
    # The requester's reply reopens the ticket: a property change too.
    services.message_post(ticket=ticket, author=requester.user, kind="reply", body="Still broken")
    ticket.refresh_from_db()
    assert ticket.version == start + 4
    assert ticket.properties_changed_by == requester.user


def test_a_post_without_the_seen_values_is_refused_as_out_of_date(workspace, ticket, bea, login):
    response = login(bea).post(
        url(workspace, "", ticket.number, "properties"),
        {"status": "pending", "priority": "high", "queue": ticket.queue_id, "assignee": ""},
    )
    assert response.status_code == 400
    assert FORM_OUT_OF_DATE.encode() in response.content.replace(b"&#x27;", b"'")
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_several_changes_since_name_the_latest_author(ticket, ann, bea):
    seen = services.property_values(Ticket.objects.get(pk=ticket.pk))
    version = Ticket.objects.get(pk=ticket.pk).version
    services.ticket_set_status(ticket=ticket, status=Status.OPEN, actor=ann.user)
    services.ticket_set_priority(ticket=ticket, priority=Priority.HIGH, actor=bea.user)
    wanted = {"status": Status.SOLVED, "priority": Priority.NORMAL, "queue": ticket.queue, "assignee": None}
    with pytest.raises(services.PropertiesConflict) as refused:
        services.ticket_update_properties(
            ticket=ticket, actor=bea.user, seen_version=version, seen=seen, wanted=wanted
        )
    assert refused.value.message.startswith(
        "Since you opened the page, Status was set to Open and Priority to High (the latest change by Bea)."
    )
    assert refused.value.fields == ("status",)


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_the_same_field_at_once_one_wins_one_is_refused(workspace, ticket, ann, bea):
    fresh = Ticket.objects.get(pk=ticket.pk)
    seen, version = services.property_values(fresh), fresh.version
    choices = {0: (ann.user, Priority.HIGH), 1: (bea.user, Priority.URGENT)}
    refused, saved = [], []
    lock = threading.Lock()

    def save(index):
        actor, priority = choices[index]
        wanted = {"status": seen["status"], "priority": priority, "queue": fresh.queue, "assignee": None}
        try:
            services.ticket_update_properties(
                ticket=Ticket.objects.get(pk=ticket.pk),
                actor=actor,
                seen_version=version,
                seen=seen,
                wanted=wanted,
            )
        except services.PropertiesConflict:
            with lock:
                refused.append(index)
        else:
            with lock:
                saved.append(index)

    run_threads(2, save)

    assert len(refused) == 1 and len(saved) == 1
    ticket.refresh_from_db()
    winner_actor, winner_priority = choices[saved[0]]
    assert (ticket.priority, ticket.version, ticket.properties_changed_by) == (
        winner_priority,
        version + 1,
        winner_actor,
    )


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_different_fields_at_once_both_land(workspace, ticket, ann, bea):
    fresh = Ticket.objects.get(pk=ticket.pk)
    seen, version = services.property_values(fresh), fresh.version
    wanted = {
        0: {"status": Status.PENDING, "priority": seen["priority"], "queue": fresh.queue, "assignee": None},
        1: {"status": seen["status"], "priority": Priority.URGENT, "queue": fresh.queue, "assignee": None},
    }
    actors = {0: ann.user, 1: bea.user}

    def save(index):
        services.ticket_update_properties(
            ticket=Ticket.objects.get(pk=ticket.pk),
            actor=actors[index],
            seen_version=version,
            seen=seen,
            wanted=wanted[index],
        )

    run_threads(2, save)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.version) == (Status.PENDING, Priority.URGENT, version + 2)


# Message edits: the same rule for a message's text -------------------------------------------


def test_an_edit_against_a_text_changed_since_is_refused_and_keeps_the_typed_text(
    workspace, ticket, ann, client
):
    from tests.tickets.ticket_helpers import note

    posted = note(ticket, ann, body="Call the vendor")
    edit_url = url(workspace, "", ticket.number, "messages", posted.pk, "edit")
    client.force_login(ann.user)
    first_tab = client.get(edit_url).context["form"]["seen"].value()
    # A second window saves first.
    second = client.post(edit_url, {"body": "Call the vendor at 9", "seen": first_tab})
    assert second.status_code == 302

    response = client.post(edit_url, {"body": "Call the vendor, ask for Jo", "seen": first_tab})

    assert response.status_code == 409
    page = response.content.decode().replace("&#x27;", "'")
    assert str(services.EDIT_CHANGED_SINCE) in page
    assert "Call the vendor, ask for Jo" in page  # the typed text stays in the box
    assert "Call the vendor at 9" in page  # and the text now is shown
    posted.refresh_from_db()
    assert posted.body == "Call the vendor at 9"
    # One click: the re-shown form carries the newer text's version.
    again = response.context["form"]
    assert again["seen"].value() == services.body_version("Call the vendor at 9")
    assert (
        client.post(edit_url, {"body": again["body"].value(), "seen": again["seen"].value()}).status_code
        == 302
    )
    posted.refresh_from_db()
    assert posted.body == "Call the vendor, ask for Jo"


def test_an_edit_without_the_seen_version_is_refused_as_out_of_date(workspace, ticket, ann, login):
    from tests.tickets.ticket_helpers import note

    posted = note(ticket, ann, body="Draft")
    response = login(ann).post(
        url(workspace, "", ticket.number, "messages", posted.pk, "edit"), {"body": "New"}
    )
    assert response.status_code == 400
    assert FORM_OUT_OF_DATE.encode() in response.content.replace(b"&#x27;", b"'")
    posted.refresh_from_db()
    assert posted.body == "Draft"
