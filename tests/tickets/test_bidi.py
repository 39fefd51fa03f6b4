"""Bidirectional controls ("Trojan Source"): an RLO (U+202E) in a subject or a name never reaches
a page or an email raw. Stripped when written (services, User.clean), and again when shown, for
rows written before."""

import pytest
from django.template import Context, Template

from helpdesk.text import BIDI_CONTROLS, inline_text, reveal_bidi, strip_bidi
from privacy.account.profile import profile_update
from tests.tickets.ticket_helpers import new_ticket, reply, url
from tickets.models import Ticket
from workspaces.models import User

RLO = "\u202e"
SPOOFED = f"Invoice {RLO}fdp.exe"  # reads "Invoice exe.pdf" on screen
EVERY_CONTROL = "".join(sorted(BIDI_CONTROLS))


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def spoof_subject(ticket):
    """A row written before the write-time stripping existed."""
    Ticket.objects.filter(pk=ticket.pk).update(subject=SPOOFED)


def test_the_helpers():
    assert strip_bidi(f"a{EVERY_CONTROL}b") == "ab"
    assert len(BIDI_CONTROLS) == 12
    assert reveal_bidi(f"a{RLO}b\u200fc") == "a[U+202E]bc"
    assert inline_text(f"<b>{RLO}x</b>") == "<bdi>&lt;b&gt;x&lt;/b&gt;</bdi>"
    assert inline_text(None) == "<bdi></bdi>"


def test_a_new_ticket_loses_the_controls_of_its_subject(queue, requester):
    ticket = new_ticket(requester, queue, subject=f"Invoice {EVERY_CONTROL}fdp.exe")
    ticket.refresh_from_db()
    assert ticket.subject == "Invoice fdp.exe"


def test_the_list_page_never_shows_a_subject_control_raw(workspace, queue, requester, login):
    ticket = new_ticket(requester, queue)
    spoof_subject(ticket)
    page = login(requester).get(url(workspace)).content.decode()
    assert RLO not in page
    assert "<bdi>Invoice fdp.exe</bdi>" in page


def test_the_ticket_page_never_shows_a_subject_control_raw(workspace, queue, requester, agent, login):
    ticket = new_ticket(requester, queue)
    spoof_subject(ticket)
    for person in (requester, agent):
        page = login(person).get(url(workspace, "", ticket.number)).content.decode()
        assert RLO not in page
        assert '<bdi id="ticket-subject">Invoice fdp.exe</bdi>' in page
        assert "<title>#1 Invoice fdp.exe" in page


def test_an_email_subject_never_carries_a_control(queue, requester, agent, after_commit, mailoutbox):
    ticket = new_ticket(requester, queue)
    spoof_subject(ticket)
    with after_commit():
        reply(ticket, agent, body=f"About {RLO}this")
    [message] = mailoutbox
    assert message.subject.endswith("Invoice fdp.exe")
    assert RLO not in message.subject and RLO not in message.body
    for content, _ in message.alternatives:
        assert RLO not in content


def test_a_name_loses_its_controls_when_saved(requester):
    profile_update(user=requester.user, display_name=f"Eve {RLO}nimda", language="en", time_zone="UTC")
    assert User.objects.get(pk=requester.user.pk).display_name == "Eve nimda"


def test_a_name_written_before_is_shown_stripped_and_isolated(workspace, queue, requester, agent, login):
    User.objects.filter(pk=agent.user.pk).update(display_name=f"Eve {RLO}nimda")
    ticket = new_ticket(requester, queue)
    reply(ticket, agent, body="Hello")
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent.user)
    for page_url in (url(workspace, "", ticket.number), url(workspace)):
        page = login(agent).get(page_url).content.decode()
        assert RLO not in page, page_url
        assert "Eve nimda" in page
    page = login(requester).get(url(workspace, "", ticket.number)).content.decode()
    assert '<strong class="message-author"><bdi>Eve nimda</bdi></strong>' in page


def test_the_template_filters():
    rendered = Template("{% load text_tags %}{{ s|inline_text }}|{{ s|strip_bidi }}").render(
        Context({"s": f"<{RLO}x>"})
    )
    assert rendered == "<bdi>&lt;x&gt;</bdi>|&lt;x&gt;"
