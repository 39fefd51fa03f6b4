"""Mail loops and automated mail (RFC 3834): what is never answered automatically.

An auto-response ("we got your request") goes only to mail a person wrote: not to mail marked
``Auto-Submitted`` (other than "no"), bulk, junk or list mail, mail from mailer-daemon or
postmaster, nor to our own mailbox addresses (two helpdesks answering each other forever).
Out-of-office replies (``Auto-Submitted: auto-replied``) are not added to tickets at all: they
would reopen a ticket for words nobody wrote.
"""

from tickets.mail.parse import ParsedEmail

_SYSTEM_LOCALS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"}


def is_system_sender(address: str) -> bool:
    return address.partition("@")[0].lower() in _SYSTEM_LOCALS


def is_out_of_office(parsed: ParsedEmail) -> bool:
    auto = parsed.headers.get("Auto-Submitted", "").lower()
    return (
        auto.startswith("auto-replied")
        or bool(parsed.headers.get("X-Autoreply"))
        or bool(parsed.headers.get("X-Autorespond"))
    )


def is_automated(parsed: ParsedEmail) -> bool:
    auto = parsed.headers.get("Auto-Submitted", "").strip().lower()
    precedence = parsed.headers.get("Precedence", "").strip().lower()
    return (
        (auto != "" and not auto.startswith("no"))
        or precedence in ("bulk", "junk", "list")
        or bool(parsed.headers.get("List-Id"))
        or is_out_of_office(parsed)
        or is_system_sender(parsed.sender)
        or parsed.headers.get("Return-Path", "").strip() == "<>"
    )


def may_auto_reply(parsed: ParsedEmail, own_addresses: set[str]) -> bool:
    return not is_automated(parsed) and parsed.sender not in own_addresses
