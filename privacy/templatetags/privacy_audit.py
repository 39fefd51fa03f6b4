"""Showing audit events safely: user-supplied text is escaped, and control characters (CR, LF,
tabs, bidi overrides) are shown as visible marks so a value cannot forge a line of the log."""

import json
import re

from django import template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

from privacy.audit.actions import ACTIONS
from privacy.audit.selectors import account_audit_events

register = template.Library()

# C0 and C1 controls, DEL, line/paragraph separators, bidi embeddings, overrides and isolates.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _mark(match) -> str:
    char = match.group()
    name = NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
    return f'<span class="ctl" title="control character">{escape(name)}</span>'


@register.filter(needs_autoescape=True)
def visible_controls(value, autoescape=True):
    """Escape ``value`` and replace each control character with a visible marker."""
    if value is None:
        return ""
    text = conditional_escape(value) if autoescape else str(value)
    return mark_safe(CONTROL_CHARACTERS.sub(_mark, str(text)))  # noqa: S308 - escaped above  # nosec B308 B703


@register.filter
def detail_text(detail) -> str:
    """``key=value`` pairs of an event's detail (plain text; pass through visible_controls)."""
    if not isinstance(detail, dict) or not detail:
        return ""
    parts = []
    for key in sorted(detail):
        value = detail[key]
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
        parts.append(f"{key}={shown}")
    return ", ".join(parts)


@register.filter
def action_description(action: str) -> str:
    return ACTIONS.get(action, "")


@register.inclusion_tag("privacy/_account_audit.html", takes_context=True)
def account_audit_section(context):
    """The account page's "Recent security activity": the signed-in person's newest 20
    account-level events (one query)."""
    user = context.get("user")
    return {"events": account_audit_events(user=user)}
