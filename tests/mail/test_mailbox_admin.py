"""The admins' mailbox pages: the IMAP password is sealed, never shown again, never audited."""

import pytest
from django.urls import reverse

from privacy.audit.models import AuditEvent
from tests.mail.support import corpus, make_mailbox
from tickets.mail.ingest import ingest_email
from tickets.mail.models import Mailbox
from tickets.mail.secrets import unseal

SECRET = "imap-pässword-31337"


def _data(queue, **extra):
    return {
        "address": "Help@Acme.test",
        "queue": queue.pk,
        "unknown_reply": "refuse",
        "is_active": "on",
        "imap_host": "imap.acme.test",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_user": "help",
        "imap_secret": SECRET,
        "imap_folder": "INBOX",
        **extra,
    }


def test_an_admin_adds_a_mailbox_whose_password_is_sealed_and_never_shown(login, admin, queue, caplog):
    client = login(admin)
    url = reverse("admin_mailboxes", args=["acme"])
    response = client.post(url, _data(queue), follow=True)
    assert "Mailbox help@acme.test added." in response.content.decode()
    mailbox = Mailbox.objects.get()
    assert mailbox.address == "help@acme.test" and mailbox.unknown_reply == "refuse"
    assert SECRET not in mailbox.imap_secret_sealed and unseal(mailbox.imap_secret_sealed) == SECRET
    page = client.get(reverse("admin_mailbox", args=["acme", mailbox.pk])).content.decode()
    assert SECRET not in page and mailbox.imap_secret_sealed not in page
    assert "A password is stored (encrypted)" in page
    event = AuditEvent.objects.get(action="mailbox.changed")
    assert event.detail == {"change": "added", "fields": sorted(event.detail["fields"])}
    assert "imap_secret" in event.detail["fields"] and SECRET not in str(event.detail)
    assert SECRET not in caplog.text


def test_saving_without_a_password_keeps_the_stored_one(login, admin, queue):
    client = login(admin)
    client.post(reverse("admin_mailboxes", args=["acme"]), _data(queue))
    mailbox = Mailbox.objects.get()
    sealed = mailbox.imap_secret_sealed
    client.post(
        reverse("admin_mailbox", args=["acme", mailbox.pk]),
        _data(queue, imap_secret="", imap_folder="Support"),
    )
    mailbox.refresh_from_db()
    assert mailbox.imap_secret_sealed == sealed and mailbox.imap_folder == "Support"


def test_imap_without_a_password_is_refused_with_a_message(login, admin, queue):
    response = login(admin).post(reverse("admin_mailboxes", args=["acme"]), _data(queue, imap_secret=""))
    assert response.status_code == 400
    assert "give the server, the user name and the password" in response.content.decode()
    assert not Mailbox.objects.exists()


def test_an_address_of_another_workspaces_mailbox_is_refused(login, admin, queue, other_workspace):
    from tests.factories import QueueFactory

    make_mailbox(other_workspace, QueueFactory(workspace=other_workspace), address="help@acme.test")
    response = login(admin).post(reverse("admin_mailboxes", args=["acme"]), _data(queue))
    assert "Another mailbox already uses this address." in response.content.decode()


def test_the_mailbox_page_shows_why_a_message_was_refused(login, admin, workspace, queue):
    mailbox = make_mailbox(workspace, queue)
    ingest_email(mailbox=mailbox, raw=corpus("no_from.eml"))
    page = login(admin).get(reverse("admin_mailbox", args=["acme", mailbox.pk])).content.decode()
    assert "Rejected" in page and "No From address: nobody to answer." in page


@pytest.mark.parametrize("name", ["admin_mailboxes"])
def test_agents_do_not_see_the_page(login, agent, name):
    assert login(agent).get(reverse(name, args=["acme"])).status_code == 404
