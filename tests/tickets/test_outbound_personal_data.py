"""The delivery records of ticket emails are the recipient's data: in their export (never the
text of an email), and gone with their account."""

import pytest

from privacy.account.erasure import erasure_request, erasure_run
from privacy.account.export import write_archive
from tests.privacy.selfservice_support import export_data
from tests.tickets.ticket_helpers import new_ticket, reply
from tickets.mail.failing import address_is_failing, address_mark_failing
from tickets.mail.models import FailingAddress, OutboundEmail


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_the_export_lists_the_emails_sent_and_a_failing_address(
    tmp_path, queue, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    with after_commit():
        reply(ticket, agent, body="Private words")
    address_mark_failing(requester.user.email, reason="bounce")
    with open(tmp_path / "x.zip", "w+b") as out:
        write_archive(requester.user, out)
        out.seek(0)
        data = export_data(out.read())
    section = data["ticket_emails"]
    assert section["address_failing"] is True
    [row] = section["emails"]
    assert (row["workspace"], row["ticket"], row["kind"], row["status"]) == (
        "acme",
        ticket.number,
        "reply",
        "sent",
    )
    assert "Private words" not in str(section)
    [stored] = OutboundEmail.objects.filter(recipient=requester.user)
    assert stored.email_message_id not in str(data)


def test_erasure_removes_the_records_and_the_failing_mark(queue, agent, requester, after_commit, mailoutbox):
    with after_commit():
        ticket = new_ticket(requester, queue)  # the agent is told: their record
    with after_commit():
        reply(ticket, agent, body="Hi")
    address = requester.user.email
    address_mark_failing(address, reason="bounce")
    address_mark_failing("someone.else@example.test", reason="bounce")
    erasure_run(erasure_id=erasure_request(user=requester.user, grace=0).pk, force=True)
    assert not OutboundEmail.objects.filter(recipient=requester.user).exists()
    assert not address_is_failing(address)
    assert FailingAddress.objects.count() == 1
    # The agent's own records stay.
    assert OutboundEmail.objects.exclude(recipient=requester.user).exists()
