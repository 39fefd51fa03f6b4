"""Issue "Agents work a ticket together", parts 3 and 4, in three browsers: the requester
replies on a Pending ticket assigned to agent Ann, whose open page shows it live with the status
back to Open, and Ann is emailed; Ann answers with "Send and set Solved", the requester's open
page shows the reply and Solved live and one email arrives; agent Bea moves the ticket to a queue
Ann does not work: the ticket leaves Ann's open list, her open ticket page stops its live
updates, and her next send is refused in words with her typed text kept."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, new_ticket
from tickets import services
from tickets.models import Status, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]

SUBJECT = "Invoices print with a blank first page"
DRAFT = "One more thing: the printer driver update is on the intranet if you need it again."


def _pending_ticket_of(requester, queue, ann):
    ticket = new_ticket(requester, queue, subject=SUBJECT, description="Since Monday, every invoice.")
    ticket = services.ticket_assign(ticket=ticket, assignee=ann.user, actor=ann.user)
    return services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=ann.user)


def _signed_in(new_page, sign_in, base, membership, path):
    page = new_page()
    sign_in(page, base, membership.user.email, PASSWORD)
    page.goto(f"{base}{path}")
    expect(page.locator("#live-indicator")).to_have_text("Live")
    return page


def _mail_to(membership):
    return [m for m in mail.outbox if m.to == [membership.user.email]]


def test_reply_reopens_solve_notifies_and_a_transfer_leaves_the_agent_nothing_broken(
    live_asgi, new_page, sign_in, workspace, queue, other_queue, requester
):
    base = live_asgi
    ann = agent_of(workspace, queue, display_name="Ann")
    bea = agent_of(workspace, queue, display_name="Bea")
    ticket = off_loop(_pending_ticket_of, requester, queue, ann)
    ticket_path = f"/w/{workspace.slug}/tickets/{ticket.number}/"
    mail.outbox.clear()

    requester_page = _signed_in(new_page, sign_in, base, requester, ticket_path)
    ann_page = _signed_in(new_page, sign_in, base, ann, ticket_path)
    ann_list = ann_page.context.new_page()  # a second tab of Ann's: her ticket list
    ann_list.goto(f"{base}/w/{workspace.slug}/tickets/")
    expect(ann_list.locator("#live-indicator")).to_have_text("Live")
    ann_row = ann_list.locator(f"#ticket-row-{ticket.number}")
    expect(ann_row).to_contain_text("Pending")
    # Pages that must follow live carry a marker a reload would drop.
    for page in (ann_page, ann_list):
        page.evaluate("window.noReload = true")
    expect(ann_page.locator("#ticket-status")).to_have_text("Pending")

    # 1. The requester answers the Pending ticket: Ann sees it live, the ticket is Open again.
    requester_page.get_by_label("Your message").fill("Tried the new driver, still a blank page.")
    requester_page.get_by_role("button", name="Send reply").click()
    expect(requester_page.locator(".flash-success")).to_contain_text("Your reply was posted.")
    requester_page.evaluate("window.noReload = true")
    expect(ann_page.locator("#message-list")).to_contain_text("still a blank page")
    expect(ann_page.locator("#ticket-status")).to_have_text("Open")
    expect(ann_page.locator("#properties-form").get_by_label("Status")).to_have_value(Status.OPEN)
    expect(ann_row).to_contain_text("Open")
    assert ann_page.evaluate("window.noReload") is True
    screenshot(ann_page, "team-status-reopened-live")
    # Ann, the assignee, is emailed the reply; nobody else is (Bea works the queue, but the
    # ticket is Ann's).
    (to_ann,) = _mail_to(ann)
    assert to_ann.subject.startswith(f"Re: [#{ticket.number}] ")
    assert "still a blank page" in to_ann.body and "The ticket is open." in to_ann.body
    assert [m.to for m in mail.outbox] == [[ann.user.email]]
    mail.outbox.clear()

    # 2. Ann answers and solves in one click: the requester's open page follows, one email.
    ann_page.get_by_label("Your message").fill("Fixed: the tray setting was on 'Letterhead first'.")
    ann_page.get_by_role("button", name="Send and set Solved").click()
    expect(ann_page.locator(".flash-success")).to_contain_text("the ticket is now Solved")
    expect(requester_page.locator("#message-list")).to_contain_text("Letterhead first")
    expect(requester_page.locator("#ticket-status")).to_have_text("Solved")
    assert requester_page.evaluate("window.noReload") is True
    screenshot(requester_page, "team-status-solved-live")
    (to_requester,) = _mail_to(requester)
    assert "Letterhead first" in to_requester.body and "The ticket is solved." in to_requester.body
    assert [m.to for m in mail.outbox] == [[requester.user.email]]
    mail.outbox.clear()

    # 3. Ann starts another reply; meanwhile Bea moves the ticket to Billing, which Ann does not work.
    ann_page.evaluate("window.noReload = true")
    ann_page.get_by_label("Your message").fill(DRAFT)
    draft_key = f"helpdesk-draft:{ann.user.pk}:{workspace.slug}:{ticket.number}:reply"
    ann_page.wait_for_function("key => window.localStorage.getItem(key) !== null", arg=draft_key)
    bea_page = _signed_in(new_page, sign_in, base, bea, ticket_path)
    bea_form = bea_page.locator("#properties-form")
    bea_form.get_by_label("Queue").select_option(label=other_queue.name)
    bea_form.get_by_role("button", name="Save changes").click()
    expect(bea_page.locator(".flash-info")).to_have_text(
        f"Ticket #{ticket.number} moved to {other_queue.name}; you no longer see it."
    )

    # Ann's list drops the row and her ticket page stops its live updates, without a reload.
    expect(ann_row).to_have_count(0)
    # Ann's list is her default view, "My open".
    expect(ann_list.locator("[data-live-empty]")).to_contain_text("No tickets in “My open” right now.")
    expect(ann_list.locator("table.ticket-list")).to_be_hidden()
    expect(ann_page.locator("#live-indicator")).to_have_text("Live updates stopped")
    for page in (ann_page, ann_list, requester_page):
        assert page.evaluate("window.noReload") is True
    screenshot(ann_list, "team-status-moved-away-list")

    # Her send is refused in words (not a crash, not a bare 404), her text kept.
    with ann_page.expect_response(lambda r: r.request.method == "POST") as posted:
        ann_page.get_by_role("button", name="Send public reply").click()
    assert posted.value.status == 404
    summary = ann_page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Your message was not sent")
    expect(summary).to_contain_text("it may have moved to a queue you do not work")
    expect(ann_page.get_by_label("Your message (not sent)")).to_have_value(DRAFT)
    assert ann_page.evaluate("key => window.localStorage.getItem(key)", draft_key) == DRAFT
    screenshot(ann_page, "team-status-moved-away-send")

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.queue_id, ticket.assignee_id, ticket.status) == (other_queue.pk, None, Status.SOLVED)
    assert not ticket.messages.filter(body=DRAFT).exists()
    # A queue move is staff business: the requester is not emailed about it.
    assert _mail_to(requester) == []
