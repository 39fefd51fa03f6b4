"""A breach found by the scan reaches the open staff lists: the row comes again with its
"Breached" marker, on the in-memory layer and on Redis."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async

from tests.tickets import test_live
from tests.tickets.sla_support import policy_for
from tests.tickets.test_live import TIMEOUT, in_own_loop, list_path, open_socket
from tests.tickets.ticket_helpers import new_ticket
from tickets import sla
from tickets.live_contract import Frame
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)
# The live tests' fixtures: the ASGI app, the layer (in-memory, then Redis), clean-ups.
app, layer = test_live.app, test_live.layer
_own_layer, _close_server_connections = test_live._own_layer, test_live._close_server_connections


@in_own_loop
async def test_a_recorded_breach_updates_the_row_in_the_agents_open_list(
    app, layer, workspace, queue, agent, requester
):
    def overdue_ticket():
        policy_for(workspace)
        ticket = new_ticket(requester, queue, subject="Overdue one")
        # Opened two hours ago: the one-hour first response has passed, not yet recorded.
        past = ticket.created_at - timedelta(hours=2)
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=past,
            first_response_due_at=past + timedelta(hours=1),
            sla_due_at=past + timedelta(hours=1),
        )
        Ticket.objects.filter(pk=ticket.pk).update(sla_breach_check_at=past + timedelta(hours=1))
        return ticket

    ticket = await database_sync_to_async(overdue_ticket)()
    agent_list, connected, _code = await open_socket(app, list_path(workspace), agent.user)
    assert connected
    requester_list, connected, _code = await open_socket(app, list_path(workspace), requester.user)
    assert connected
    assert await database_sync_to_async(sla.breaches_detect)() == 1
    frame = await agent_list.receive_json_from(timeout=TIMEOUT)
    assert (frame["type"], frame["id"]) == (Frame.ROW, ticket.number)
    assert "Breached" in frame["html"] and 'data-sla-state="breached"' in frame["html"]
    # The requester's list hears nothing: a breach is staff business.
    assert await requester_list.receive_nothing(timeout=0.5)
    await agent_list.disconnect()
    await requester_list.disconnect()
