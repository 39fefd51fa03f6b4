"""The addresses that tie an email to its ticket: signed reply addresses and Message-IDs.

A notification about ticket T to person P says ``Reply-To: support+r-<T>-<P>-<sig>@acme.test``
(plus-addressing on the mailbox's own address), so a reply names its ticket and the person it
was sent to, and nobody can forge one for another ticket without the server's secret. Each
outgoing Message-ID carries the ticket and a signature too, so a reply whose Reply-To was lost
(a client that answers the From:) is still matched through In-Reply-To/References.

Ids are base-36, signatures are 16 lower-case hex digits (64 bits of HMAC-SHA256): mail systems
may lower-case a local part, so nothing here depends on case.
"""

import re
import secrets
from dataclasses import dataclass

from django.utils.crypto import constant_time_compare, salted_hmac

_REPLY_SALT = "tickets.mail.reply-address"
_MESSAGE_ID_SALT = "tickets.mail.message-id"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_REPLY_TAG = re.compile(r"^r-([0-9a-z]{1,13})-([0-9a-z]{1,13})-([0-9a-f]{16})$")
_MESSAGE_ID = re.compile(
    r"<?hd\.([0-9a-z]{1,13})\.([0-9a-z]{1,13})\.([0-9a-z]{8})\.([0-9a-f]{16})@([^>\s]+)>?"
)


@dataclass(frozen=True)
class ReplyAddress:
    mailbox_address: str
    ticket_id: int
    user_id: int


def _b36(number: int) -> str:
    if number < 0:
        raise ValueError("ids are positive")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _B36[rest] + digits
        if not number:
            return digits


def _sig(salt: str, value: str) -> str:
    return salted_hmac(salt, value, algorithm="sha256").hexdigest()[:16]


def reply_address(mailbox_address: str, ticket_id: int, user_id: int) -> str:
    """The Reply-To for an email about ``ticket_id`` sent to ``user_id``."""
    local, _, domain = mailbox_address.strip().lower().partition("@")
    base = local.split("+", 1)[0]
    tag = f"r-{_b36(ticket_id)}-{_b36(user_id)}"
    return f"{base}+{tag}-{_sig(_REPLY_SALT, f'{base}@{domain}:{tag}')}@{domain}"


def parse_reply_address(address: str) -> ReplyAddress | None:
    """The ticket and person a reply address was made for, or None if it is not a valid one."""
    local, _, domain = address.strip().lower().partition("@")
    base, plus, tag = local.partition("+")
    match = _REPLY_TAG.match(tag) if plus and domain else None
    if not match:
        return None
    ticket36, user36, sig = match.groups()
    signed = f"r-{ticket36}-{user36}"
    if not constant_time_compare(sig, _sig(_REPLY_SALT, f"{base}@{domain}:{signed}")):
        return None
    return ReplyAddress(f"{base}@{domain}", int(ticket36, 36), int(user36, 36))


def new_message_id(mailbox_address: str, ticket_id: int, message_id: int | None = None) -> str:
    """A fresh, signed Message-ID (with angle brackets) for an email about ``ticket_id``.

    ``message_id`` is the ticket message the email carries (0 for none), for the record only.
    """
    domain = mailbox_address.strip().lower().partition("@")[2] or "localhost"
    head = f"hd.{_b36(ticket_id)}.{_b36(message_id or 0)}.{secrets.token_hex(4)}"
    return f"<{head}.{_sig(_MESSAGE_ID_SALT, f'{head}@{domain}')}@{domain}>"


def ticket_ids_in_references(*header_values: str | None) -> list[int]:
    """Ticket ids named by our own signed Message-IDs in In-Reply-To/References, newest first.

    Pass the headers' raw values; ids that are not ours, or whose signature fails, are ignored.
    """
    found: list[int] = []
    for value in header_values:
        for match in _MESSAGE_ID.finditer((value or "").lower()):
            ticket36, message36, rand, sig, domain = match.groups()
            head = f"hd.{ticket36}.{message36}.{rand}"
            if constant_time_compare(sig, _sig(_MESSAGE_ID_SALT, f"{head}@{domain}")):
                found.append(int(ticket36, 36))
    # References lists the oldest first; the newest is the best guess.
    newest_first: list[int] = []
    for ticket_id in reversed(found):
        if ticket_id not in newest_first:
            newest_first.append(ticket_id)
    return newest_first
