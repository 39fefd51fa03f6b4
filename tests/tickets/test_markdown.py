"""Message bodies: Markdown rendered (markdown-it-py, raw HTML off), then sanitized (nh3) so
nothing runs in a reader's browser; rendered once when written, pages show the stored HTML."""

import re

import pytest

from helpdesk import markdown
from helpdesk.markdown import LINK_REL, render_markdown, safe_url, sanitize_html
from tests.markdown_corpus import inert_problems
from tests.tickets.ticket_helpers import new_ticket, reply, url

DANGEROUS = [
    ("<script>alert('x')</script>Hello", ["<script"]),
    ("[click](javascript:alert(1))", ["javascript:"]),
    ("[click](JaVaScRiPt:alert(1))", ["javascript:"]),
    ('<img src="x" onerror="alert(1)">', ["onerror=", 'src="x"']),
    ('<a href="https://example.com" onclick="steal()">x</a>', ["onclick="]),
    ('<p style="position:fixed">cover</p>', ["style="]),
    ('<iframe src="https://evil.test"></iframe>', ["<iframe"]),
    ("<svg><script>alert(1)</script></svg>", ["<svg", "<script"]),
    ("![tracker](https://evil.test/pixel.png)", ["evil.test"]),
    ("![inline](data:image/png;base64,AAAA)", ["data:"]),
    ("<form action=/x><input name=password></form>", ["<form", "<input"]),
]


@pytest.mark.parametrize(("source", "forbidden"), DANGEROUS)
def test_dangerous_markup_never_becomes_markup(source, forbidden):
    """Raw HTML in a body is shown as the text it is; a dangerous link is no link."""
    html = str(render_markdown(source))
    assert inert_problems(html) == [], (source, html)
    # As text it may stay visible ("&lt;script&gt;"); in a tag or an attribute, never.
    tags = " ".join(re.findall(r"<[^>]*>", html)).lower()
    for needle in forbidden:
        assert needle.lower() not in tags, (source, html)


@pytest.mark.parametrize(("source", "forbidden"), [case for case in DANGEROUS if case[0].startswith("<")])
def test_the_sanitizer_alone_removes_dangerous_markup(source, forbidden):
    """The second wall: whatever HTML reaches nh3 comes out inert."""
    html = sanitize_html(source)
    assert inert_problems(html) == [], (source, html)
    for needle in forbidden:
        assert needle.lower() not in html.lower(), (source, html)


def test_raw_html_is_shown_as_typed():
    assert str(render_markdown("Use <b>bold</b> tags")) == "<p>Use &lt;b&gt;bold&lt;/b&gt; tags</p>\n"


def test_ordinary_markdown_renders():
    html = str(render_markdown("**bold** _it_ `code`\n\n- one\n- two\n\n> quoted\n\n```\nblock\n```"))
    for fragment in (
        "<strong>bold</strong>",
        "<em>it</em>",
        "<code>code</code>",
        "<li>one</li>",
        "<blockquote>",
    ):
        assert fragment in html
    assert "<pre><code>block" in html


def test_line_breaks_tables_strikethrough_and_ordered_lists():
    html = str(render_markdown("one\ntwo\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n~~old~~\n\n3. three\n4. four"))
    assert "one<br>\ntwo" in html
    assert "<table>" in html and "<th>a</th>" in html and "<td>1</td>" in html
    assert "<s>old</s>" in html
    assert '<ol start="3">' in html


def test_links_are_kept_with_a_safe_rel():
    html = str(render_markdown("[docs](https://example.com/docs) and <mailto:help@example.com>"))
    assert 'href="https://example.com/docs"' in html
    assert 'href="mailto:help@example.com"' in html
    assert f'rel="{LINK_REL}"' in html
    assert LINK_REL == "noopener noreferrer nofollow"


def test_autolinks_in_angle_brackets():
    html = str(render_markdown("See <https://example.com/status>."))
    assert '<a href="https://example.com/status" rel="noopener noreferrer nofollow">' in html


