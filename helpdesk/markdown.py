"""Rendering message bodies: Markdown to HTML, then sanitized with nh3 (ammonia).

The parser is markdown-it-py (CommonMark), chosen because its time grows linearly with the
input: Python-Markdown took 90 s on a body of 20,000 unmatched ``[``. Raw HTML in a body is
not markup here (``html`` is off, so ``<b>`` shows as typed), and the output still goes
through nh3, which keeps only the tags and attributes listed below, drops every event
handler attribute and every link scheme but http, https and mailto. Links get
``rel="noopener noreferrer nofollow"``. Images are kept only when they point at a path of this
site (an attachment), never at another host, so a message cannot make a reader's browser call
a tracking pixel.

Messages are rendered once, when written (``Message.body_html``); pages and websockets show the
stored HTML. A change of the rules here therefore needs a data migration that re-renders the
stored bodies (as ``tickets/migrations/0006_message_body_html`` does).
"""

import re
from collections.abc import Callable
from typing import NamedTuple

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

from helpdesk.text import reveal_bidi

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class", "data-mention"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src"}
LINK_REL = "noopener noreferrer nofollow"
# Longer sources are shown as plain text (message bodies are refused far below this at the edge,
# see tickets.models.MESSAGE_BODY_MAX_LENGTH): the bound keeps any caller's render time bounded.
MAX_SOURCE_CHARS = 65_536

# CommonMark plus tables and ~~strike~~; single newlines become <br> (as before, "nl2br").
# maxNesting (20 in this preset) bounds nested lists and blockquotes.
_PARSER = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])

# What a browser ignores in a URL: leading/trailing C0 controls and spaces, and tab, CR, LF
# anywhere (WHATWG URL parser). "/\n/evil.test" is "//evil.test" to it.
_URL_EDGES = "".join(chr(c) for c in range(0x21))
_URL_REMOVED = re.compile("[\t\n\r]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")


def safe_url(value: str, *, same_site_only: bool = False) -> str | None:
    """The URL as a browser will read it, or None when it must not be kept.

    Refused: another host without a scheme (``//host``, ``\\\\host``, ``/\\host``, hidden by
    whitespace or control characters), any backslash (browsers read it as a slash), schemes
    other than http, https and mailto. ``same_site_only`` (images) keeps only paths of this
    site ("/...").
    """
    url = _URL_REMOVED.sub("", value.strip(_URL_EDGES))
    if _CONTROL.search(url) or "\\" in url or url.startswith("//"):
        return None
    if same_site_only:
        return url if url.startswith("/") else None
    scheme = _SCHEME.match(url)
    if scheme and scheme[1].lower() not in URL_SCHEMES:
        return None
    return url


def _render_image(renderer, tokens, idx, options, env) -> str:
    # An image that may not be shown (another host, data:) shows its alt text rather than a
    # broken-image icon; nh3 would drop its src anyway.
    token = tokens[idx]
    if safe_url(token.attrGet("src") or "", same_site_only=True) is None:
        return escape(renderer.renderInlineAsText(token.children, options, env))
    return renderer.image(tokens, idx, options, env)


_PARSER.add_render_rule("image", _render_image)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # Only the mention rule below writes these; html is off, so a body cannot, but the sanitizer
    # keeps them to exactly what the rule writes whatever reaches it.
    if attribute == "class":
        return value if value == MENTION_CLASS else None
    if attribute == "data-mention":
        return value if value.isdigit() else None
    if attribute not in URL_ATTRIBUTES:
        return value
    # An image from another host (or a data: URL) would be fetched by every reader's browser.
    return safe_url(value, same_site_only=tag == "img")


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )


# Mentions (``@[Dana Scully](user:42)``, written by the note box's autocomplete). Markdown reads
# the bracket part as a link to ``user:42`` after a text ending in "@"; the core rule below turns
# that into one ``mention`` token. Only renders that pass ``mention_href`` show mentions (internal
# notes); elsewhere the ``user:`` link is dropped by the sanitizer and the name stays as text.
MENTION_CLASS = "mention"
_MENTION_HREF = re.compile(r"^user:([0-9]{1,12})$")


def _mention_at(children, index: int) -> int | None:
    """The user id of a mention starting with the link at ``children[index]``, else None."""
    if index == 0 or index + 2 >= len(children):
        return None
    before, link, name, close = children[index - 1], children[index], children[index + 1], children[index + 2]
    if link.type != "link_open" or name.type != "text" or close.type != "link_close":
        return None
    if before.type != "text" or not before.content.endswith("@") or not name.content.strip():
        return None
    found = _MENTION_HREF.match(str(link.attrGet("href") or ""))
    return int(found[1]) if found else None


def _mentions_rule(state) -> None:
    if not state.env.get("mentions"):
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, merged, index = block.children, [], 0
        while index < len(children):
            user_id = _mention_at(children, index)
            if user_id is None:
                merged.append(children[index])
                index += 1
                continue
            merged[-1].content = merged[-1].content[:-1]  # the "@" moves into the mention
            token = Token("mention", "", 0)
            token.meta = {"user_id": user_id, "name": children[index + 1].content}
            merged.append(token)
            index += 3
        block.children = merged


def _render_mention(renderer, tokens, idx, options, env) -> str:
    meta = tokens[idx].meta
    href = escape(env["mentions"](meta["user_id"]))
    name = escape(meta["name"])
    return f'<a class="{MENTION_CLASS}" data-mention="{meta["user_id"]}" href="{href}">@{name}</a>'


_PARSER.core.ruler.push("mentions", _mentions_rule)
_PARSER.add_render_rule("mention", _render_mention)


def mentions_in(text: str) -> list[tuple[int, str]]:
    """``(user id, name as written)`` of each person ``text`` mentions, first mention of each,
    in order (a mention in code is text, not a mention)."""
    text = text or ""
    if "](user:" not in text or len(text) > MAX_SOURCE_CHARS:
        return []
    found: dict[int, str] = {}
    for token in _PARSER.parse(text, {"mentions": lambda user_id: ""}):
        for child in token.children or ():
            if child.type == "mention":
                found.setdefault(child.meta["user_id"], child.meta["name"])
    return list(found.items())


def mentioned_user_ids(text: str) -> list[int]:
    return [user_id for user_id, _name in mentions_in(text)]


class Rendered(NamedTuple):
    """A text and its HTML as stored when it was written (``Message.body_html``): lets an email
    of a stored message skip rendering it again for every recipient."""

    source: str
    html: SafeString


def render_markdown(text: str, *, mention_href: Callable[[int], str] | None = None) -> SafeString:
    """The HTML of a message body, safe to put on a page as it is.

    Time is linear in ``len(text)``; beyond ``MAX_SOURCE_CHARS`` the text is shown as written
    (escaped, no Markdown). Text-reordering controls are shown as ``[U+202E]``. With
    ``mention_href`` (user id -> link), ``@[Name](user:ID)`` shows as a highlighted mention.
    """
    text = text or ""
    if len(text) > MAX_SOURCE_CHARS:
        html = f"<pre>{escape(text)}</pre>"
    elif mention_href is not None:
        html = _PARSER.render(text, {"mentions": mention_href})
    else:
        html = _PARSER.render(text)
    # After sanitizing, so the visible "[U+202E]" is plain text wherever it lands (text, an
    # attribute) and can never become Markdown syntax such as a link's [text].
    return mark_safe(reveal_bidi(sanitize_html(html)))  # noqa: S308 - sanitized by nh3, ASCII added  # nosec B308 B703
