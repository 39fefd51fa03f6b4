"""Rendering message bodies: Markdown to HTML, then sanitized with nh3 (ammonia).

Python-Markdown passes raw HTML through, so its output is never trusted: nh3 keeps only the
tags and attributes listed here, drops ``<script>``/``<style>`` with their content, every event
handler attribute (``onerror=`` ...), and every link scheme but http, https and mailto
(``javascript:`` links lose their ``href``). Links get ``rel="noopener noreferrer nofollow"``.
Images are kept only when they point at a path of this site (an attachment), never at another
host, so a message cannot make a reader's browser call a tracking pixel.
"""

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

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
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
EXTENSIONS = ["fenced_code", "tables", "sane_lists", "nl2br"]


def _same_site_path(value: str) -> bool:
    value = value.strip()
    return value.startswith("/") and not value.startswith("//") and "\\" not in value


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # An image from another host (or a data: URL) would be fetched by every reader's browser.
    if tag == "img" and attribute == "src" and not _same_site_path(value):
        return None
    return value


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


def render_markdown(text: str) -> SafeString:
    """The HTML of a message body, safe to put on a page as it is."""
    html = markdown_lib.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    return mark_safe(sanitize_html(html))  # noqa: S308 - sanitized by nh3 just above  # nosec B308 B703
