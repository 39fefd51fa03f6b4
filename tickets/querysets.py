from django.db import models

from workspaces.models import QUEUE_PERMISSION, QueueUserObjectPermission


class TicketQuerySet(models.QuerySet):
    def of_workspace(self, workspace):
        return self.filter(workspace=workspace)

    def visible_to(self, membership):
        """The tickets this member may see. One SQL query, whatever the number of grants.

        Admins: every ticket of the workspace. Agents: tickets of the queues they hold
        ``work_queue`` on. Requesters: tickets they requested or take part in.
        """
        scoped = self.filter(workspace_id=membership.workspace_id)
        if membership.is_admin:
            return scoped
        if membership.is_agent:
            granted = QueueUserObjectPermission.objects.filter(
                user_id=membership.user_id,
                permission__codename=QUEUE_PERMISSION,
                content_object__workspace_id=membership.workspace_id,
            ).values("content_object_id")
            return scoped.filter(queue_id__in=granted)
        return scoped.filter(id__in=self.ids_taken_part_by(membership.workspace_id, membership.user_id))

    def ids_taken_part_by(self, workspace_id: int, user_id: int):
        """Ids of the tickets a person requested or takes part in, as a subquery.

        A UNION of two index lookups, not "requester = me OR id IN (...)": PostgreSQL cannot use
        an index for that OR and walks the whole workspace (3.4 s at 1M tickets for a requester
        with 10 tickets, against 1.4 ms this way).
        """
        from tickets.models import TicketParticipant

        requested = (
            self.model.objects.filter(workspace_id=workspace_id, requester_id=user_id).order_by().values("id")
        )
        taking_part = (
            TicketParticipant.objects.filter(workspace_id=workspace_id, user_id=user_id)
            .order_by()
            .values("ticket_id")
        )
        return requested.union(taking_part, all=True)

    def open(self):
        from tickets.models import Status

        return self.exclude(status__in=[Status.SOLVED, Status.CLOSED])


class MessageQuerySet(models.QuerySet):
    def visible_to(self, membership):
        """Messages of visible tickets; internal notes only for admins and agents."""
        from tickets.models import MessageKind, Ticket

        visible = self.filter(
            workspace_id=membership.workspace_id,
            ticket__in=Ticket.objects.visible_to(membership).values("id"),
        )
        if membership.is_staff:
            return visible
        return visible.filter(kind=MessageKind.REPLY)
