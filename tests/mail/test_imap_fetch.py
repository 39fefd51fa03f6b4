"""Fetching over IMAP from a real dovecot: new mail becomes tickets, once, even after a crash."""

import pytest
from django.core.management import call_command

from tests.conftest import make_member
from tests.mail.support import corpus, email_bytes, make_mailbox
from tickets.mail import imap, ingest
from tickets.mail.imap import FetchError, fetch_all, fetch_mailbox
from tickets.mail.models import InboundEmail, Mailbox, Outcome
from tickets.mail.parse import NO_FROM
from tickets.mail.secrets import seal
from tickets.models import Ticket
from workspaces.models import Role


@pytest.fixture
def ben(workspace):
    return make_member(workspace, Role.REQUESTER, email="ben@example.com", display_name="Ben")


@pytest.fixture
def mailbox(workspace, queue, imap_server):
    return make_mailbox(
        workspace,
        queue,
        imap_host="127.0.0.1",
        imap_port=imap_server.port,
        imap_security="none",
        imap_user=imap_server.user,
        imap_secret_sealed=seal(imap_server.password),
    )


def test_new_mail_is_fetched_into_tickets_and_not_again(mailbox, ben, imap_server, capsys):
    imap_server.deliver(corpus("gmail.eml"), corpus("iso_8859_1.eml"))
    call_command("fetch_mail")
    assert "1 mailbox(es) fetched, 2 message(s) processed, 0 failed." in capsys.readouterr().out
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Cannot log in to the portal",
        "Prüfung der Gebühren",
    ]
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 2 and mailbox.imap_uidvalidity
    assert fetch_all() == {mailbox.pk: 0}
    imap_server.deliver(email_bytes(sender="ben@example.com", subject="Third"))
    assert fetch_all() == {mailbox.pk: 1}
    assert Ticket.objects.count() == 3


def test_a_crash_mid_batch_processes_each_message_once(mailbox, ben, imap_server, monkeypatch):
    imap_server.deliver(*(email_bytes(sender="ben@example.com", subject=f"Mail {n}") for n in range(3)))
    real = ingest.ingest_email
    calls = []

    def crash_after_second_is_recorded(**kwargs):
        row = real(**kwargs)
        calls.append(row.pk)
        if len(calls) == 2:
            raise RuntimeError("worker killed")  # the row is committed, the mark not moved
        return row

    monkeypatch.setattr(imap, "ingest_email", crash_after_second_is_recorded)
    with pytest.raises(RuntimeError):
        fetch_mailbox(Mailbox.objects.get(pk=mailbox.pk))
    monkeypatch.setattr(imap, "ingest_email", real)
    rows = fetch_mailbox(Mailbox.objects.get(pk=mailbox.pk))
    assert [getattr(row, "duplicate", False) for row in rows] == [True, False]
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Mail 0", "Mail 1", "Mail 2"]
    assert InboundEmail.objects.count() == 3


def test_a_new_uidvalidity_starts_over_without_duplicates(mailbox, ben, imap_server):
    imap_server.deliver(email_bytes(sender="ben@example.com", subject="Once"))
    fetch_mailbox(mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=1, imap_last_uid=99)
    rows = fetch_mailbox(Mailbox.objects.get(pk=mailbox.pk))
    assert len(rows) == 1 and rows[0].duplicate
    assert Ticket.objects.count() == 1


def test_a_wrong_password_fails_that_mailbox_only_and_logs_no_secret(
    mailbox, workspace, queue, imap_server, caplog
):
    broken = make_mailbox(
        workspace,
        queue,
        address="zz-broken@acme.test",
        imap_host="127.0.0.1",
        imap_port=imap_server.port,
        imap_security="none",
        imap_user=imap_server.user,
        imap_secret_sealed=seal("wrong-password-123"),
    )
    imap_server.deliver(corpus("no_from.eml"))
    assert len(fetch_mailbox(Mailbox.objects.get(pk=mailbox.pk))) == 1
    # The failing mailbox is reported, and the run goes on to the others (dovecot may answer a
    # login right after a failed one with a temporary failure, so only the broken one is pinned).
    done = fetch_all()
    assert set(done) == {mailbox.pk, broken.pk} and done[broken.pk] == -1
    assert "wrong-password-123" not in caplog.text and imap_server.password not in caplog.text
    with pytest.raises(FetchError):
        fetch_mailbox(broken)
    # The refused message is recorded with its reason, not dropped.
    refused = InboundEmail.objects.get()
    assert refused.outcome == Outcome.REJECTED and refused.reason == NO_FROM
