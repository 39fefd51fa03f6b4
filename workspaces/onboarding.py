"""Starting a new workspace: the person who creates it becomes its first admin."""

from django.db import transaction

from workspaces.models import Role, Workspace
from workspaces.services import membership_create, queue_create, workspace_create

FIRST_QUEUE_NAME = "Support"


@transaction.atomic
def workspace_start(*, name: str, slug: str, owner, request=None) -> Workspace:
    """Create the workspace, make ``owner`` its admin and give it a first queue. Audited."""
    workspace = workspace_create(name=name, slug=slug, actor=owner)
    membership_create(workspace=workspace, user=owner, role=Role.ADMIN, actor=owner, request=request)
    queue_create(workspace=workspace, name=FIRST_QUEUE_NAME, actor=owner, request=request)
    return workspace
