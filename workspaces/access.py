"""Who reaches what in a workspace: the one module that scopes members, queues, invitations and
queue grants, and that resolves the workspace of a request, once, at the edge.

Every page under ``/w/<slug>/`` is wrapped in ``workspace_view``: it loads the workspace and the
signed-in person's membership in a single query and hands both to the view. A workspace the
person does not belong to answers 404, exactly like one that does not exist. Every
``get_<thing>_or_404(membership, pk)`` fetches with the workspace in the query, so a row of
another workspace answers the same 404 as a missing one.

How an agent's access to a queue is stored (a guardian row with ``QUEUE_PERMISSION``) is known
here only: everything else asks ``queue_grants`` or ``granted_queue_ids``.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from helpdesk import compiled_queries
from privacy.audit import events
from privacy.audit.events import REFUSED_NOT_MEMBER, REFUSED_NOT_VISIBLE, REFUSED_ROLE
from workspaces.models import (
    QUEUE_PERMISSION,
    Invitation,
    Membership,
    Queue,
    QueueUserObjectPermission,
    Role,
    Workspace,
)
from workspaces.two_factor import services as two_factor

NOT_FOUND = _("Not found.")
TWO_FACTOR_REQUIRED = _(
    "{workspace} asks its admins and agents to sign in with a second factor. Set one up here to continue."
)
# The ``roles`` of every administration page (members, queues, retention, holds, audit log).
ADMIN_ONLY = (Role.ADMIN,)


# Queue grants -----------------------------------------------------------------------------------


def queue_grants(*, workspace_id: int | None = None, user_id: int | None = None):
    """The guardian rows that let agents work queues, narrowed to a workspace and/or a person."""
    grants = QueueUserObjectPermission.objects.filter(permission__codename=QUEUE_PERMISSION)
    if workspace_id is not None:
        grants = grants.filter(content_object__workspace_id=workspace_id)
    if user_id is not None:
        grants = grants.filter(user_id=user_id)
    return grants


def granted_queue_ids(user_id: int, workspace_id: int | None = None):
    """Ids of the queues a person holds a grant on (in one workspace, or in all), as a subquery
    for ``queue_id__in=``: one SQL query whatever the number of grants."""
    return queue_grants(workspace_id=workspace_id, user_id=user_id).values("content_object_id")


def queues_granted_to(membership: Membership):
    """The queues this member may work: all for admins, granted ones for agents, none else."""
    queues = Queue.objects.of_workspace(membership.workspace_id)
    if membership.is_admin:
        return queues
    if membership.is_agent:
        return queues.filter(id__in=granted_queue_ids(membership.user_id, membership.workspace_id))
    return queues.none()


# Members, queues, invitations -------------------------------------------------------------------
# Only admins reach the pages listing members and invitations (``roles=ADMIN_ONLY``); scoping
# them here too keeps a later page for other roles from showing more than the member's own row.


def visible_members(membership: Membership):
    """Memberships of the member's workspace: all of them for an admin, their own otherwise."""
    members = Membership.objects.filter(workspace_id=membership.workspace_id)
    if membership.is_admin:
        return members
    return members.filter(pk=membership.pk)


def get_member_or_404(membership: Membership, pk: int) -> Membership:
    member = visible_members(membership).filter(pk=pk).select_related("user", "workspace").first()
    if member is None:
        raise Http404(NOT_FOUND)
    return member


def visible_queues(membership: Membership):
    """Every queue of the member's workspace: any member sees queue names (they pick one when
    opening a ticket); which tickets they see is ``queues_granted_to``'s business."""
    return Queue.objects.of_workspace(membership.workspace_id)


def get_queue_or_404(membership: Membership, pk: int) -> Queue:
    queue = visible_queues(membership).filter(pk=pk).select_related("workspace").first()
    if queue is None:
        raise Http404(NOT_FOUND)
    return queue


def visible_invitations(membership: Membership):
    """Invitations of the member's workspace, for admins only."""
    invitations = Invitation.objects.filter(workspace_id=membership.workspace_id)
    if membership.is_admin:
        return invitations
    return invitations.none()


def get_invitation_or_404(membership: Membership, pk: int) -> Invitation:
    invitation = visible_invitations(membership).filter(pk=pk).first()
    if invitation is None:
        raise Http404(NOT_FOUND)
    return invitation


