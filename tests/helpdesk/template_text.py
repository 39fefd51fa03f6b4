"""Finds words a person would read in a template that are not inside a translation tag.

A small tokenizer, not a full HTML parser: template tags, variables, comments and HTML tags are
tokens; what lies between them is text. Text with letters outside ``{% translate %}`` /
``{% blocktranslate %}`` is reported, and so are the readable attributes (aria-label, title, ...)
whose value has letters once template tags are taken out.
"""

import re
from pathlib import Path

TOKEN = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#}|<!--.*?-->|<[^>]*>)", re.S)
ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;")
LETTER = re.compile(r"[A-Za-z]")
READABLE_ATTR = re.compile(
    r'\b(aria-label|aria-description|title|placeholder|alt|data-label|data-empty-label)="((?:{%.*?%}|{{.*?}}|[^"])*)"',
    re.S,
)
LITERAL_ARGUMENT = re.compile(r'\b(\w+)=["\']([^"\']*)["\']')
LITERAL_DEFAULT = re.compile(r'\|default:["\']([^"\']*)["\']')
TEMPLATE_CODE = re.compile(r"{%\s*blocktrans.*?endblocktrans(?:late)?\s*%}|{%.*?%}|{{.*?}}", re.S)

# Text that is the same in every language (names of things, not words of the interface).
ALLOWED = {"Helpdesk", "Deutsch", "English", "Español", "Français", "/account/"}
# The letter keys static/js/shortcuts.js listens for: the same key in every language.
ALLOWED |= set("jkoransx")
# A link's path, read by the mail client as a URL, not as words.
ALLOWED |= {"/account/#notifications"}
# Include arguments that choose a variant of a fragment: identifiers, never shown.
CHOOSER_ARGUMENTS = {"page"}
# (opening pattern, closing pattern) of spans whose text is never shown as interface text.
SKIPPED = (
    (r"<script\b", r"</script"),
    (r"<style\b", r"</style"),
    (r"{%\s*comment\b", r"{%\s*endcomment\b"),
    (r"{%\s*blocktrans(late)?\b", r"{%\s*endblocktrans(late)?\b"),
    # A CSS class name, not text.
    (r"{%\s*block main_class\b", r"{%\s*endblock\b"),
)


def _words(text: str) -> bool:
    return bool(LETTER.search(ENTITY.sub("", text)))


def untranslated(source: str) -> list[str]:
    """The pieces of ``source`` a person reads that no translation tag covers."""
    found = []
    closing = None
    for index, token in enumerate(TOKEN.split(source)):
        is_token = index % 2 == 1
        if closing:
            if is_token and re.match(closing, token):
                closing = None
            continue
        if not is_token:
            text = token.strip()
            if _words(text) and text not in ALLOWED:
                found.append(text)
            continue
        for opening, end in SKIPPED:
            if re.match(opening, token, re.I):
                closing = end
                break
        if token.startswith(("{%", "{{")):
            # A fallback a person reads: `|default:_("...")`, not `|default:"..."`.
            found.extend(f'default:"{value}"' for value in LITERAL_DEFAULT.findall(token) if _words(value))
        if token.startswith("{%"):
            # Words handed to an include or a with as a bare string literal: `label=_("...")`.
            found.extend(
                f'{name}="{value}"'
                for name, value in LITERAL_ARGUMENT.findall(token)
                if _words(value) and name not in CHOOSER_ARGUMENTS
            )
        if token.startswith("<"):
            for name, value in READABLE_ATTR.findall(token):
                literal = TEMPLATE_CODE.sub("", value).strip()
                if _words(literal) and literal not in ALLOWED:
                    found.append(f'{name}="{value}"')
    return found


def templates_with_untranslated_text(root: Path) -> dict[str, list[str]]:
    report = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".html", ".txt", ".jinja"}:
            pieces = untranslated(path.read_text(encoding="utf-8"))
            if pieces:
                report[str(path.relative_to(root))] = pieces
    return report
