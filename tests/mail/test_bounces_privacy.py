"""Bounces mark an address as failing; raw email expires; erasure and export reach mail data."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from privacy.account.erasure import erase_account_data
from privacy.account.export import write_archive
from privacy.retention.sweep import retention_sweep
from tests.conftest import make_member
from tests.factories import ParticipantFactory
from tests.mail.support import corpus, email_bytes, make_mailbox
from tests.privacy.selfservice_support import export_data
from tickets.mail.failing import address_is_failing, address_mark_failing
from tickets.mail.ingest import ingest_email
from tickets.mail.models import FailingAddress, InboundEmail, Outcome
from tickets.models import Message
from workspaces.models import Role


@pytest.fixture
def mailbox(workspace, queue):
    return make_mailbox(workspace, queue)


@pytest.fixture
def ann(workspace):
    return make_member(workspace, Role.REQUESTER, email="ann@example.com", display_name="Ann")


def test_a_dsn_bounce_marks_the_members_address_failing_and_adds_no_reply(mailbox, ann, ticket):
    before = Message.objects.count()
    row = ingest_email(mailbox=mailbox, raw=corpus("dsn_bounce.eml"))
    assert row.outcome == Outcome.BOUNCE and row.reason_code == "bounce"
    failing = FailingAddress.objects.get()
    assert (
        address_is_failing("ann@example.com") and failing.reason == "bounce 5.1.1" and failing.failures == 1
    )
    assert Message.objects.count() == before
    ingest_email(mailbox=mailbox, raw=corpus("dsn_bounce.eml").replace(b"20241203100000", b"20241203100001"))
    failing.refresh_from_db()
    assert failing.failures == 2


def test_mail_from_a_failing_address_clears_the_mark(mailbox, ann):
    ingest_email(mailbox=mailbox, raw=corpus("dsn_bounce.eml"))
    assert address_is_failing("ann@example.com")
    ingest_email(mailbox=mailbox, raw=corpus("outlook.eml"))
    assert not address_is_failing("ann@example.com")


def test_a_bounce_for_an_address_we_do_not_know_keeps_nothing_of_it(mailbox):
    row = ingest_email(mailbox=mailbox, raw=corpus("dsn_bounce.eml"))
    assert row.outcome == Outcome.BOUNCE and row.reason_code == "bounce_unknown"
    assert not FailingAddress.objects.exists()


def test_the_retention_sweep_deletes_raw_email_after_30_days(
    mailbox, ann, django_capture_on_commit_callbacks
):
    old = ingest_email(mailbox=mailbox, raw=email_bytes(sender="ann@example.com"))
    new = ingest_email(mailbox=mailbox, raw=email_bytes(sender="ann@example.com"))
    InboundEmail.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))
    name = old.raw.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        retention_sweep()
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.raw.name == "" and not default_storage.exists(name)
    assert old.ticket_id is not None  # what became of it stays
    assert new.raw.name and default_storage.exists(new.raw.name)


def test_erasure_removes_raw_messages_addresses_and_bounce_records(
    mailbox, ann, django_capture_on_commit_callbacks
):
    row = ingest_email(mailbox=mailbox, raw=corpus("outlook.eml"))
    refused_row = ingest_email(
        mailbox=mailbox, raw=email_bytes(sender="ann@example.com", headers={"Auto-Submitted": "auto-replied"})
    )
    assert refused_row.sender_address == "ann@example.com"
    ingest_email(mailbox=mailbox, raw=corpus("dsn_bounce.eml"))
    name = row.raw.name
    with django_capture_on_commit_callbacks(execute=True):
        erase_account_data(ann.user)
    row.refresh_from_db()
    refused_row.refresh_from_db()
    assert row.raw.name == "" and row.full_text == "" and row.sender is None
    assert refused_row.sender_address == ""
    assert not default_storage.exists(name)
    assert not FailingAddress.objects.exists()


def test_the_export_includes_the_messages_sent_by_email(mailbox, ann, tmp_path):
    ingest_email(mailbox=mailbox, raw=corpus("outlook.eml"))
    with open(tmp_path / "x.zip", "w+b") as out:
        write_archive(ann.user, out)
        out.seek(0)
        data = export_data(out.read())
    (sent,) = data["inbound_emails"]
    assert (
        sent["mailbox"] == "support@acme.test" and sent["outcome"] == "ticket_created" and sent["ticket"] == 1
    )
    assert "Please restart the printer" in sent["full_text"]


def test_staff_see_the_bounce_and_the_whole_email_on_the_ticket_requesters_do_not(
    mailbox, ann, agent, login, client
):
    row = ingest_email(mailbox=mailbox, raw=corpus("outlook.eml"))
    ingest_email(mailbox=mailbox, raw=corpus("dsn_bounce.eml"))
    url = f"/w/acme/tickets/{row.ticket.number}/"
    staff_page = login(agent).get(url).content.decode()
    assert "Mail to ann@example.com bounced (1 time); nothing more is sent there." in staff_page
    assert "Show the whole email" in staff_page and "Please restart the printer" in staff_page
    client.logout()
    own_page = login(ann).get(url).content.decode()
    assert "bounced" not in own_page and "Please restart the printer" not in own_page


def test_staff_see_each_failing_address_of_the_ticket_and_only_theirs(mailbox, ann, workspace, agent, login):
    """The requester's and a participant's failing addresses are both shown, from one query kept
    per number of people (tickets/mail/selectors.py); a stranger's failing address is not."""
    row = ingest_email(mailbox=mailbox, raw=corpus("outlook.eml"))
    bob = make_member(workspace, Role.REQUESTER, email="bob@example.com", display_name="Bob")
    ParticipantFactory(ticket=row.ticket, user=bob.user)
    url = f"/w/acme/tickets/{row.ticket.number}/"
    client = login(agent)
    assert "bounced" not in client.get(url).content.decode()
    address_mark_failing("ann@example.com", reason="bounce 5.1.1")
    address_mark_failing("stranger@example.com", reason="bounce 5.1.1")
    page = client.get(url).content.decode()
    assert "Mail to ann@example.com bounced (1 time)" in page and "bob@example.com bounced" not in page
    address_mark_failing("bob@example.com", reason="bounce 5.1.1")
    address_mark_failing("bob@example.com", reason="bounce 5.1.1")
    page = client.get(url).content.decode()
    assert "Mail to ann@example.com bounced (1 time)" in page
    assert "Mail to bob@example.com bounced (2 times)" in page
    assert "stranger@example.com" not in page
