"""What of an email's text a ticket shows: the new words, without quoted history or signature.

Replies carry the whole conversation below the new words; showing it again on every message
buries the thread. The cut is made at the first line that starts quoted history (Gmail's and
Apple Mail's "On ... wrote:", Outlook's "-----Original Message-----" or "From: / Sent:" block,
its underscore rule) or a signature ("-- "). Forwarded messages are not cut: what was forwarded
is the point. The full text stays on ``InboundEmail.full_text`` for staff.
"""

import re

_WROTE = re.compile(r"^(on|am|le|el)\s.+(wrote|schrieb|a écrit|escribió)\s*:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$", re.I
)
_RULE = re.compile(r"^_{20,}\s*$")
_FROM_LINE = re.compile(r"^\*?(from|von|de)\s*:\*?\s", re.IGNORECASE)
_SENT_LINE = re.compile(r"^\*?(sent|date|gesendet|envoyé)\s*:\*?\s", re.IGNORECASE)
_SIGNATURE = re.compile(r"^--\s?$")
_FORWARD = re.compile(
    r"^(-+\s*forwarded message\s*-+|begin forwarded message:|-+\s*original message\s*-+\s*forwarded)", re.I
)
_MOBILE = re.compile(r"^sent from my (iphone|ipad|android|mobile)", re.IGNORECASE)


def trim_reply(text: str) -> tuple[str, bool]:
    """(the text to show, whether anything was cut)."""
    lines = text.split("\n")
    cut = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if _FORWARD.match(stripped):
            return text.strip(), False
        if (
            _WROTE.match(stripped)
            or _ORIGINAL.match(stripped)
            or _RULE.match(stripped)
            or _SIGNATURE.match(line.rstrip("\r"))
            or _MOBILE.match(stripped)
            or (_FROM_LINE.match(stripped) and _SENT_LINE.match(following))
        ):
            cut = index
            break
        # "On Tue, 3 Dec 2024 at 10:00, Ann <ann@example.com>" wrapped over two lines.
        if stripped.lower().startswith("on ") and _WROTE.match(f"{stripped} {following}"):
            cut = index
            break
    if cut is None:
        # A trailing block of "> " lines is quoted history too.
        end = len(lines)
        while end > 0 and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
            end -= 1
        if end < len(lines) and any(line.startswith(">") for line in lines[end:]):
            cut = end
    if cut is None:
        return text.strip(), False
    shown = "\n".join(lines[:cut]).strip()
    if not shown:
        # Nothing above the marker (a top-posted forward, an empty reply): show it all.
        return text.strip(), False
    return shown, True
