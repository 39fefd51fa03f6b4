"""Shared vocabulary of the permission matrix (see tests/test_permission_matrix.py).

Each app keeps its expectations in ``tests/<app>/matrix.py`` as ``MATRIX``; this module gives
them the role names, the ``LOGIN`` marker, shortcuts for common rows and the ``World`` every
kwargs factory receives.

The roles, all seen from the workspace ``world.workspace`` (slug ``acme``):

- ``admin``: an admin of the workspace.
- ``agent_with_queue``: an agent granted ``world.queue`` ("Support", where ``world.ticket`` is).
- ``agent_without_queue``: an agent granted only ``world.other_queue`` ("Billing").
- ``requester_owner``: the requester of ``world.ticket``.
- ``requester_other``: another requester (owner of ``world.other_ticket`` in Billing).
- ``outsider``: an admin of another workspace (``world.other_workspace``), not a member here.
- ``anonymous``: not signed in.

Expected answers are HTTP status codes, or ``LOGIN`` for "302 to the login page".
"""

from dataclasses import dataclass, field

from guardian.shortcuts import assign_perm

from tests.factories import MembershipFactory, QueueFactory, UserFactory, WorkspaceFactory
from tickets.models import MessageKind
from tickets.services import message_post, ticket_create
from workspaces.models import QUEUE_PERMISSION, Role

ADMIN = "admin"
AGENT_WITH_QUEUE = "agent_with_queue"
AGENT_WITHOUT_QUEUE = "agent_without_queue"
REQUESTER_OWNER = "requester_owner"
REQUESTER_OTHER = "requester_other"
OUTSIDER = "outsider"
ANONYMOUS = "anonymous"
ROLES = (
    ADMIN,
    AGENT_WITH_QUEUE,
    AGENT_WITHOUT_QUEUE,
    REQUESTER_OWNER,
    REQUESTER_OTHER,
    OUTSIDER,
    ANONYMOUS,
)
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

LOGIN = "login"  # expected: a redirect to the login page (anonymous visitors)


def only(role: str, status: int) -> dict:
    """``status`` for ``role``; 404 for every other signed-in role; LOGIN for anonymous."""
    return {**{r: 404 for r in ROLES}, ANONYMOUS: LOGIN, role: status}


def admin_only(status: int = 200) -> dict:
    return only(ADMIN, status)


def every_member(status: int = 200) -> dict:
    """``status`` for every member of the workspace; 404 for the outsider; LOGIN for anonymous."""
    return {**{r: status for r in ROLES}, OUTSIDER: 404, ANONYMOUS: LOGIN}


@dataclass
class World:
    workspace: object
    other_workspace: object
    queue: object
    other_queue: object
    ticket: object
    other_ticket: object
    foreign_ticket: object
    members: dict = field(default_factory=dict)

    def membership(self, role: str):
        """The Membership playing ``role`` (the outsider's is in the other workspace)."""
        return self.members.get(role)

    def user(self, role: str):
        membership = self.membership(role)
        return membership.user if membership else None


def build_world() -> World:
    workspace = WorkspaceFactory(slug="acme", name="Acme")
    other_workspace = WorkspaceFactory(slug="globex", name="Globex")
    queue = QueueFactory(workspace=workspace, name="Support")
    other_queue = QueueFactory(workspace=workspace, name="Billing")

    def member(role, in_workspace=workspace):
        return MembershipFactory(workspace=in_workspace, role=role, user=UserFactory())

    members = {
        ADMIN: member(Role.ADMIN),
        AGENT_WITH_QUEUE: member(Role.AGENT),
        AGENT_WITHOUT_QUEUE: member(Role.AGENT),
        REQUESTER_OWNER: member(Role.REQUESTER),
        REQUESTER_OTHER: member(Role.REQUESTER),
        OUTSIDER: member(Role.ADMIN, other_workspace),
    }
    assign_perm(QUEUE_PERMISSION, members[AGENT_WITH_QUEUE].user, queue)
    assign_perm(QUEUE_PERMISSION, members[AGENT_WITHOUT_QUEUE].user, other_queue)
    # Through the services, so ticket numbers follow the workspace counter as in production.
    ticket = ticket_create(
        workspace=workspace,
        queue=queue,
        requester=members[REQUESTER_OWNER].user,
        subject="Printer on fire",
        description="It is on fire.",
    )
    message_post(
        ticket=ticket, author=members[AGENT_WITH_QUEUE].user, kind=MessageKind.NOTE, body="Internal note."
    )
    other_ticket = ticket_create(
        workspace=workspace,
        queue=other_queue,
        requester=members[REQUESTER_OTHER].user,
        subject="Invoice question",
        description="Why two charges?",
    )
    foreign_queue = QueueFactory(workspace=other_workspace, name="Support")
    foreign_ticket = ticket_create(
        workspace=other_workspace,
        queue=foreign_queue,
        requester=members[OUTSIDER].user,
        subject="Foreign ticket",
        description="Of another workspace.",
    )
    return World(
        workspace=workspace,
        other_workspace=other_workspace,
        queue=queue,
        other_queue=other_queue,
        ticket=ticket,
        other_ticket=other_ticket,
        foreign_ticket=foreign_ticket,
        members=members,
    )
