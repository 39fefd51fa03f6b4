import pytest
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, TicketFactory
pytestmark = pytest.mark.e2e

def test_shots(live_asgi, new_page, sign_in, workspace, admin, agent, queue, other_queue, requester):
    TicketFactory(workspace=workspace, queue=queue)
    b = f"{live_asgi}/w/{workspace.slug}/admin"
    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)
    screenshot(page, "tmp-after-login")
    page.goto(f"{b}/members/{agent.pk}/"); screenshot(page, "tmp-member")
    page.goto(f"{b}/members/{admin.pk}/remove/"); screenshot(page, "tmp-remove-last")
    page.goto(f"{b}/invitations/new/"); page.get_by_role("button", name="Send invitation").click(); screenshot(page, "tmp-invite-errors")
    page.goto(f"{b}/queues/"); page.get_by_label("Queue name").fill("support"); page.get_by_role("button", name="Create queue").click(); screenshot(page, "tmp-queues")
    phone = new_page(width=390, height=844)
    sign_in(phone, live_asgi, admin.user.email, PASSWORD)
    phone.goto(f"{b}/members/"); screenshot(phone, "tmp-members-phone")
    phone.goto(f"{live_asgi}/invitations/nope/"); screenshot(phone, "tmp-invalid")
