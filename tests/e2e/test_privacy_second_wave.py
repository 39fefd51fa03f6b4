"""Browser journeys of the second privacy wave: an admin selects text in a message and redacts
it while another agent's open page shows "[redacted]" live; a requester files a data request on
their account page and the admin completes it in the console."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.test_live import (  # noqa: F401
    _close_server_connections,
)
from tests.tickets.ticket_helpers import new_ticket, reply
from tickets.models import Message

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]

SECRET = "4111 1111 1111 1111"


def _select_in_message(page, message_id: int, text: str) -> None:
    """Select ``text`` inside the message's body the way a mouse drag would (a DOM range)."""
    page.evaluate(
        """([id, text]) => {
            const body = document.querySelector('#message-' + id + ' .message-body');
            const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
            let node;
            while ((node = walker.nextNode())) {
                const at = node.data.indexOf(text);
                if (at >= 0) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + text.length);
                    const selection = window.getSelection();
                    selection.removeAllRanges();
                    selection.addRange(range);
                    return;
                }
            }
            throw new Error('text not found');
        }""",
        [message_id, text],
    )


def test_admin_redacts_selected_text_and_the_other_agent_sees_it_live(
    live_asgi, new_page, sign_in, workspace, queue, admin, agent, requester
):
    ticket = off_loop(new_ticket, requester, queue, subject="Refund please")
    message = off_loop(reply, ticket, requester, body=f"My card is {SECRET}, refund it there.")
    ticket_url = f"{live_asgi}/w/{workspace.slug}/tickets/{ticket.number}/"

    agent_page = new_page()
    sign_in(agent_page, live_asgi, agent.user.email, PASSWORD)
    agent_page.goto(ticket_url)
    expect(agent_page.locator("#live-indicator")).to_have_text("Live")
    expect(agent_page.locator(f"#message-{message.pk}")).to_contain_text(str(SECRET))
    agent_page.evaluate("window.noReload = 'still here'")

    admin_page = new_page()
    sign_in(admin_page, live_asgi, admin.user.email, PASSWORD)
    admin_page.goto(ticket_url)
    _select_in_message(admin_page, message.pk, SECRET)
    admin_page.locator(f"#message-{message.pk} a.message-redact").click()
    expect(admin_page).to_have_url(re.compile(r"/redact/\?text="))
    expect(admin_page.get_by_label("Text to redact")).to_have_value(SECRET)
    admin_page.get_by_label("Reason").fill("Card number")
    screenshot(admin_page, "redact-message-form")
    admin_page.get_by_role("button", name="Redact").click()
    expect(admin_page.locator(f"#message-{message.pk}")).to_contain_text("[redacted]")
    expect(admin_page.locator(f"#message-{message.pk} .redacted-badge")).to_be_visible()
    screenshot(admin_page, "redact-message-done")

    # The other agent's open page shows the redaction live, without a reload.
    body = agent_page.locator(f"#message-{message.pk} .message-body")
    expect(body).to_contain_text("[redacted]")
    expect(body).not_to_contain_text(str(SECRET))
    assert agent_page.evaluate("window.noReload") == "still here"
    screenshot(agent_page, "redact-live-other-agent")
    assert SECRET not in off_loop(lambda: Message.objects.get(pk=message.pk).body)


def test_requester_files_a_request_and_the_admin_completes_it(
    live_asgi, new_page, sign_in, workspace, queue, admin, requester
):
    person = new_page()
    sign_in(person, live_asgi, requester.user.email, PASSWORD)
    person.goto(f"{live_asgi}/account/")
    person.get_by_role("link", name="Requests to a workspace").click()
    person.get_by_label("What you ask").select_option("export")
    person.get_by_label("Details (optional)").fill("Please send me everything you hold.")
    screenshot(person, "dsr-account-form")
    person.get_by_role("button", name="Send the request").click()
    expect(person.locator("table.requests")).to_contain_text("A copy of my data")
    expect(person.locator("table.requests")).to_contain_text("Received")

    console = new_page()
    sign_in(console, live_asgi, admin.user.email, PASSWORD)
    console.goto(f"{live_asgi}/w/{workspace.slug}/admin/requests/")
    screenshot(console, "dsr-console-list")
    console.get_by_role("link", name=requester.user.email).click()
    expect(console.get_by_role("heading", name="What this workspace holds about them")).to_be_visible()
    with console.expect_download() as download:
        console.get_by_role("button", name="Download their export (this workspace only)").click()
    assert download.value.suggested_filename.endswith("-export.zip")
    console.get_by_label("Status").select_option("completed")
    console.get_by_label("Answer to the person").fill("Your export was sent to you by email.")
    console.get_by_role("button", name="Save", exact=True).click()
    expect(console.locator("h1")).to_contain_text("Completed")
    expect(console.locator(".trail")).to_contain_text("subject_request.exported")
    screenshot(console, "dsr-console-detail")

    person.reload()
    expect(person.locator("table.requests")).to_contain_text("Completed")
    expect(person.locator("table.requests")).to_contain_text("Your export was sent to you by email.")
    screenshot(person, "dsr-account-completed")


