"""Resolving the workspace of a request, once, at the edge.

Every page under ``/w/<slug>/`` is wrapped in ``workspace_view``: it loads the workspace and the
signed-in person's membership in a single query and hands both to the view. A workspace the
person does not belong to answers 404, exactly like one that does not exist.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from privacy.audit.log import REFUSED_NOT_MEMBER, REFUSED_NOT_VISIBLE, REFUSED_ROLE, audit_refused
from workspaces.models import Membership, Workspace

NOT_FOUND = "Not found."


def membership_for(*, user, slug: str) -> Membership | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return (
        Membership.objects.select_related("workspace", "user").filter(user=user, workspace__slug=slug).first()
    )


def audit_refused_at(request, *, slug: str, reason: str, kind: str = ""):
    """Record a refusal at ``/w/<slug>/``: in that workspace's chain when it exists (its admins
    see who probed), otherwise in the account chain with the slug asked for."""
    workspace = Workspace.objects.filter(slug=slug).first()
    return audit_refused(request, workspace=workspace, workspace_slug=slug, reason=reason, kind=kind)


def workspace_view(*, roles: tuple[str, ...] | None = None):
    """Decorate a view taking ``(request, membership, ...)`` reached at ``/w/<slug>/...``.

    ``roles`` limits the view to those roles; anyone else gets the same 404 as a stranger, so a
    page's existence is not revealed to a role that may not use it.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for(user=request.user, slug=slug)
            if membership is None:
                audit_refused_at(request, slug=slug, reason=REFUSED_NOT_MEMBER)
                raise Http404(NOT_FOUND)
            if roles is not None and membership.role not in roles:
                audit_refused(request, workspace=membership.workspace, reason=REFUSED_ROLE)
                raise Http404(NOT_FOUND)
            request.workspace = membership.workspace
            request.membership = membership
            try:
                return view(request, membership, *args, **kwargs)
            except Http404:
                # A ticket, file or member out of reach: recorded like a foreign workspace.
                audit_refused(request, workspace=membership.workspace, reason=REFUSED_NOT_VISIBLE)
                raise

        wrapper.workspace_roles = roles
        return wrapper

    return decorator
