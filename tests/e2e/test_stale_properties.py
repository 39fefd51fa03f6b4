"""Issue 17 in two browsers: Ann and Bea have the same ticket open. Ann's save refreshes Bea's
"Update ticket" form live; once Bea has unsaved choices her form is left alone and says the
ticket changed, and her save of a field Ann changed meanwhile is refused with what Ann did,
her choice kept for one click. Nothing of Ann's is lost, and the requester hears no "new"."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import make_member
from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, new_ticket
from tickets.models import Priority, Status, Ticket
from workspaces.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]


def _open_ticket(new_page, sign_in, base, membership, ticket):
    page = new_page()
    sign_in(page, base, membership.user.email, PASSWORD)
    page.goto(f"{base}/w/{membership.workspace.slug}/tickets/{ticket.number}/")
    expect(page.locator("#live-indicator")).to_have_text("Live")
    return page


def test_a_stale_save_is_refused_live_form_refreshed_nothing_lost(
    live_asgi, new_page, sign_in, workspace, queue, requester
):
    ann = agent_of(workspace, queue, display_name="Ann")
    bea = make_member(workspace, Role.ADMIN, display_name="Bea")
    ticket = off_loop(new_ticket, requester, queue, subject="VPN drops every hour")
    ann_page = _open_ticket(new_page, sign_in, live_asgi, ann, ticket)
    bea_page = _open_ticket(new_page, sign_in, live_asgi, bea, ticket)
    bea_form = bea_page.locator("#properties-form")
    bea_page.evaluate("window.noReload = true")

    # Ann takes the ticket: assignee, Pending, High.
    ann_form = ann_page.locator("#properties-form")
    ann_form.get_by_label("Assignee").select_option(str(ann.user.pk))
    ann_form.get_by_label("Status").select_option(Status.PENDING)
    ann_form.get_by_label("Priority").select_option(Priority.HIGH)
    ann_form.get_by_role("button", name="Save changes").click()
    expect(ann_page.locator(".flash-success")).to_contain_text("The ticket was updated.")

    # Bea's untouched form follows, values and version, without a reload.
    expect(bea_page.locator("#ticket-status")).to_have_text("Pending")
    expect(bea_form.get_by_label("Status")).to_have_value(Status.PENDING)
    expect(bea_form.get_by_label("Priority")).to_have_value(Priority.HIGH)
    expect(bea_form.get_by_label("Assignee")).to_have_value(str(ann.user.pk))
    version = Ticket.objects.get(pk=ticket.pk).version
    expect(bea_form.locator("input[name=version]")).to_have_value(str(version))
    assert bea_page.evaluate("window.noReload") is True

    # Bea starts changing the priority; meanwhile Ann lowers it.
    bea_form.get_by_label("Priority").select_option(Priority.URGENT)
    ann_form = ann_page.locator("#properties-form")
    ann_form.get_by_label("Priority").select_option(Priority.LOW)
    ann_form.get_by_role("button", name="Save changes").click()
    expect(ann_page.locator(".flash-success")).to_contain_text("The ticket was updated.")
    notice = bea_page.locator("#properties-notice")
    expect(notice).to_have_text("Ann changed this ticket; your unsaved choices are kept.")
    expect(bea_form.get_by_label("Priority")).to_have_value(Priority.URGENT)  # her choice stays

    # Bea saves: refused, with what Ann did, her choice kept.
    bea_form.get_by_role("button", name="Save changes").click()
    alert = bea_page.locator("#properties-form .error-summary")
    expect(alert).to_contain_text("Ann set Priority to Low since you opened the page.")
    expect(alert).to_contain_text("Your choices are kept below and were not saved")
    bea_form = bea_page.locator("#properties-form")
    expect(bea_form.get_by_label("Priority")).to_have_value(Priority.URGENT)
    expect(bea_form.get_by_label("Status")).to_have_value(Status.PENDING)
    alert.scroll_into_view_if_needed()
    screenshot(bea_page, "stale-properties-refused")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == (Status.PENDING, Priority.LOW, ann.user.pk)

    # One click applies her choice on top of Ann's changes.
    bea_form.get_by_role("button", name="Save changes").click()
    expect(bea_page.locator(".flash-success")).to_contain_text("The ticket was updated.")
    expect(bea_page.locator("#ticket-priority")).to_have_text("Urgent")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == (
        Status.PENDING,
        Priority.URGENT,
        ann.user.pk,
    )
    # Ann's open page followed Bea's save too.
    expect(ann_page.locator("#properties-form").get_by_label("Priority")).to_have_value(Priority.URGENT)

    to_requester = [m.subject for m in mail.outbox if m.to == [requester.user.email]]
    assert not any(re.search(r"\bnew\b", subject, re.I) for subject in to_requester), to_requester
    assert sum("pending" in subject.lower() for subject in to_requester) == 1, to_requester
