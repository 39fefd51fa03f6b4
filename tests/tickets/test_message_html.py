"""A message body is rendered once, when written (``Message.body_html``): every path that writes
a body stores its HTML, and pages and websockets show the stored HTML without rendering."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from helpdesk import markdown
from privacy.account.erasure import erasure_request, erasure_run
from privacy.personal_data.models import Pseudonym
from tests.conftest import make_member
from tests.factories import MessageFactory, UserFactory
from tests.tickets.ticket_helpers import new_ticket, note, reply, url
from tickets import services
from tickets.anonymize import RETENTION_MESSAGE, message_anonymize, tickets_anonymize
from tickets.bodies import body_html_of
from tickets.forms import BODY_MAX_LENGTH
from tickets.models import BODY_TOO_LONG, MESSAGE_BODY_MAX_LENGTH, Message
from workspaces.models import Role

backfill_migration = importlib.import_module("tickets.migrations.0007_message_body_html_backfill")


def stored(message) -> str:
    return Message.objects.get(pk=message.pk).body_html


def test_a_new_ticket_and_its_replies_and_notes_store_their_html(queue, requester, agent):
    ticket = new_ticket(requester, queue, description="It **smokes**.")
    first = ticket.messages.get()
    posted = reply(ticket, agent, body="Try _this_ [guide](https://example.com/g)")
    internal = note(ticket, agent, body="- one\n- two")
    assert stored(first) == "<p>It <strong>smokes</strong>.</p>\n"
    assert "<em>this</em>" in stored(posted) and 'rel="noopener noreferrer nofollow"' in stored(posted)
    assert "<li>one</li>" in stored(internal)


def test_the_page_shows_the_stored_html_and_never_renders_on_a_read(
    workspace, queue, requester, agent, login, monkeypatch
):
    ticket = new_ticket(requester, queue, description="**Original**")
    Message.objects.filter(ticket=ticket).update(body_html="<p>the stored copy</p>")

    def refuse(*args, **kwargs):
        raise AssertionError("a page view rendered Markdown")

    monkeypatch.setattr(markdown._PARSER, "render", refuse)
    response = login(requester).get(url(workspace, "", ticket.number))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<p>the stored copy</p>" in page
    assert "<strong>Original</strong>" not in page


def test_a_hostile_body_costs_one_render_when_posted_not_one_per_view(
    workspace, queue, requester, agent, login, monkeypatch
):
    ticket = new_ticket(requester, queue)
    calls = []
    real = markdown._PARSER.render
    monkeypatch.setattr(markdown._PARSER, "render", lambda text: calls.append(len(text)) or real(text))
    reply(ticket, requester, body="[" * MESSAGE_BODY_MAX_LENGTH)
    assert calls == [MESSAGE_BODY_MAX_LENGTH]
    client = login(agent)
    for _ in range(3):
        assert client.get(url(workspace, "", ticket.number)).status_code == 200
    assert calls == [MESSAGE_BODY_MAX_LENGTH]


def test_editing_a_message_renders_it_again(queue, requester, agent):
    ticket = new_ticket(requester, queue)
    message = reply(ticket, agent, body="first **draft**")
    services.message_edit(message=message, editor=agent.user, body="second _take_")
    html = stored(message)
    assert "<em>take</em>" in html and "draft" not in html


def test_redaction_replaces_the_stored_html_too(queue, requester, agent):
    ticket = new_ticket(requester, queue, description="My card is 4111 1111 1111 1111")
    message = reply(ticket, agent, body="Noted: **4111 1111 1111 1111**")
    message_anonymize(message)
    assert stored(message) == body_html_of(RETENTION_MESSAGE)
    tickets_anonymize(workspace_id=ticket.workspace_id, ticket_ids=[ticket.pk])
    for html in Message.objects.filter(ticket=ticket).values_list("body_html", flat=True):
        assert "4111" not in html
        assert html == body_html_of(RETENTION_MESSAGE)


def test_erasure_scrubs_a_mention_from_the_stored_html(workspace, queue, agent):
    person = make_member(workspace, Role.REQUESTER, display_name="Ada Lovelace", email="ada@example.com")
    make_member(workspace, Role.ADMIN)  # the workspace keeps an admin
    ticket = new_ticket(person, queue)
    mention = reply(ticket, agent, body="Spoke to **Ada Lovelace** (<mailto:ada@example.com>).")
    erasure_run(erasure_id=erasure_request(user=person.user, grace=0).pk, force=True)
    mention.refresh_from_db()
    label = Pseudonym.objects.get(user=person.user).label
    assert "Ada" not in mention.body and "ada@example.com" not in mention.body
    assert "Ada" not in mention.body_html and "ada@example.com" not in mention.body_html
    assert label in mention.body_html
    assert mention.body_html == body_html_of(mention.body)


def test_a_body_over_the_limit_is_refused_with_a_clear_message(queue, requester):
    ticket = new_ticket(requester, queue)
    with pytest.raises(ValidationError) as refused:
        reply(ticket, requester, body="x" * (MESSAGE_BODY_MAX_LENGTH + 1))
    expected = BODY_TOO_LONG % {
        "limit_value": MESSAGE_BODY_MAX_LENGTH,
        "show_value": MESSAGE_BODY_MAX_LENGTH + 1,
    }
    assert refused.value.message_dict["body"] == [expected]
    assert ticket.messages.count() == 1
    assert BODY_MAX_LENGTH == MESSAGE_BODY_MAX_LENGTH


def test_the_reply_form_refuses_an_overlong_body_and_writes_nothing(workspace, queue, requester, login):
    ticket = new_ticket(requester, queue)
    response = login(requester).post(
        url(workspace, "", ticket.number), {"body": "x" * (MESSAGE_BODY_MAX_LENGTH + 1)}
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 20000 characters" in response.content.decode()
    assert ticket.messages.count() == 1


def test_the_backfill_migration_renders_the_rows_written_before(queue, requester, agent):
    ticket = new_ticket(requester, queue)
    old = MessageFactory(ticket=ticket, author=agent.user, body="**old** row", body_html="")
    ticket.messages.exclude(pk=old.pk).update(body_html="")
    backfill_migration.backfill(apps, None)
    assert stored(old) == "<p><strong>old</strong> row</p>\n"
    assert all(ticket.messages.values_list("body_html", flat=True))


def test_a_row_written_around_the_services_is_rendered_rather_than_shown_blank(
    workspace, queue, requester, login
):
    ticket = new_ticket(requester, queue)
    MessageFactory(ticket=ticket, author=UserFactory(), body="**imported**", body_html="")
    page = login(requester).get(url(workspace, "", ticket.number)).content.decode()
    assert "<strong>imported</strong>" in page


def test_a_reply_email_uses_the_stored_html_without_rendering_per_recipient(
    queue, requester, agent, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    ticket = new_ticket(requester, queue)
    participant = make_member(ticket.workspace, Role.REQUESTER)
    services.participant_add(ticket=ticket, user=participant.user, actor=agent.user)

    def refuse(*args, **kwargs):
        raise AssertionError("an email rendered Markdown again")

    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket, agent, body="We **fixed** it.")
        monkeypatch.setattr(markdown._PARSER, "render", refuse)
    assert sorted(m.to[0] for m in mailoutbox) == sorted([requester.user.email, participant.user.email])
    for message in mailoutbox:
        [html] = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
        assert "<p>We <strong>fixed</strong> it.</p>" in html
        assert "We **fixed** it." in message.body
