"""The hourly digest (issue 17, part 3): ticket emails of people who chose it are queued, then
sent as one email per person listing them, exactly once; account emails never wait."""

import io
import json
import zipfile
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection

from privacy.account import notification_digest
from privacy.account.erasure import erase_account_data
from privacy.account.export import write_archive
from privacy.account.models import QueuedNotification
from privacy.account.profile import preferences_update
from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, new_ticket, note
from tickets import services


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def hourly(membership):
    preferences_update(user=membership.user, values={"email_delivery": "hourly"})


def to(outbox, user):
    return [m for m in outbox if m.to == [user.email]]


def three_events(workspace, queue, agent, requester, dana, after_commit):
    """A new ticket in Dana's queue, its assignment to her and a note mentioning her."""
    with after_commit():
        ticket = new_ticket(requester, queue, subject="Printer on fire")
    with after_commit():
        services.ticket_assign(ticket=ticket, assignee=dana.user, actor=agent.user)
    with after_commit():
        note(ticket, agent, body=f"@[Dana](user:{dana.user.pk}) look at this")
    return ticket


def test_with_the_digest_three_events_send_nothing_then_one_email_lists_them(
    workspace, queue, agent, requester, after_commit, mailoutbox
):
    dana = agent_of(workspace, queue, display_name="Dana Scully")
    hourly(dana)
    ticket = three_events(workspace, queue, agent, requester, dana, after_commit)
    assert to(mailoutbox, dana.user) == []
    assert to(mailoutbox, agent.user) != []  # the others still get theirs at once

    assert notification_digest.send_notification_digests() == 1
    [digest] = to(mailoutbox, dana.user)
    assert "3 updates" in digest.subject
    entries = [line for line in digest.body.splitlines() if line.startswith("- ")]
    assert len(entries) == 3
    assert any("New ticket" in e or "Printer on fire" in e for e in entries)
    assert any("mentioned you" in e for e in entries)
    assert digest.body.count(f"/w/acme/tickets/{ticket.number}/") == 3
    assert "look at this" not in digest.body  # subjects and links only, never a body
    html = digest.alternatives[0][0]
    assert html.count("<li>") == 3

    # Sent once: the queue is empty and a second run sends nothing.
    assert not QueuedNotification.objects.filter(user=dana.user).exists()
    assert notification_digest.send_notification_digests() == 0
    assert len(to(mailoutbox, dana.user)) == 1


def test_each_event_is_the_default(workspace, queue, agent, requester, after_commit, mailoutbox):
    dana = agent_of(workspace, queue)
    three_events(workspace, queue, agent, requester, dana, after_commit)
    assert len(to(mailoutbox, dana.user)) == 3
    assert not QueuedNotification.objects.exists()


def test_turned_off_kinds_are_not_queued_either(workspace, queue, agent, requester, after_commit, mailoutbox):
    dana = agent_of(workspace, queue)
    hourly(dana)
    preferences_update(user=dana.user, values={"email_on_mention": False, "email_on_assignment": False})
    three_events(workspace, queue, agent, requester, dana, after_commit)
    assert list(QueuedNotification.objects.filter(user=dana.user).values_list("kind", flat=True)) == [
        "ticket"
    ]


def test_account_emails_are_never_delayed(client, requester, django_capture_on_commit_callbacks):
    hourly(requester)
    client.force_login(requester.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email-new_email": "new@example.test", "email-password": PASSWORD})
    assert [m.to for m in mail.outbox] == [["new@example.test"]]
    assert not QueuedNotification.objects.exists()


def test_a_failed_digest_is_kept_for_the_next_run(
    workspace, queue, agent, requester, after_commit, mailoutbox, settings
):
    dana = agent_of(workspace, queue)
    hourly(dana)
    three_events(workspace, queue, agent, requester, dana, after_commit)
    settings.EMAIL_BACKEND = "tests.privacy.test_notification_digest.FailingBackend"
    assert notification_digest.send_notification_digests() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert QueuedNotification.objects.filter(user=dana.user).count() == 3
    assert notification_digest.send_notification_digests() == 1


def test_the_account_page_sets_the_digest_and_it_is_audited(client, requester):
    client.force_login(requester.user)
    page = client.get("/account/").content.decode()
    assert 'value="each"' in page and "checked" in page.split('value="each"')[1][:40]
    response = client.post(
        "/account/notifications/",
        {"notify-email_on_reply": "on", "notify-email_on_mention": "on", "notify-email_delivery": "hourly"},
    )
    assert response.status_code == 302
    page = client.get("/account/").content.decode()
    assert "One hourly digest" in page and "checked" in page.split('value="hourly"')[1][:40]
    event = AuditEvent.objects.filter(action="account.updated", actor=requester.user).latest("id")
    assert event.detail["notifications"]["email_delivery"] == "hourly"
    bad = client.post("/account/notifications/", {"notify-email_delivery": "weekly"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()


def test_queued_emails_are_exported_and_dropped_on_erasure(
    workspace, queue, agent, requester, after_commit, mailoutbox
):
    dana = agent_of(workspace, queue)
    hourly(dana)
    three_events(workspace, queue, agent, requester, dana, after_commit)
    archive = io.BytesIO()
    write_archive(dana.user, archive)
    data = json.loads(zipfile.ZipFile(archive).read("data.json"))
    assert len(data["queued_notifications"]) == 3
    assert data["preferences"]["email_delivery"] == "hourly"
    erase_account_data(dana.user)
    assert not QueuedNotification.objects.filter(user_id=dana.user.pk).exists()


def test_the_beat_schedule_and_the_command_send_them(
    workspace, queue, agent, requester, after_commit, mailoutbox
):
    entry = settings.CELERY_BEAT_SCHEDULE["notification-digests"]
    assert entry["task"] == notification_digest.send_notification_digests_task.name
    assert entry["schedule"] == 60 * 60
    dana = agent_of(workspace, queue)
    hourly(dana)
    three_events(workspace, queue, agent, requester, dana, after_commit)
    out = StringIO()
    call_command("send_notification_digests", stdout=out)
    assert "Sent 1 digest email(s)." in out.getvalue()
    assert len(to(mailoutbox, dana.user)) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks (SKIP LOCKED) need PostgreSQL")
def test_two_runs_at_once_send_each_digest_once(workspace, queue, mailoutbox):
    people = [agent_of(workspace, queue) for _ in range(4)]
    for person in people:
        hourly(person)
        for number in range(3):
            QueuedNotification.objects.create(user=person.user, kind="reply", subject=f"Event {number}")
    results = []
    for _round in range(5):  # several rounds: the race window is small
        run_threads(2, lambda i: results.append(notification_digest.send_notification_digests()))
        for person in people:
            for number in range(3):
                QueuedNotification.objects.create(user=person.user, kind="reply", subject=f"Event {number}")
    notification_digest.send_notification_digests()
    assert len(mailoutbox) == 4 * 6
    for message in mailoutbox:
        assert message.body.count("- ") == 3  # every digest lists its three events, none twice


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")
