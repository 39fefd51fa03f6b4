"""Starting a new workspace: the person who creates it becomes its first admin."""

from collections.abc import Callable

from django.db import transaction

from workspaces.models import Role, Workspace
from workspaces.services import membership_create, queue_create, workspace_create

FIRST_QUEUE_NAME = "Support"

# Called inside workspace_start's transaction as ``hook(workspace=, owner=, dpa_accepted=,
# request=)``; privacy registers the recording of the data-processing agreement's acceptance
# (workspaces sits below privacy and cannot call it).
_STARTED_HOOKS: list[Callable] = []


def register_workspace_started_hook(hook: Callable) -> None:
    if hook not in _STARTED_HOOKS:
        _STARTED_HOOKS.append(hook)


@transaction.atomic
def workspace_start(*, name: str, slug: str, owner, request=None, dpa_accepted: bool = False) -> Workspace:
    """Create the workspace, make ``owner`` its admin and give it a first queue. Audited. The
    registered hooks run in the same transaction (the data-processing agreement's acceptance,
    when ``dpa_accepted``)."""
    workspace = workspace_create(name=name, slug=slug, actor=owner)
    membership_create(workspace=workspace, user=owner, role=Role.ADMIN, actor=owner, request=request)
    queue_create(workspace=workspace, name=FIRST_QUEUE_NAME, actor=owner, request=request)
    for hook in _STARTED_HOOKS:
        hook(workspace=workspace, owner=owner, dpa_accepted=dpa_accepted, request=request)
    return workspace
