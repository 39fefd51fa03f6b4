from tests.factories import ParticipantFactory, TicketFactory
from tickets.models import Ticket


def test_each_role_sees_only_its_tickets(
    workspace, other_workspace, queue, other_queue, admin, agent, requester
):
    own = TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    other_queue_ticket = TicketFactory(workspace=workspace, queue=other_queue)
    foreign = TicketFactory(workspace=other_workspace)
    joined = TicketFactory(workspace=workspace, queue=other_queue)
    ParticipantFactory(ticket=joined, user=requester.user)

    assert set(Ticket.objects.visible_to(admin)) == {own, other_queue_ticket, joined}
    assert set(Ticket.objects.visible_to(agent)) == {own}
    assert set(Ticket.objects.visible_to(requester)) == {own, joined}
    assert foreign not in Ticket.objects.visible_to(admin)
