"""How a macro is described to the person about to use it ("When sent, sets status Pending")."""

from django.utils.translation import gettext as _


def _changes(macro) -> str:
    parts = []
    if macro.status:
        parts.append(_("status %(status)s") % {"status": macro.get_status_display()})
    if macro.priority:
        parts.append(_("priority %(priority)s") % {"priority": macro.get_priority_display()})
    if macro.tags:
        parts.append(_("tags %(tags)s") % {"tags": ", ".join(macro.tags)})
    return "; ".join(parts)


def effects_text(macro) -> str:
    """What sending with ``macro`` changes on the ticket, in words; empty when nothing."""
    changes = _changes(macro)
    return _("When sent, sets %(changes)s.") % {"changes": changes} if changes else ""


def changes_text(macro) -> str:
    """The same for the macros list, whose column already says "When sent"."""
    changes = _changes(macro)
    return _("Sets %(changes)s.") % {"changes": changes} if changes else ""
