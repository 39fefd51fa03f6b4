"""The queues page: list, create, rename; names unique per workspace with a clear error."""

from django.urls import reverse
from guardian.shortcuts import assign_perm

from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.factories import QueueFactory, TicketFactory
from tickets.models import Status
from workspaces.models import QUEUE_PERMISSION, Queue, Role
from workspaces.services import QUEUE_NAME_TAKEN
from workspaces.views import QUEUE_CREATED, QUEUE_RENAMED


def url(name, workspace, **kwargs):
    return reverse(name, kwargs={"slug": workspace.slug, **kwargs})


def test_queues_page_lists_queues_with_open_tickets_and_agents(
    login, workspace, admin, agent, queue, other_queue
):
    TicketFactory(workspace=workspace, queue=queue)
    TicketFactory(workspace=workspace, queue=queue, status=Status.CLOSED)
    response = login(admin).get(url("admin_queues", workspace))
    assert response.status_code == 200
    rows = {q.name: (q.open_tickets, q.agents) for q in response.context["queues"]}
    assert rows == {"Support": (1, 1), "Billing": (0, 0)}
    assert b"Create queue" in response.content


def test_queues_page_query_count_is_flat(login, workspace, admin, queue, django_assert_max_num_queries):
    client = login(admin)
    with django_assert_max_num_queries(10) as few:
        client.get(url("admin_queues", workspace))
    for index in range(12):
        extra = QueueFactory(workspace=workspace)
        TicketFactory(workspace=workspace, queue=extra)
        assign_perm(QUEUE_PERMISSION, make_member(workspace, Role.AGENT).user, extra)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("admin_queues", workspace))
    assert len(response.context["queues"]) == 13


def test_create_a_queue(login, workspace, admin):
    response = login(admin).post(url("admin_queues", workspace), {"name": "Returns"}, follow=True)
    assert Queue.objects.filter(workspace=workspace, name="Returns").exists()
    assert QUEUE_CREATED.format(name="Returns") in [str(m) for m in response.context["messages"]]
    assert AuditEvent.objects.filter(action="queue.created", workspace=workspace).exists()


def test_a_duplicate_name_is_refused_with_a_clear_error_and_the_input_kept(login, workspace, admin, queue):
    response = login(admin).post(url("admin_queues", workspace), {"name": "support"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": [QUEUE_NAME_TAKEN.format(name="support")]}
    assert 'value="support"' in response.content.decode()
    assert Queue.objects.filter(workspace=workspace).count() == 1


def test_an_empty_name_is_refused(login, workspace, admin):
    response = login(admin).post(url("admin_queues", workspace), {"name": "   "})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not Queue.objects.exists()


def test_rename_a_queue(login, workspace, admin, queue):
    client = login(admin)
    page = client.get(url("admin_queue", workspace, queue_id=queue.pk))
    assert 'value="Support"' in page.content.decode()
    response = client.post(
        url("admin_queue", workspace, queue_id=queue.pk), {"name": "Help desk"}, follow=True
    )
    queue.refresh_from_db()
    assert queue.name == "Help desk"
    assert QUEUE_RENAMED.format(name="Help desk") in [str(m) for m in response.context["messages"]]
    assert AuditEvent.objects.get(action="queue.renamed").detail == {"from": "Support", "to": "Help desk"}


def test_rename_to_a_taken_name_is_refused(login, workspace, admin, queue, other_queue):
    response = login(admin).post(url("admin_queue", workspace, queue_id=queue.pk), {"name": "Billing"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": [QUEUE_NAME_TAKEN.format(name="Billing")]}
    queue.refresh_from_db()
    assert queue.name == "Support"


def test_a_queue_of_another_workspace_answers_404(login, workspace, other_workspace, admin):
    foreign = QueueFactory(workspace=other_workspace, name="Foreign")
    client = login(admin)
    assert client.get(url("admin_queue", workspace, queue_id=foreign.pk)).status_code == 404
    assert (
        client.post(url("admin_queue", workspace, queue_id=foreign.pk), {"name": "Mine"}).status_code == 404
    )
    foreign.refresh_from_db()
    assert foreign.name == "Foreign"