def _ensure_person_policies() -> None:
    from django.utils import timezone

    from privacy.account.models import PolicyVersion

    for kind in ("terms", "privacy"):
        PolicyVersion.objects.get_or_create(
            kind=kind,
            version="e2e-1",
            defaults={"summary": f"The {kind} text.", "published_at": timezone.now(), "is_material": True},
        )


def test_the_other_new_pages_are_usable(
    live_asgi, new_page, sign_in, workspace, queue, admin, agent, requester
):
    """The first-use gate of an invited person, the restriction panel, the privacy settings, the
    file redaction page and "Who saw my data": each shown, checked by axe, photographed."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tickets.attachments import attachment_add
    from workspaces.models import Role
    from workspaces.services import invitation_create

    ticket = off_loop(new_ticket, requester, queue, subject="Scan attached")
    message = off_loop(reply, ticket, requester, body="Here is the scan.")
    attachment = off_loop(
        attachment_add,
        ticket=ticket,
        message=message,
        uploaded_by=requester.user,
        upload=SimpleUploadedFile("passport.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    # A transactional test's database may have lost the migrations' published policies (flushed
    # after an earlier such test): the gate needs current ones.
    off_loop(_ensure_person_policies)
    _invitation, token = off_loop(
        invitation_create,
        workspace=workspace,
        email="nina@example.test",
        role=Role.REQUESTER,
        actor=admin.user,
    )

    invitee = new_page()
    invitee.goto(f"{live_asgi}/invitations/{token}/")
    invitee.locator("#id_display_name").fill("Nina")
    invitee.locator("#id_password1").fill(PASSWORD)
    invitee.locator("#id_password2").fill(PASSWORD)
    invitee.get_by_role("button", name=re.compile("Create")).click()
    expect(invitee.get_by_role("heading", name="Before you start")).to_be_visible()
    screenshot(invitee, "policy-gate")
    invitee.get_by_label("I have read and accept the terms of service and the privacy policy").check()
    invitee.get_by_role("button", name="Accept and continue").click()
    expect(invitee).to_have_url(re.compile(rf"/w/{workspace.slug}/"))

    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{workspace.slug}/admin/members/{requester.pk}/")
    page.get_by_label("Reason").fill("Contests the accuracy of their data")
    page.get_by_role("button", name="Restrict processing").click()
    expect(page.locator(".restricted-badge")).to_contain_text("Restricted since")
    screenshot(page, "member-restricted")
    page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/{ticket.number}/")
    expect(page.locator(".restriction-notice")).to_be_visible()
    page.goto(f"{live_asgi}/w/{workspace.slug}/admin/security/")
    page.get_by_label("Agents may redact").check()
    page.get_by_role("button", name="Save privacy settings").click()
    expect(page.get_by_label("Agents may redact")).to_be_checked()
    screenshot(page, "security-privacy-settings")
    page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/{ticket.number}/attachments/{attachment.pk}/redact/")
    page.get_by_label("Reason").fill("Identity document")
    screenshot(page, "redact-file-form")
    page.get_by_role("button", name="Redact file").click()
    expect(page.locator(".attachment-redacted")).to_contain_text("File redacted")

    person = new_page()
    sign_in(person, live_asgi, requester.user.email, PASSWORD)
    person.goto(f"{live_asgi}/account/#who-saw")
    expect(person.locator("#who-saw")).to_contain_text("restricted the processing of your data")
    screenshot(person, "who-saw-my-data")
