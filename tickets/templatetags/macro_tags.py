"""Template helpers of the reply box's macro picker (tickets/macros)."""

from django import template

from tickets.macros.access import PICKER_FIELDS, visible_macros
from tickets.macros.display import changes_text, effects_text

register = template.Library()


@register.simple_tag
def usable_macros(membership, workspace_macros=None) -> list:
    """The macros the reply box offers ``membership`` (staff only), personal ones first, so a
    personal shortcut wins over a shared one of the same name. Picked from ``workspace_macros``
    (the workspace's, read by the page through tickets.workspace_cache) or else read (one query)."""
    if membership is None or not membership.is_staff:
        return []
    if workspace_macros is None:
        macros = list(visible_macros(membership).only(*PICKER_FIELDS))
    else:
        macros = [macro for macro in workspace_macros if macro.is_usable_by(membership)]
    return sorted(macros, key=lambda m: (m.owner_id is None, m.name.lower(), m.pk))


@register.filter
def macro_effects(macro) -> str:
    return effects_text(macro)


@register.filter
def macro_changes(macro) -> str:
    return changes_text(macro)


@register.simple_tag
def chosen_macro(macros, macro_id):
    """The macro of ``macros`` the reply box's hidden field names (after "Insert" without
    JavaScript, or a refused send), or None."""
    wanted = str(macro_id or "")
    return next((macro for macro in macros if str(macro.pk) == wanted), None)
