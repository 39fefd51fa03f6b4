"""Ticket visibility costs one SQL query, however many queues an agent is granted."""

import pytest
from guardian.shortcuts import assign_perm

from tests.conftest import make_member
from tests.factories import ParticipantFactory, QueueFactory, TicketFactory
from tickets.models import Ticket
from workspaces.models import QUEUE_PERMISSION, Membership, Role
from workspaces.services import queue_revoke


def agent_with_grants(workspace, count):
    agent = make_member(workspace, Role.AGENT)
    for _ in range(count):
        queue = QueueFactory(workspace=workspace)
        assign_perm(QUEUE_PERMISSION, agent.user, queue)
        TicketFactory(workspace=workspace, queue=queue)
    TicketFactory(workspace=workspace)  # in a queue the agent does not hold
    # A fresh instance, as workspace_view hands to views: nothing cached on it.
    return Membership.objects.select_related("workspace", "user").get(pk=agent.pk)


@pytest.mark.parametrize("grants", [1, 20])
def test_visible_to_an_agent_is_one_query_for_1_and_for_20_grants(
    workspace, grants, django_assert_num_queries
):
    agent = agent_with_grants(workspace, grants)

    with django_assert_num_queries(1) as captured:
        tickets = list(Ticket.objects.visible_to(agent))

    assert len(tickets) == grants
    sql = captured.captured_queries[0]["sql"].upper()
    # The grants are joined in a subquery, not fetched first and inlined as a list of ids.
    assert "IN (SELECT" in sql
    assert "GUARDIAN" in sql or "QUEUEUSEROBJECTPERMISSION" in sql


def test_visible_to_other_roles_is_one_query_too(
    workspace, admin, requester, queue, django_assert_num_queries
):
    TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    ParticipantFactory(ticket=TicketFactory(workspace=workspace, queue=queue), user=requester.user)
    for membership, expected in ((admin, 2), (requester, 2)):
        with django_assert_num_queries(1):
            assert len(list(Ticket.objects.visible_to(membership))) == expected


def test_grants_of_another_workspace_never_widen_visibility(workspace, other_workspace, queue, admin):
    agent = make_member(workspace, Role.AGENT)
    foreign_queue = QueueFactory(workspace=other_workspace)
    assign_perm(QUEUE_PERMISSION, agent.user, foreign_queue)
    TicketFactory(workspace=other_workspace, queue=foreign_queue)
    TicketFactory(workspace=workspace, queue=queue)
    assert list(Ticket.objects.visible_to(agent)) == []


def test_a_revoked_queue_disappears_from_the_next_query(workspace, admin, queue):
    agent = agent_with_grants(workspace, 2)
    granted = list(Ticket.objects.visible_to(agent))
    queue_revoke(queue=granted[0].queue, membership=agent, actor=admin.user)
    assert [t.pk for t in Ticket.objects.visible_to(agent)] == [granted[1].pk]
