"""Who may see, insert and manage which macro: the one place the macro pages, the reply box and
the render endpoint ask. A macro out of reach (another workspace's, someone else's personal
one, any macro for a requester) answers the same 404 as one that does not exist."""

from django.http import Http404

from tickets import access as ticket_access
from tickets.macros.models import Macro
from workspaces.access import NOT_FOUND
from workspaces.models import Membership


def visible_macros(membership: Membership):
    """Staff: the workspace's shared macros and their own personal ones. Requesters: none."""
    return Macro.objects.usable_by(membership)


# The fields the reply box's picker shows (tickets/templatetags/macro_tags.py).
PICKER_FIELDS = ("id", "workspace", "owner", "name", "shortcut", "kind", "status", "priority", "tags")


def workspace_macros(workspace_id: int) -> list[Macro]:
    """Every macro of the workspace, shared and personal, with the picker's fields: what
    ``tickets.workspace_cache`` keeps; each page keeps the viewer's (``Macro.is_usable_by``)."""
    return list(Macro.objects.filter(workspace_id=workspace_id).only(*PICKER_FIELDS))


def get_macro_or_404(membership: Membership, macro_id: int) -> Macro:
    macro = visible_macros(membership).filter(pk=macro_id).first()
    if macro is None:
        raise Http404(NOT_FOUND)
    return macro


def find_usable_macro(membership: Membership, macro_id) -> Macro | None:
    """The macro if ``membership`` may still use it (a send re-checks with this), else None."""
    try:
        macro_id = int(macro_id)
    except (TypeError, ValueError):
        return None
    return visible_macros(membership).filter(pk=macro_id).first()


def can_manage_shared(membership: Membership) -> bool:
    """Shared macros speak for the whole team: admins create, change and delete them."""
    return membership.is_admin


def can_manage_macro(membership: Membership, macro: Macro) -> bool:
    """Everyone on the staff manages their own personal macros; admins the shared ones."""
    if macro.workspace_id != membership.workspace_id or not membership.is_staff:
        return False
    if macro.is_shared:
        return can_manage_shared(membership)
    return macro.owner_id == membership.user_id


def get_manageable_macro_or_404(membership: Membership, macro_id: int) -> Macro:
    macro = get_macro_or_404(membership, macro_id)
    if not can_manage_macro(membership, macro):
        raise Http404(NOT_FOUND)
    return macro


def can_apply_macro(membership: Membership, macro: Macro, ticket) -> bool:
    """Sending with a macro changes the ticket's status and priority: the sender must be staff
    who may change them (tickets.access decides) and still see the macro."""
    return (
        membership.is_staff
        and macro.workspace_id == ticket.workspace_id == membership.workspace_id
        and (macro.is_shared or macro.owner_id == membership.user_id)
        and ticket_access.can_change_status(membership, ticket)
        and ticket_access.can_change_priority(membership)
    )
