"""People's text shown to other people: neutralising bidirectional controls ("Trojan Source").

A right-to-left override (U+202E) in a subject or a name makes ``invoice_fdp.exe`` read as
``invoice_exe.pdf``, and an unclosed one flips the rest of the line it sits on (the next
column, the next name). Subjects and names lose these characters when written (forms and
services call ``strip_bidi``) and again when shown (the ``inline_text`` filter, for rows
written before), wrapped in ``<bdi>`` so right-to-left words stay inside their own box.
Message bodies keep a visible trace instead (``reveal_bidi``): a reader sees that a body tried
to reorder text.
"""

import re

from django.utils.html import format_html
from django.utils.safestring import SafeString

# Embeddings and overrides (LRE RLE PDF LRO RLO), isolates (LRI RLI FSI PDI), the implicit marks
# (LRM RLM) and the Arabic letter mark.
MARKS = frozenset({"\u200e", "\u200f", "\u061c"})
# The ones that reorder text: shown as a visible code point in bodies; the marks just go.
REORDERING = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
BIDI_CONTROLS = REORDERING | MARKS
_BIDI_RE = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def strip_bidi(text: str) -> str:
    """``text`` without any bidirectional control character."""
    return _BIDI_RE.sub("", text) if text else text


def reveal_bidi(text: str) -> str:
    """Reordering controls become a visible ``[U+202E]``; the invisible marks are dropped."""
    if not text:
        return text
    return _BIDI_RE.sub(lambda m: f"[U+{ord(m[0]):04X}]" if m[0] in REORDERING else "", text)


def inline_text(value) -> SafeString:
    """A subject or a name for inline display: escaped, bidi controls stripped, in ``<bdi>``."""
    return format_html("<bdi>{}</bdi>", strip_bidi("" if value is None else str(value)))
