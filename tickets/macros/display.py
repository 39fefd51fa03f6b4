"""How a macro is described to the person about to use it ("When sent: status Pending...")."""

from django.utils.translation import gettext as _


def effects_text(macro) -> str:
    """What sending with ``macro`` changes on the ticket, in words; empty when nothing."""
    parts = []
    if macro.status:
        parts.append(_("status %(status)s") % {"status": macro.get_status_display()})
    if macro.priority:
        parts.append(_("priority %(priority)s") % {"priority": macro.get_priority_display()})
    if macro.tags:
        parts.append(_("tags %(tags)s") % {"tags": ", ".join(macro.tags)})
    if not parts:
        return ""
    return _("When sent, sets %(changes)s.") % {"changes": "; ".join(parts)}
