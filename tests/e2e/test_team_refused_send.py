"""Issue "Agents work a ticket together", part 6, with two people: agent Ann is typing a long
reply while admin Bea removes Ann's access to the queue. Ann's send is refused with a clear
message at the top that takes the focus, and her text stays in the box and in the browser; Bea
gives the queue back, Ann opens the ticket again, finds her text in the reply box, sends it, and
the draft is gone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import make_member
from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, new_ticket
from tickets.models import Message
from workspaces.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]

LONG_REPLY = "\n\n".join(
    [
        "Hello Robin, thanks for the details and the photos of the error screen.",
        "Here is what we found: the laptop's VPN profile still points at the old gateway, which "
        "was switched off last Friday. Windows keeps the profile until it is removed by hand, so "
        "every morning the client tries the old address first and only then falls back.",
        "Please open Settings, then Network, then VPN, remove the profile called 'Office (old)', "
        "restart the laptop and sign in again. The new profile is installed automatically within "
        "five minutes of the restart; you will see 'Office' with a green dot when it is there.",
        "If it still drops after that, leave the laptop on tonight and we will look at it remotely "
        "tomorrow at nine. Nothing on the laptop will be lost.",
        "Best regards, Ann from the service desk",
    ]
)


def _draft_key(membership, ticket):
    return f"helpdesk-draft:{membership.user.pk}:{ticket.workspace.slug}:{ticket.number}:reply"


def _stored(page, key):
    return page.evaluate("key => window.localStorage.getItem(key)", key)


def _focus(page):
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const top = el.getBoundingClientRect().top;
            return {cls: el.className, top: top, scrollY: window.scrollY, h: window.innerHeight,
                    inView: top > -1 && top < window.innerHeight};
        }"""
    )


def _set_queue_access(page, base, workspace, ann, queue, *, granted):
    page.goto(f"{base}/w/{workspace.slug}/admin/members/{ann.pk}/")
    box = page.locator("form.queue-access").get_by_label(queue.name)
    box.check() if granted else box.uncheck()
    page.get_by_role("button", name="Save queue access").click()
    expect(page.locator(".flash-success")).to_contain_text("Queue access of Ann updated.")


def test_a_send_refused_mid_typing_keeps_the_text_until_access_returns(
    live_asgi, new_page, sign_in, workspace, queue, requester
):
    base = live_asgi
    ann = agent_of(workspace, queue, display_name="Ann")
    bea = make_member(workspace, Role.ADMIN, display_name="Bea")
    ticket = off_loop(new_ticket, requester, queue, subject="VPN drops every morning")
    ticket_url = f"{base}/w/{workspace.slug}/tickets/{ticket.number}/"
    key = _draft_key(ann, ticket)
    mail.outbox.clear()

    # A short window: the reply box sits below the conversation, out of view at first.
    ann_page = new_page(width=1100, height=700)
    sign_in(ann_page, base, ann.user.email, PASSWORD)
    ann_page.goto(ticket_url)
    expect(ann_page.locator("#live-indicator")).to_have_text("Live")
    bea_page = new_page()
    sign_in(bea_page, base, bea.user.email, PASSWORD)

    # Ann is halfway through her reply when Bea takes the Support queue away from her.
    box = ann_page.get_by_label("Your message")
    half = len(LONG_REPLY) // 2
    box.fill(LONG_REPLY[:half])
    ann_page.wait_for_function("key => window.localStorage.getItem(key) !== null", arg=key)
    _set_queue_access(bea_page, base, workspace, ann, queue, granted=False)
    # Her open page hears that her access ended.
    expect(ann_page.locator("#live-indicator")).to_have_text("Live updates stopped")
    box.press_sequentially(LONG_REPLY[half : half + 40])
    box.fill(LONG_REPLY)

    with ann_page.expect_response(lambda r: r.request.method == "POST") as posted:
        ann_page.get_by_role("button", name="Send public reply").click()
    assert posted.value.status == 404
    summary = ann_page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Your message was not sent")
    expect(summary).to_contain_text(
        f"Ticket #{ticket.number} does not exist, or you no longer have access to it: it may have "
        "moved to a queue you do not work"
    )
    expect(summary).to_contain_text("Your text is kept below and in this browser. Nothing was sent.")
    ann_page.wait_for_load_state("load")  # where the browser leaves the page, not where it starts
    focus = _focus(ann_page)
    assert "error-summary" in focus["cls"] and focus["inView"], focus
    expect(ann_page.get_by_label("Your message (not sent)")).to_have_value(LONG_REPLY)
    assert _stored(ann_page, key) == LONG_REPLY
    screenshot(ann_page, "team-refused-send")
    assert not Message.objects.filter(ticket=ticket, body__startswith="Hello Robin").exists()

    # Coming back to the ticket's address (without posting again) still offers the text.
    ann_page.goto(ticket_url)
    expect(ann_page.get_by_role("heading", name=f"Ticket #{ticket.number} is not available")).to_be_visible()
    expect(ann_page.get_by_label("Your message (not sent)")).to_have_value(LONG_REPLY)
    expect(ann_page.locator(".draft-note")).to_contain_text("Your unsent text was restored.")
    screenshot(ann_page, "team-refused-send-revisited")

    # Bea gives the queue back; Ann opens the ticket again and finds her text in the reply box.
    _set_queue_access(bea_page, base, workspace, ann, queue, granted=True)
    ann_page.get_by_role("link", name=f"Open ticket #{ticket.number} again").click()
    expect(ann_page.locator("#ticket-subject")).to_have_text("VPN drops every morning")
    expect(ann_page.get_by_label("Your message")).to_have_value(LONG_REPLY)
    expect(ann_page.locator("#live-indicator")).to_have_text("Live")

    ann_page.get_by_role("button", name="Send public reply").click()
    expect(ann_page.locator("ul.flashes")).to_contain_text("Your reply was posted")
    expect(ann_page.locator("#message-list")).to_contain_text("remove the profile called 'Office (old)'")
    assert _stored(ann_page, key) is None
    ann_page.reload()
    expect(ann_page.get_by_label("Your message")).to_have_value("")
    expect(ann_page.locator(".draft-note")).to_have_count(0)

    # The requester hears of the reply once, and of nothing that was refused.
    to_requester = [m for m in mail.outbox if m.to == [requester.user.email]]
    assert len(to_requester) == 1, [m.subject for m in to_requester]
    assert "remove the profile called" in to_requester[0].body
    assert re.search(r"VPN drops every morning", to_requester[0].subject)
