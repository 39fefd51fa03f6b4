"""Text that must stay on one line: names people type and email subjects built from them.

A line break or another control character in a header value either breaks the header (Django
refuses it with ``BadHeaderError``) or, in a web page, shifts what follows. Names are refused at
the edge (``validate_single_line``); whatever still reaches a header goes through
``single_line``, so text stored before the validator existed is sent, not dropped.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SINGLE_LINE_ERROR = _("Use one line of text, without line breaks or control characters.")
# Cc: C0/C1 controls (NUL, tab, CR, LF, NEL...); Zl, Zp: the Unicode line and paragraph separators.
_BREAKING = {"Cc", "Zl", "Zp"}


def _breaks(char: str) -> bool:
    return unicodedata.category(char) in _BREAKING


def validate_single_line(value: str) -> None:
    if any(_breaks(char) for char in value or ""):
        raise ValidationError(SINGLE_LINE_ERROR, code="single_line")


def single_line(value) -> str:
    """``value`` as one line: every control character, line break and run of spaces becomes one
    space, and the ends are trimmed."""
    text = "".join(" " if _breaks(char) else char for char in str(value))
    return " ".join(text.split())
