"""tickets/message_render.py: the markup of a message and of its attachments, for each viewer.
The ticket page renders every message there at once; tickets/_message.html (live fragments)
and tickets/_attachments.html call the same code."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tests.tickets.ticket_helpers import new_ticket, note, reply
from tickets.message_render import MessagesRenderer
from tickets.models import Attachment, Message
from tickets.selectors import ticket_messages

pytestmark = pytest.mark.django_db


def attach(message, name, content_type, **kwargs):
    return Attachment.objects.create(
        workspace_id=message.workspace_id,
        ticket_id=message.ticket_id,
        message=message,
        file=f"attachments/{name}",
        original_name=name,
        content_type=content_type,
        size=2048,
        **kwargs,
    )


@pytest.fixture
def conversation(requester, agent, queue):
    ticket = new_ticket(requester, queue)
    first = reply(ticket, requester, body="My **printer**")
    attach(first, 'shot<"1">.png', "image/png")
    attach(first, "notes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    attach(first, "gone.pdf", "application/pdf", redacted_at=timezone.now())
    answer = reply(ticket, agent, body="On it")
    Message.objects.filter(pk=answer.pk).update(edited_at=timezone.now())
    secret = note(ticket, agent, body="Internal <b>only</b>")
    Message.objects.filter(pk=secret.pk).update(redacted_at=timezone.now())
    return ticket, first, answer, secret


def page(membership, ticket, **full_texts):
    messages = ticket_messages(membership=membership, ticket=ticket)
    for message in messages:
        message.email_full_text = full_texts.get(str(message.pk), "")
    return MessagesRenderer(membership=membership, ticket=ticket).render_all(messages)


def test_staff_see_kinds_badges_and_their_own_edit_link(conversation, agent):
    ticket, first, answer, secret = conversation
    html = page(agent, ticket)
    assert f'<article id="message-{first.pk}" class="message message-reply" data-kind="reply">' in html
    assert f'<article id="message-{secret.pk}" class="message message-note" data-kind="note">' in html
    assert html.count('<span class="message-kind reply-label">Public reply</span>') == 3  # with the opening
    assert '<span class="message-kind note-label"><svg class="lock-icon"' in html
    assert html.count('<span class="role-badge">Requester</span>') == 2  # the opening and the first reply
    assert (
        f'href="/w/{agent.workspace.slug}/tickets/{ticket.number}/messages/{answer.pk}/edit/">Edit</a>'
        in html
    )
    assert f"/messages/{first.pk}/edit/" not in html  # someone else's
    assert f"/messages/{secret.pk}/edit/" not in html  # redacted: never edited again
    assert '<span class="edited" title="Edited ' in html and "(edited)</span>" in html
    assert '<span class="redacted-badge">Redacted ' in html
    assert "message-redact" not in html  # agents redact only when the workspace allows it
    assert "<p>My <strong>printer</strong></p>" in html


def test_requesters_get_no_kind_labels_and_no_notes(conversation, requester):
    ticket, first, _answer, secret = conversation
    html = page(requester, ticket, **{str(first.pk): "the whole email"})
    assert "reply-label" not in html and "note-label" not in html
    assert f"message-{secret.pk}" not in html
    assert "full-email" not in html  # staff only


def test_attachments_escape_names_and_link_through_the_download_view(conversation, admin):
    ticket, first, _answer, _secret = conversation
    html = page(admin, ticket, **{str(first.pk): "<quoted> & signed"})
    base = f"/w/{admin.workspace.slug}/tickets/{ticket.number}"
    shot, doc, gone = first.attachments.order_by("pk")
    assert "shot&lt;&quot;1&quot;&gt;.png" in html and 'shot<"1">' not in html
    assert f'<a class="attachment-name" href="{base}/attachments/{shot.pk}/?download=1" download>' in html
    assert f'<a class="attachment-view button small" href="{base}/attachments/{shot.pk}/"' in html
    assert f'href="{base}/attachments/{doc.pk}/"' not in html  # a document downloads only
    assert (
        'attachment-icon-doc" aria-hidden="true">DOC</span>' in html and "2.0\xa0KB · Word document" in html
    )
    assert '<li class="attachment attachment-redacted">' in html and "File redacted " in html
    assert f"/attachments/{gone.pk}/" not in html
    # Admins redact messages and files.
    assert (
        f'<a class="message-redact" data-message-id="{first.pk}" href="{base}/messages/{first.pk}/redact/">'
        in html
    )
    assert f'href="{base}/attachments/{shot.pk}/redact/">Redact file' in html
    assert '<pre class="full-email-text">&lt;quoted&gt; &amp; signed</pre>' in html


def test_a_deleted_author_and_a_name_with_markup_are_shown_safely(requester, agent, queue):
    ticket = new_ticket(requester, queue)
    agent.user.display_name = "<img src=x onerror=alert(1)>"
    agent.user.save()
    gone = reply(ticket, agent, body="Bye")
    Message.objects.filter(pk=gone.pk).update(author=None)
    reply(ticket, agent, body="Hello")
    html = page(agent, ticket)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<strong class="message-author"><bdi>Deleted user</bdi></strong>' in html


def test_dates_are_in_the_reader_s_zone_and_language(conversation, agent):
    ticket, first, _answer, _secret = conversation
    when = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)
    Message.objects.filter(pk=first.pk).update(created_at=when)
    with timezone.override("Asia/Tokyo"), translation.override("de"):
        html = page(agent, ticket)
    assert (
        f'<time datetime="{when.astimezone(ZoneInfo("Asia/Tokyo")).isoformat()}">6 Mär 2026 08:30</time>'
        in html
    )


def test_the_live_fragment_template_is_the_same_markup(conversation, agent):
    ticket, _first, answer, _secret = conversation
    message = next(m for m in ticket_messages(membership=agent, ticket=ticket) if m.pk == answer.pk)
    fragment = render_to_string(
        "tickets/_message.html", {"message": message, "ticket": ticket, "membership": agent}
    )
    assert fragment.strip() == MessagesRenderer(membership=agent, ticket=ticket).render(message)
