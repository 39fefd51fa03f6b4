""" "Who saw my data" on /account/: the roles that read or changed a person's tickets, from the
audit log (reads are ``ticket.viewed``, once per viewer, ticket and hour)."""

from django.urls import reverse

from tests.tickets.ticket_helpers import new_ticket
from tickets import services
from workspaces.restriction import member_restrict


def test_the_person_sees_which_roles_read_and_changed_their_ticket(
    client, login, requester, agent, admin, queue, workspace
):
    ticket = new_ticket(requester, queue)
    login(agent)
    client.get(reverse("ticket_detail", args=["acme", ticket.number]))
    client.get(reverse("ticket_detail", args=["acme", ticket.number]))  # within the hour: one read
    services.ticket_set_status(ticket=ticket, status="pending", actor=admin.user)
    member_restrict(membership=requester, reason="Checking", actor=admin.user)
    login(requester)
    page = client.get(reverse("account")).content.decode()
    section = page[page.index('id="who-saw"') :]
    section = section[: section.index("</section>")]
    assert section.count("read your ticket") == 1
    assert "Agent" in section and "Admin" in section
    assert "changed the status of your ticket" in section and f"#{ticket.number}" in section
    assert "restricted the processing of your data" in section
    # Names only where the workspace allows it.
    assert agent.user.email not in section
    workspace.reveal_viewer_names = True
    workspace.save()
    section = client.get(reverse("account")).content.decode()
    assert agent.user.email in section


def test_own_reads_and_other_peoples_tickets_are_not_listed(
    client, login, requester, agent, queue, workspace
):
    from tests.conftest import make_member
    from workspaces.models import Role

    someone = make_member(workspace, Role.REQUESTER)
    theirs = new_ticket(someone, queue, subject="Not yours")
    login(agent)
    client.get(reverse("ticket_detail", args=["acme", theirs.number]))
    login(requester)
    page = client.get(reverse("account")).content.decode()
    assert "Nobody else has read or changed your tickets or data yet." in page