# The edge ---------------------------------------------------------------------------------------


def membership_for(*, user, slug: str) -> Membership | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return (
        Membership.objects.select_related("workspace", "user").filter(user=user, workspace__slug=slug).first()
    )


def memberships_of(*, user) -> list[Membership]:
    """The person's own memberships with their workspaces, by workspace name (home page, header
    switcher, account page).

    On PostgreSQL each also carries ``granted_queue_ids``, the ids of the queues the person
    holds a grant on in that workspace, read in the same statement: a staff list page asks for
    them (``tickets.selectors.list_choices``), and a statement of its own was a round trip on
    every one. Read afresh with the membership on every request, as the grants must be."""

    def build(user_id):
        memberships = Membership.objects.filter(user_id=user_id)
        if connection.vendor == "postgresql":
            grants = queue_grants(workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id"))
            memberships = memberships.annotate(
                granted_queue_ids=ArraySubquery(grants.order_by().values("content_object_id"))
            )
        return memberships.select_related("workspace").order_by("workspace__name")

    # Every page's header asks this: its SQL is compiled once (helpdesk.compiled_queries).
    return compiled_queries.rows_of(("memberships_of", connection.vendor), build, {"user_id": user.pk})


def memberships_with_current(*, user, slug: str) -> tuple[Membership | None, list[Membership]]:
    """``membership_for`` and the person's memberships for the header's switcher
    (``memberships_of``), in one query: every workspace page shows both."""
    if not user.is_authenticated or not user.is_active:
        return None, []
    memberships = memberships_of(user=user)
    current = None
    for membership in memberships:
        # The signed-in user, not a second copy of their row: the page reads one person.
        membership.user = user
        if membership.workspace.slug == slug:
            current = membership
    return current, memberships


def audit_refused_at(request, *, slug: str, reason: str, kind: str = ""):
    """Record a refusal at ``/w/<slug>/``: in that workspace's chain when it exists (its admins
    see who probed), otherwise in the account chain with the slug asked for."""
    workspace = Workspace.objects.filter(slug=slug).first()
    return events.access_refused(request, workspace=workspace, workspace_slug=slug, reason=reason, kind=kind)


def lower_case_slug_redirect(request, slug: str):
    """``/w/ACME/...`` names ``/w/acme/...`` (slugs are lower case and unique ignoring case):
    a GET or HEAD is sent there for good; any other method gets the 404 of an unknown workspace,
    so a form is never re-sent to a page it did not name."""
    if request.method not in ("GET", "HEAD"):
        raise Http404(NOT_FOUND)
    match = request.resolver_match
    url = reverse(match.view_name, args=match.args, kwargs={**match.kwargs, "slug": slug.lower()})
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


def workspace_view(*, roles: tuple[str, ...] | None = None):
    """Decorate a view taking ``(request, membership, ...)`` reached at ``/w/<slug>/...``.

    ``roles`` limits the view to those roles; anyone else gets the same 404 as a stranger, so a
    page's existence is not revealed to a role that may not use it. Staff of a workspace that
    requires a second factor, and have none, are sent to set one up.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            if slug != slug.lower():
                return lower_case_slug_redirect(request, slug)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership, request.nav_memberships = memberships_with_current(user=request.user, slug=slug)
            if membership is None:
                audit_refused_at(request, slug=slug, reason=REFUSED_NOT_MEMBER)
                raise Http404(NOT_FOUND)
            if roles is not None and membership.role not in roles:
                events.access_refused(request, workspace=membership.workspace, reason=REFUSED_ROLE)
                raise Http404(NOT_FOUND)
            if two_factor.required_for(membership) and not two_factor.user_has_factor(request.user):
                messages.warning(request, TWO_FACTOR_REQUIRED.format(workspace=membership.workspace.name))
                return redirect("two_factor_manage")
            request.workspace = membership.workspace
            request.membership = membership
            try:
                return view(request, membership, *args, **kwargs)
            except Http404:
                # A ticket, file or member out of reach: recorded like a foreign workspace.
                events.access_refused(request, workspace=membership.workspace, reason=REFUSED_NOT_VISIBLE)
                raise

        wrapper.workspace_roles = roles
        return wrapper

    return decorator
