"""An admin opens the reports dashboard from the navigation, reads the chart and the table behind
it, picks a period and downloads a CSV; an agent sees only the figures of their own queue."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, new_ticket, reply
from tickets.models import Status

pytestmark = pytest.mark.e2e


def _history(requester, agent, admin, queue, other_queue):
    """Tickets over the last two weeks through the services (so their figures are kept)."""
    now = timezone.now()
    for day in range(14):
        for k in range(1 + day % 3):
            created = now - timedelta(days=day, hours=k + 1)
            ticket = new_ticket(
                requester, queue, subject=f"Support {day}-{k}", created_at=created, notify=False
            )
            if (day + k) % 2 == 0:
                reply(
                    ticket, agent, "On it", created_at=created + timedelta(minutes=30 + 10 * k), notify=False
                )
        ticket = new_ticket(
            requester,
            other_queue,
            subject=f"Billing {day}",
            created_at=now - timedelta(days=day),
            notify=False,
        )
        if day % 2:
            reply(ticket, admin, "Refunded", then_status=Status.SOLVED, notify=False)


def test_admin_reads_and_downloads_reports_and_an_agent_sees_their_queue_only(
    live_asgi, new_page, sign_in, workspace, admin, queue, other_queue, requester
):
    agent = off_loop(agent_of, workspace, queue, display_name="Ann Agent")
    off_loop(_history, requester, agent, admin, queue, other_queue)

    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    chart = page.get_by_role("img", name="Tickets created (blue) and solved (green) per day")
    expect(chart).to_be_visible()
    expect(page.get_by_role("img", name="Open tickets (new, open or pending) per queue")).to_be_visible()

    page.get_by_label("Period").select_option("7")
    page.get_by_role("button", name="Show").click()
    daily = page.locator(
        "section", has=page.get_by_role("heading", name="Tickets created and solved per day")
    )
    daily.get_by_text("Show the figures as a table").click()
    rows = daily.locator("tbody tr")
    expect(rows).to_have_count(7)
    expect(daily.locator("tfoot")).to_contain_text("Total")
    screenshot(page, "reports-admin")

    with page.expect_download() as download_info:
        daily.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"{workspace.slug}-daily-7d-")
    lines = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert lines[0] == ["date", "created", "solved"] and len(lines) == 8
    shown = [int(rows.nth(i).locator("td").first.inner_text()) for i in range(7)]
    assert [int(line[1]) for line in lines[1:]] == shown

    agent_page = new_page(width=390, height=844)
    sign_in(agent_page, live_asgi, agent.user.email, PASSWORD)
    agent_page.get_by_role("link", name="Reports").click()
    queues = agent_page.locator("section", has=agent_page.get_by_role("heading", name="Backlog by queue"))
    queues.get_by_text("Show the figures as a table").click()
    expect(queues.locator("tbody")).to_contain_text("Support")
    expect(agent_page.locator("main")).not_to_contain_text("Billing")
    screenshot(agent_page, "reports-agent-phone")
