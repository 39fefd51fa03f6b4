"""Service-level markers for the list, live rows, the ticket page and emails: read from the
ticket's own columns (``tickets.sla_state``), so they cost no query."""

from django import template
from django.utils.translation import gettext_lazy as _

from tickets import sla_state

register = template.Library()

KIND_LABELS = {
    sla_state.FIRST_RESPONSE: _("First response"),
    sla_state.RESOLUTION: _("Resolution"),
}
STATE_LABELS = {
    sla_state.ON_TRACK: _("On track"),
    sla_state.SOON: _("Breaching soon"),
    sla_state.BREACHED: _("Breached"),
    sla_state.PAUSED: _("Paused"),
    sla_state.MET: _("Met"),
    sla_state.MISSED: _("Missed"),
}


@register.simple_tag
def sla_targets(ticket):
    return sla_state.targets(ticket)


@register.filter
def sla_kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, "")


@register.filter
def sla_state_label(state: str) -> str:
    return STATE_LABELS.get(state, "")
