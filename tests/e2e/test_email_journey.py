"""The email channel end to end: an email becomes a ticket on the agent's screen live, the
agent's reply leaves by SMTP, and the requester's emailed answer (to that email's Reply-To)
lands in the same ticket, live, without the quoted history."""

import re
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect

from tests.conftest import make_member
from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tickets.mail.ingest import ingest_email
from tickets.mail.models import Mailbox
from tickets.models import Ticket
from workspaces.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]


def _wait_for(condition, *, timeout=15.0):
    """Poll a condition outside the browser (the SMTP server's inbox), bounded in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _email(*, sender, to, subject, body, headers=()):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    for name, value in headers:
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def test_email_to_ticket_reply_by_smtp_and_emailed_answer_lands_live(
    live_asgi, new_page, sign_in, smtp_server, workspace, queue, agent
):
    base = live_asgi
    mailbox = Mailbox.objects.create(workspace=workspace, address="support@acme.test", queue=queue)
    make_member(workspace, Role.REQUESTER, email="ann@example.com", display_name="Ann Example")
    subject = "VPN drops every ten minutes"

    agent_page = new_page()
    sign_in(agent_page, base, agent.user.email, PASSWORD)
    agent_page.goto(f"{base}/w/{workspace.slug}/tickets/?view=unassigned")
    expect(agent_page.locator("#live-indicator")).to_have_text("Live")

    # 1. An email arrives (as fetch_mail or ingest_email would hand it over).
    first = _email(
        sender="Ann Example <ann@example.com>",
        to="support@acme.test",
        subject=subject,
        body="Since this morning the VPN drops every ten minutes.\n\n-- \nAnn Example\nAccounting",
    )
    row = off_loop(ingest_email, mailbox=mailbox, raw=first)
    assert row.outcome == "ticket_created"

    # 2. It appears live in the agent's list.
    list_row = agent_page.locator("#ticket-rows tr", has_text=subject)
    expect(list_row).to_be_visible()
    screenshot(agent_page, "email-journey-list")
    list_row.get_by_role("link", name=subject).click()
    expect(agent_page.locator("#live-indicator")).to_have_text("Live")
    expect(agent_page.locator(".message-reply").first).to_contain_text("drops every ten minutes")
    expect(agent_page.locator(".message-reply .message-body").first).not_to_contain_text("Accounting")

    # 3. The agent replies in the browser; the reply leaves by SMTP to Ann.
    agent_page.get_by_label("Your message").fill("Please update the VPN client to 5.2 and tell us.")
    agent_page.get_by_role("button", name="Send public reply").click()
    expect(agent_page.locator("#message-list")).to_contain_text("update the VPN client")
    sent = _wait_for(
        lambda: [m for m in smtp_server.to("ann@example.com") if "update the VPN client" in m.as_string()]
    )[-1]
    reply_to = str(sent["Reply-To"])
    assert re.match(r"^support\+r-[0-9a-z]+-[0-9a-z]+-[0-9a-f]{16}@acme\.test$", reply_to)

    # 4. Ann answers from her mail client, to the Reply-To, quoting the agent's email.
    answer = _email(
        sender="Ann Example <ann@example.com>",
        to=reply_to,
        subject=f"Re: {sent['Subject']}",
        body=(
            "Updated to 5.2, it has been stable for an hour. Thanks!\n\n"
            "On Tue, 3 Dec 2024 at 10:00, Acme Support <support@acme.test> wrote:\n"
            "> Please update the VPN client to 5.2 and tell us.\n"
        ),
        headers=[("In-Reply-To", str(sent["Message-ID"])), ("References", str(sent["Message-ID"]))],
    )
    landed = off_loop(ingest_email, mailbox=mailbox, raw=answer)
    assert landed.outcome == "reply_added" and landed.ticket_id == row.ticket_id

    # 5. Visible live on the agent's open ticket page, in the same ticket, without the quote.
    last = agent_page.locator("#message-list .message-reply").last
    expect(last).to_contain_text("stable for an hour")
    expect(last.locator(".message-body")).not_to_contain_text("wrote:")
    screenshot(agent_page, "email-journey-ticket")
    assert Ticket.objects.count() == 1
    assert Ticket.objects.get().messages.count() == 3

    # The whole email stays available to staff after a reload.
    agent_page.reload()
    agent_page.get_by_text("Show the whole email").last.click()
    expect(agent_page.locator(".full-email-text").last).to_contain_text("> Please update the VPN client")
    screenshot(agent_page, "email-journey-full-email")


def test_an_admin_adds_a_mailbox_and_sees_why_mail_was_refused(
    live_asgi, new_page, sign_in, workspace, queue, admin
):
    base = live_asgi
    page = new_page()
    sign_in(page, base, admin.user.email, PASSWORD)
    page.goto(f"{base}/w/{workspace.slug}/admin/mailboxes/")
    page.get_by_label("Support address").fill("help@acme.test")
    page.get_by_label("IMAP server (optional)").fill("imap.acme.test")
    page.get_by_label("IMAP user name").fill("help")
    page.get_by_label("IMAP password").fill("s3cret-imap-pass")
    page.get_by_role("button", name="Add mailbox").click()
    expect(page.get_by_text("Mailbox help@acme.test added.")).to_be_visible()
    mailbox = Mailbox.objects.get(address="help@acme.test")
    off_loop(
        ingest_email,
        mailbox=mailbox,
        raw=b"To: help@acme.test\r\nSubject: x\r\nMessage-ID: <x@y>\r\n\r\nno sender\r\n",
    )
    page.get_by_role("link", name="Change help@acme.test").click()
    expect(page.get_by_role("table")).to_contain_text("Rejected: No From address: nobody to answer.")
    assert "s3cret-imap-pass" not in page.content()
    screenshot(page, "mailbox-admin")
