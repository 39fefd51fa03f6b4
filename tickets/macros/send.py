"""The reply box's send with a macro: which macro applies (re-checked at the moment of sending)
and what the person is told afterwards. Called by ``tickets.views.ticket_detail``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.macros.access import can_apply_macro, find_usable_macro
from tickets.models import Priority, Status

MACRO_NOT_ALLOWED = _(
    "The macro you inserted is no longer available to you, so nothing was sent. Your text is "
    "kept: send again to post it without the macro's changes."
)
MACRO_APPLIED = _("Macro “%(name)s” applied: %(changes)s.")


def macro_of_send(form, *, membership, ticket):
    """The macro the posted reply box names, if any. It must still be one the sender may use,
    on a ticket whose status and priority they may change: a personal macro deleted meanwhile,
    a shared one of a workspace the sender left, a role taken away... refuse the send (and
    forget the macro, so the next send posts the text alone)."""
    macro_id = form.cleaned_data.get("macro")
    if not macro_id:
        return None
    macro = find_usable_macro(membership, macro_id)
    if macro is None or not can_apply_macro(membership, macro, ticket):
        form.data = form.data.copy()
        form.data["macro"] = ""
        raise ValidationError(MACRO_NOT_ALLOWED, code="macro_not_allowed")
    return macro


def _described(field: str, value) -> str:
    if field == "status":
        return gettext("status %(status)s") % {"status": Status(value[1]).label}
    if field == "priority":
        return gettext("priority %(priority)s") % {"priority": Priority(value[1]).label}
    return gettext("tags %(tags)s") % {"tags": ", ".join(value)}


def report_applied(request, macro, changed: dict) -> None:
    if macro is None or not changed:
        return
    changes = "; ".join(_described(field, value) for field, value in changed.items())
    messages.info(request, MACRO_APPLIED % {"name": macro.name, "changes": changes})
