"""Message bodies: Markdown rendered, then sanitized (nh3) so nothing runs in a reader's browser."""

import pytest

from helpdesk.markdown import LINK_REL, render_markdown
from tests.tickets.ticket_helpers import new_ticket, reply, url


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert('x')</script>Hello", ["<script", "alert("]),
        ("[click](javascript:alert(1))", ["javascript:"]),
        ("[click](JaVaScRiPt:alert(1))", ["javascript:", "JaVaScRiPt"]),
        ('<img src="x" onerror="alert(1)">', ["onerror", "alert("]),
        ('<a href="https://example.com" onclick="steal()">x</a>', ["onclick", "steal("]),
        ('<p style="position:fixed">cover</p>', ["style="]),
        ('<iframe src="https://evil.test"></iframe>', ["<iframe", "evil.test"]),
        ("<svg><script>alert(1)</script></svg>", ["<svg", "<script"]),
        ("![tracker](https://evil.test/pixel.png)", ["evil.test"]),
        ("![inline](data:image/png;base64,AAAA)", ["data:"]),
        ("<form action=/x><input name=password></form>", ["<form", "<input"]),
    ],
)
def test_dangerous_markup_is_removed(source, forbidden):
    html = str(render_markdown(source))
    for needle in forbidden:
        assert needle.lower() not in html.lower(), (source, html)


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


def test_links_are_kept_with_a_safe_rel():
    html = str(render_markdown("[docs](https://example.com/docs) and <mailto:help@example.com>"))
    assert 'href="https://example.com/docs"' in html
    assert f'rel="{LINK_REL}"' in html
    assert LINK_REL == "noopener noreferrer nofollow"


def test_images_only_from_this_site():
    html = str(render_markdown("![a](/w/acme/tickets/1/attachments/2/) ![b](//evil.test/x.png)"))
    assert 'src="/w/acme/tickets/1/attachments/2/"' in html
    assert "evil.test" not in html


def test_the_ticket_page_shows_sanitized_html(workspace, queue, requester, agent, login):
    ticket = new_ticket(requester, queue, description="<script>document.title='owned'</script>**Help**")
    reply(ticket, agent, body='<img src=x onerror="alert(1)"> [x](javascript:alert(2))')
    html = login(requester).get(url(workspace, "", ticket.number)).content.decode()
    assert "<strong>Help</strong>" in html
    assert "document.title" not in html and "onerror" not in html and "javascript:" not in html