def test_images_only_from_this_site():
    html = str(render_markdown("![a](/w/acme/tickets/1/attachments/2/) ![b <i>](//evil.test/x.png)"))
    assert 'src="/w/acme/tickets/1/attachments/2/"' in html
    assert "evil.test" not in html
    # The refused image shows its alt text, not a broken-image icon.
    assert html == '<p><img src="/w/acme/tickets/1/attachments/2/" alt="a"> b &lt;i&gt;</p>\n'


# URLs a browser reads as another host, or as a scheme that runs code, however they are dressed.
TRICKY_URLS = [
    "//evil.test/x",
    "/&#10;/evil.test/x",
    "/&#13;/evil.test/x",
    "/&#9;/evil.test/x",
    "&#10;//evil.test/x",
    " //evil.test/x",
    "&#1;//evil.test/x",
    "\\\\evil.test\\x",
    "/\\evil.test/x",
    "\\/evil.test/x",
    "/x\\..\\..\\evil",
    "https://evil.test/x",
    "http:evil.test/x",
    "javascript:alert(1)",
    "java&#10;script:alert(1)",
    "&#x20;javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "vbscript:msgbox(1)",
    "data:image/png;base64,AAAA",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("payload", TRICKY_URLS)
def test_an_image_never_points_at_another_host(payload):
    html = sanitize_html(f'<img src="{payload}" alt="a">')
    assert "src=" not in html, html
    assert inert_problems(html) == []


@pytest.mark.parametrize("payload", [p for p in TRICKY_URLS if "evil.test" in p[:20] or ":" in p])
def test_a_link_never_hides_another_host_or_a_script(payload):
    html = sanitize_html(f'<a href="{payload}">x</a>')
    assert inert_problems(html) == [], html
    if "href=" in html:
        # Only plain http(s) links to a host written as such survive.
        assert payload.startswith(("https://", "http:")), html


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("/w/acme/tickets/1/", "/w/acme/tickets/1/"),
        ("tickets/2/", "tickets/2/"),
        ("#message-3", "#message-3"),
        ("?page=2", "?page=2"),
        ("/%0A/x", "/%0A/x"),
        ("https://example.com/a b", "https://example.com/a b"),
        ("mailto:help@example.com", "mailto:help@example.com"),
        ("/\n/evil.test", None),
        ("\t//evil.test", None),
        ("/\\evil.test", None),
        ("ftp://example.com", None),
    ],
)
def test_safe_url_rules(value, kept):
    assert safe_url(value) == kept


def test_a_same_site_image_keeps_working():
    html = sanitize_html('<img src="/w/acme/tickets/1/attachments/2/" alt="shot">')
    assert 'src="/w/acme/tickets/1/attachments/2/"' in html


def test_text_reordering_controls_show_as_a_visible_code_point():
    html = str(render_markdown("invoice_\u202efdp.exe and \u2066isolate\u2069 \u200fmark [link](/x\u202e)"))
    assert "invoice_[U+202E]fdp.exe" in html
    assert "[U+2066]isolate[U+2069]" in html
    assert "\u200f" not in html and "mark" in html
    assert inert_problems(html) == []


def test_a_body_longer_than_the_renderer_bound_is_shown_as_plain_text():
    text = "**x** " + "a" * markdown.MAX_SOURCE_CHARS
    html = str(render_markdown(text))
    assert html.startswith("<pre>**x** aaa")


def test_the_ticket_page_shows_sanitized_html(workspace, queue, requester, agent, login):
    ticket = new_ticket(requester, queue, description="<script>document.title='owned'</script>**Help**")
    reply(ticket, agent, body='<img src=x onerror="alert(1)"> [x](javascript:alert(2))')
    html = login(requester).get(url(workspace, "", ticket.number)).content.decode()
    assert "<strong>Help</strong>" in html
    assert "&lt;script&gt;document.title" in html  # shown as the text it is
    assert "<script>document.title" not in html
    assert "<img src=x" not in html and 'href="javascript:' not in html
