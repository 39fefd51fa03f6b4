"""Pathological message bodies: inputs that made Markdown parsers slow (quadratic or worse) or
crash, each built at a chosen length. Shared by tests/tickets/test_markdown_corpus.py (each
renders to inert HTML) and the bench's render budget (bench/markdown_bench.py, ``make bench``).

Also ``inert_problems(html)``: what in a rendered body could act in a reader's browser (a tag or
attribute outside the allow-list, a URL to another host, a bidi override).
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

from helpdesk.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, safe_url
from helpdesk.text import REORDERING


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _growing_backticks(n: int) -> str:
    # `a``a```a ... : every run length once, the classic quadratic case for code spans.
    parts, size, k = [], 0, 1
    while size < n:
        part = "`" * k + "a"
        parts.append(part)
        size += len(part)
        k += 1
    return "".join(parts)[:n]


def _nested_list(n: int) -> str:
    lines, size, depth = [], 0, 0
    while size < n:
        line = "  " * depth + "- item\n"
        lines.append(line)
        size += len(line)
        depth += 1
    return "".join(lines)[:n]


def _nested_quotes_lines(n: int) -> str:
    lines, size, depth = [], 0, 1
    while size < n:
        line = ">" * depth + " quoted\n"
        lines.append(line)
        size += len(line)
        depth += 1
    return "".join(lines)[:n]


def _reference_chain(n: int) -> str:
    # Many definitions, then a chain of references to them (and to missing ones).
    count = max(1, n // 30)
    defs = "".join(f"[r{i}]: /w/x/{i} 'title {i}'\n" for i in range(count))
    uses = "".join(f"[a][r{i}][b][missing{i}]" for i in range(count))
    return (defs + "\n" + uses)[:n]


def _huge_table(n: int) -> str:
    columns = 50
    header = "|" + "|".join(f"h{i}" for i in range(columns)) + "|\n"
    rule = "|" + "|".join("---" for _ in range(columns)) + "|\n"
    row = "|" + "|".join("x" for _ in range(columns)) + "|\n"
    return (header + rule + row * (n // len(row) + 1))[:n]


def _wide_table(n: int) -> str:
    half = max(4, (n // 2) // 2)
    return ("|a" * half + "|\n" + "|-" * half + "|\n")[:n]


CASES: dict[str, Callable[[int], str]] = {
    "unmatched [": _repeat("["),
    "unmatched ![": _repeat("!["),
    "[a] no link": _repeat("[a"),
    "[]( openers": _repeat("[]("),
    "[ then ]": lambda n: "[" * (n // 2) + "]" * (n - n // 2),
    "link dest (((": lambda n: "[a](" + "(" * (n - 4),
    "*[ mixed": _repeat("*["),
    "* run": _repeat("*"),
    "_ run": _repeat("_"),
    "*a ** nested": _repeat("*a **"),
    "_a_ __ mixed": _repeat("_a *b __c **"),
    "< run": _repeat("<"),
    "<a run": _repeat("<a"),
    "<http:// autolinks": _repeat("<http://"),
    "<!-- comments": _repeat("<!--"),
    "` run": _repeat("`"),
    "growing ` runs": _growing_backticks,
    "``` fences": _repeat("```\n"),
    "> one line": _repeat(">"),
    "> nested lines": _nested_quotes_lines,
    "- one line": _repeat("- "),
    "> - mixed": _repeat("> - "),
    "1. one line": _repeat("1. "),
    "nested list": _nested_list,
    "reference chain": _reference_chain,
    "same label defs": lambda n: _repeat("[a]: /x\n")(n - 3) + "[a]",
    "many images": _repeat("![a](/w/acme/tickets/1/attachments/2/) "),
    "huge table": _huge_table,
    "wide table": _wide_table,
    "null bytes": _repeat("\x00"),
    "a\\0 mixed": _repeat("a\x00<\x00["),
    "& entities": _repeat("&#x41;&amp;&"),
    "\\ escapes": _repeat("\\"),
    "# headings": _repeat("#"),
    "setext": _repeat("a\n===\n"),
    "line breaks": _repeat("a\n"),
    "one long word": _repeat("a"),
    "bidi RLO": _repeat("\u202e"),
    "combining": lambda n: "a" + "\u0301" * (n - 1),
    "https:// run": _repeat("https://"),
    "tabs and spaces": _repeat(" \t"),
}


def corpus(length: int) -> list[tuple[str, str]]:
    """Each case as (name, body of ``length`` characters)."""
    return [(name, build(length)) for name, build in CASES.items()]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
            return
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        for name, value in attrs:
            if name not in allowed:
                self.problems.append(f"attribute {name} on <{tag}>")
            elif name in {"href", "src"} and safe_url(value or "", same_site_only=tag == "img") != value:
                self.problems.append(f"URL {value!r} on <{tag}>")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if any(char in REORDERING for char in data):
            self.problems.append("a bidi override in the text")


def inert_problems(html: str) -> list[str]:
    """What in ``html`` could act in a reader's browser; empty when it is inert."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    if any(char in REORDERING for char in html):
        collector.problems.append("a bidi override")
    return collector.problems
