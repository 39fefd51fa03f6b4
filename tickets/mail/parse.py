"""Reading an incoming email: ``email`` with ``policy.default``, any charset, nothing trusted.

``parse_email(raw)`` returns a ``ParsedEmail`` (sender, recipients, subject, threading headers,
the body as text, the attachments as bytes, and what the headers say about automation and
delivery failures) or raises ``Malformed`` with a short code and a sentence for staff. HTML is
sanitised with the same nh3 rules as message bodies before it is turned into text, so nothing
of its markup survives.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from helpdesk.markdown import sanitize_html

# Reasons staff read on the mailbox page (codes are stable, sentences may change).
NO_FROM = "No From address: nobody to answer."
BAD_FROM = "The From address is not a valid email address."
UNREADABLE = "The message could not be read as an email (broken MIME structure)."
NO_CONTENT = "The message has neither text nor attachments."

_PARSER = BytesParser(policy=policy.default)
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr"}
_BLANK_RUNS = re.compile(r"\n{3,}")


class Malformed(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(code)
        self.code = code
        self.reason = reason


@dataclass
class MailPart:
    name: str
    content_type: str
    data: bytes


@dataclass
class DeliveryFailure:
    recipient: str
    action: str
    status: str


@dataclass
class ParsedEmail:
    sender: str
    sender_name: str
    recipients: list[str]
    subject: str
    message_id: str
    in_reply_to: str
    references: str
    text: str
    attachments: list[MailPart] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # Set for a delivery status notification (RFC 3464): the addresses that failed.
    failures: list[DeliveryFailure] | None = None


def message_key(raw: bytes) -> str:
    """The key that makes processing idempotent: the Message-ID, or a digest of the bytes."""
    try:
        headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        value = str(headers.get("Message-ID") or "").strip()
    except Exception:  # noqa: BLE001 - a message too broken for headers still gets a key
        value = ""
    value = re.sub(r"\s+", "", value)[:250]
    return value or "sha256:" + hashlib.sha256(raw).hexdigest()


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the policy cannot parse reads as absent
        return ""
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _addresses(message: EmailMessage, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        try:
            values = [str(v) for v in message.get_all(name) or []]
        except Exception:  # noqa: BLE001, S112 - an unparsable header names nobody  # nosec B112
            continue
        for _display, address in getaddresses(values):
            address = address.strip().lower()
            if address and address not in found:
                found.append(address)
    return found


def _sender(message: EmailMessage) -> tuple[str, str]:
    raw = _header(message, "From")
    if not raw:
        raise Malformed("no_from", NO_FROM)
    name, address = parseaddr(raw)
    address = address.strip().lower()
    if not address:
        raise Malformed("no_from", NO_FROM)
    try:
        validate_email(address)
    except ValidationError:
        raise Malformed("bad_from", BAD_FROM) from None
    return name.strip()[:120], address


def _lenient_base64(part) -> str | None:
    """Broken base64 (stray characters, text after the padding): the readable prefix."""
    if part.get("Content-Transfer-Encoding", "").strip().lower() != "base64":
        return None
    part.get_payload(decode=True)  # decoding is what records the defects
    if not any("Base64" in type(defect).__name__ for defect in part.defects):
        return None
    encoded = str(part.get_payload(decode=False) or "").split("=", 1)[0]
    encoded = re.sub(r"[^A-Za-z0-9+/]", "", encoded)
    encoded = encoded[: len(encoded) - len(encoded) % 4]
    data = base64.b64decode(encoded)
    return data.decode(part.get_content_charset() or "utf-8", errors="replace")


def _decoded_text(part) -> str:
    """The part's text in any charset; an unknown or lying charset falls back to replacement
    characters instead of refusing the message."""
    try:
        lenient = _lenient_base64(part)
        if lenient is not None:
            return lenient
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            return payload.decode("utf-8", errors="replace")


class _TextOf(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_data(self, data):
        self.out.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    """Sanitise (nh3, the message-body rules), then keep the text with its line structure."""
    parser = _TextOf()
    parser.feed(sanitize_html(html))
    parser.close()
    lines = [line.strip() for line in "".join(parser.out).split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _part_name(part, index: int) -> str:
    name = part.get_filename()
    if name:
        return str(name)
    subtype = part.get_content_subtype() or "bin"
    ext = {"calendar": "ics", "rfc822": "eml", "plain": "txt", "jpeg": "jpg"}.get(subtype, subtype)
    return f"part-{index}.{ext}"


def _leaves(part):
    """Every leaf part, a forwarded message (message/rfc822) counting as one leaf."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    for child in part.iter_parts():
        yield from _leaves(child)


def _delivery_failures(message: EmailMessage) -> list[DeliveryFailure] | None:
    if message.get_content_type() != "multipart/report":
        return None
    failures: list[DeliveryFailure] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            blocks = []
        for block in blocks:
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
            if not address or "@" not in address:
                continue
            action = str(block.get("Action") or "").strip().lower()[:16]
            status = str(block.get("Status") or "").strip()[:16]
            failures.append(DeliveryFailure(address, action, status))
    return failures


def parse_email(raw: bytes) -> ParsedEmail:
    try:
        message = _PARSER.parsebytes(raw)
    except Exception:  # noqa: BLE001 - the parser is lenient; anything it raises is broken input
        raise Malformed("unreadable", UNREADABLE) from None
    sender_name, sender = _sender(message)
    failures = _delivery_failures(message)
    try:
        body_part = message.get_body(preferencelist=("plain", "html"))
        leaves = list(_leaves(message))
    except Exception:  # noqa: BLE001
        raise Malformed("unreadable", UNREADABLE) from None
    text = ""
    if body_part is not None:
        content = _decoded_text(body_part)
        text = html_to_text(content) if body_part.get_content_subtype() == "html" else content
    attachments: list[MailPart] = []
    for index, part in enumerate(leaves, start=1):
        if part is body_part:
            continue
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        if failures is not None and content_type in ("message/delivery-status", "text/rfc822-headers"):
            continue
        if (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and not part.get_filename()
        ):
            # The other half of multipart/alternative, or a report's human-readable part.
            continue
        if content_type == "message/rfc822":
            inner = part.get_payload()
            data = inner[0].as_bytes() if isinstance(inner, list) and inner else part.as_bytes()
        else:
            data = part.get_payload(decode=True) or b""
        attachments.append(MailPart(_part_name(part, index), content_type, data))
    text = text.replace("\r\n", "\n").strip()
    if not text and not attachments and failures is None:
        raise Malformed("no_content", NO_CONTENT)
    headers = {
        name: _header(message, name)
        for name in ("Auto-Submitted", "Precedence", "List-Id", "X-Autoreply", "X-Autorespond", "Return-Path")
    }
    return ParsedEmail(
        sender=sender,
        sender_name=sender_name,
        recipients=_addresses(message, "To", "Cc", "Delivered-To", "X-Original-To"),
        subject=_header(message, "Subject"),
        message_id=_header(message, "Message-ID"),
        in_reply_to=_header(message, "In-Reply-To"),
        references=_header(message, "References"),
        text=text,
        attachments=attachments,
        headers=headers,
        failures=failures,
    )
