"""The placeholders of a macro's text: ``{{ requester.first_name }}``, ``{{ ticket.number }}``...

A fixed whitelist substituted in one pass by a regular expression, never a template engine: a
macro is text typed by people, and Django's template language on it would reach attributes,
filters and tags nobody meant to offer. Anything between ``{{`` and ``}}`` that is not a known
name is refused when the macro is saved (``unknown_placeholders``), so a typo is caught then and
not in front of a customer.

The values are other people's words (a requester's name, a ticket's subject): they lose bidi
controls and line breaks, and Markdown's punctuation is backslash-escaped, so a name like
``[click](https://evil.example)`` or ``@[Ann](user:4)`` stays text in the rendered message and
can neither add a link nor a mention. The result is plain text for the reply box; the message
then goes through the usual posting path (Markdown rendering and sanitising).
"""

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.text import strip_bidi

# ``{{`` then anything up to the nearest ``}}``: an unclosed or empty pair is text, not a name.
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

PLACEHOLDERS = {
    "requester.first_name": _("the requester's first name"),
    "requester.name": _("the requester's full name"),
    "ticket.number": _("the ticket's number"),
    "ticket.subject": _("the ticket's subject"),
    "agent.first_name": _("your first name"),
    "agent.name": _("your full name"),
    "workspace.name": _("the workspace's name"),
}

# The Markdown punctuation that could make a link, an image, a mention, code, emphasis or a heading
# of a value: escaped, so substituted values stay plain text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#~])")
_LINE_BREAKS = re.compile(r"[\r\n\t\u2028\u2029]+")


def names_in(body: str) -> list[str]:
    """Every placeholder name written in ``body``, in order (duplicates kept)."""
    return [match[1] for match in PLACEHOLDER.finditer(body or "")]


def unknown_placeholders(body: str) -> list[str]:
    """The names in ``body`` that are not placeholders, each once, in order."""
    return list(dict.fromkeys(name for name in names_in(body) if name not in PLACEHOLDERS))


def braced(name: str) -> str:
    """``{{ name }}``, as a person types it."""
    return "{{ " + name + " }}"


def valid_names_text() -> str:
    return ", ".join(braced(name) for name in PLACEHOLDERS)


def _plain(value) -> str:
    text = _LINE_BREAKS.sub(" ", strip_bidi(str(value or ""))).strip()
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _first_name(full: str) -> str:
    return full.split()[0] if full.split() else full


def _is_tombstone(user) -> bool:
    # An erased account keeps its row, named by its pseudonym (workspaces.personal_data):
    # "Deleted user 7f3a" is shown whole, never cut down to "Deleted".
    return not user.is_active and (user.email or "").endswith(".invalid")


def _person_names(user, *, fallback: str) -> tuple[str, str]:
    """(full name, first name) of a person; someone gone shows as their pseudonym or ``fallback``."""
    if user is None:
        return fallback, fallback
    if _is_tombstone(user):
        label = user.display_name or fallback
        return label, label
    full = user.display_name or user.email.split("@")[0]
    return full, _first_name(user.display_name) if user.display_name else full


def values_for(*, ticket, agent) -> dict[str, str]:
    """What each placeholder stands for on ``ticket`` written by ``agent`` (not yet escaped).

    A requester detached by retention is shown by the pseudonym the ticket kept; one whose
    account was erased by the pseudonym their tombstone carries; with neither, a neutral word.
    """
    gone = ticket.requester_pseudonym or gettext("Deleted user")
    requester_full, requester_first = _person_names(ticket.requester, fallback=gone)
    agent_full, agent_first = _person_names(agent, fallback=gettext("Support"))
    return {
        "requester.first_name": requester_first,
        "requester.name": requester_full,
        "ticket.number": str(ticket.number),
        "ticket.subject": ticket.subject,
        "agent.first_name": agent_first,
        "agent.name": agent_full,
        "workspace.name": ticket.workspace.name,
    }


def render(body: str, *, ticket, agent) -> str:
    """``body`` with every known placeholder replaced by its value for ``ticket`` and ``agent``.
    An unknown name (a macro saved before a placeholder was withdrawn) is left as typed."""
    values = values_for(ticket=ticket, agent=agent)

    def substitute(match: re.Match) -> str:
        name = match[1]
        return _plain(values[name]) if name in values else match[0]

    return PLACEHOLDER.sub(substitute, body or "")
