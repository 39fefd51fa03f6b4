"""@mentions in internal notes: who is emailed (only staff who can see the ticket), what the
author is told, how a mention shows, and that requesters never see or hear of one."""

import pytest
from django.contrib.messages import get_messages

from privacy.account.erasure import erase_account_data
from privacy.account.profile import preferences_update
from tests.conftest import make_member
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply
from tickets import services, views
from tickets.models import Message
from workspaces.models import Role


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def dana(workspace, queue):
    return agent_of(workspace, queue, display_name="Dana Scully")


def mention(membership) -> str:
    return f"@[{membership.user.display_name}](user:{membership.user.pk})"


def ticket_url(ticket, tail=""):
    return f"/w/acme/tickets/{ticket.number}/{tail}"


def test_the_mentioned_agent_gets_an_email_with_the_note(
    workspace, queue, agent, dana, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue, subject="Printer on fire")
    mailoutbox.clear()
    with after_commit():
        note(ticket, agent, body=f"{mention(dana)} can you check the **toner**?")
    [email] = mailoutbox
    assert email.to == [dana.user.email]
    assert "mentioned you" in email.subject and "Printer on fire" in email.subject
    assert "can you check the **toner**?" in email.body
    assert ticket_url(ticket) in email.body
    html = email.alternatives[0][0]
    assert "<strong>toner</strong>" in html and 'class="mention"' in html


def test_a_mention_renders_linked_and_highlighted_in_the_note_only(workspace, queue, agent, dana, requester):
    ticket = new_ticket(requester, queue)
    posted = note(ticket, agent, body=f"Ask {mention(dana)}, not `@[x](user:{dana.user.pk})`")
    assert (
        f'<a class="mention" data-mention="{dana.user.pk}" href="/w/acme/tickets/?assignee={dana.user.pk}" '
        'rel="noopener noreferrer nofollow">@Dana Scully</a>'
    ) in posted.body_html
    assert posted.body_html.count('class="mention"') == 1  # code stays code
    # A requester typing the same reference gets no mention: plain text, no link, no email.
    own = reply(ticket, requester, body=f"Hi {mention(dana)}")
    assert 'class="mention"' not in own.body_html and "user:" not in own.body_html


def test_staff_cannot_put_a_mention_in_a_public_reply(
    workspace, queue, agent, dana, requester, login, mailoutbox
):
    ticket = new_ticket(requester, queue)
    mailoutbox.clear()
    body = f"{mention(dana)} please look"
    response = login(agent).post(ticket_url(ticket), {"body": body, "kind": "reply"})
    assert response.status_code == 400
    assert str(services.MENTION_IN_REPLY) in response.content.decode()
    assert body in response.content.decode()  # the text is kept in the box
    assert not Message.objects.filter(body=body).exists()
    assert mailoutbox == []


def test_a_mention_of_someone_who_cannot_see_the_ticket_emails_nobody_and_the_author_is_told(
    workspace, queue, other_queue, agent, requester, login, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    billing = agent_of(workspace, other_queue, display_name="Bill Ing")
    mailoutbox.clear()
    client = login(agent)
    body = f"{mention(billing)} and {mention(requester)} and @[Ghost](user:999999)"
    with after_commit():
        response = client.post(ticket_url(ticket), {"body": body, "kind": "note"})
    assert response.status_code == 302
    assert mailoutbox == []
    warnings = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert warnings == [
        views.MENTION_NOT_NOTIFIED.format(names=f"@Bill Ing, @{requester.user.display_name}, @Ghost")
    ]


def test_a_requester_never_gets_mention_mail_nor_sees_the_note(
    workspace, queue, agent, requester, login, after_commit, mailoutbox
):
    requester.user.display_name = "Rita Requester"
    requester.user.save()
    ticket = new_ticket(requester, queue)
    mailoutbox.clear()
    with after_commit():
        note(ticket, agent, body=f"{mention(requester)} seems upset")
    assert mailoutbox == []
    page = login(requester).get(ticket_url(ticket)).content.decode()
    assert "seems upset" not in page and "mention" not in page.lower()


def test_nobody_is_emailed_for_mentioning_themselves_or_twice(
    workspace, queue, agent, dana, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    mailoutbox.clear()
    with after_commit():
        note(ticket, agent, body=f"{mention(agent)} {mention(dana)} {mention(dana)}")
    assert [m.to for m in mailoutbox] == [[dana.user.email]]


def test_the_mention_preference_turns_the_email_off(
    workspace, queue, agent, dana, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    preferences_update(user=dana.user, values={"email_on_mention": False})
    mailoutbox.clear()
    with after_commit():
        note(ticket, agent, body=mention(dana))
    assert mailoutbox == []


def test_an_edit_emails_only_people_it_mentions_for_the_first_time(
    workspace, queue, agent, dana, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    fox = agent_of(workspace, queue, display_name="Fox Mulder")
    with after_commit():
        posted = note(ticket, agent, body=mention(dana))
    mailoutbox.clear()
    with after_commit():
        services.message_edit(message=posted, editor=agent.user, body=f"{mention(dana)} {mention(fox)}")
    assert [m.to for m in mailoutbox] == [[fox.user.email]]


def test_autocomplete_lists_the_staff_who_can_see_the_ticket(
    workspace, queue, other_queue, admin, agent, dana, requester, login
):
    admin.user.display_name = "Quinn Admin"
    admin.user.save()
    agent_of(workspace, other_queue, display_name="Dan Billing")  # works Billing only
    make_member(workspace, Role.REQUESTER, display_name="Danielle Requester")
    ticket = new_ticket(requester, queue)
    client = login(agent)
    found = client.get(ticket_url(ticket, "mentions/"), {"q": "Da"}).json()["results"]
    assert [p["name"] for p in found] == ["Dana Scully"]
    assert found[0]["id"] == dana.user.pk and found[0]["email"] == dana.user.email
    everyone = client.get(ticket_url(ticket, "mentions/")).json()["results"]
    assert {p["id"] for p in everyone} == {admin.user.pk, agent.user.pk, dana.user.pk}
    by_email = client.get(ticket_url(ticket, "mentions/"), {"q": dana.user.email[:6]}).json()["results"]
    assert dana.user.pk in [p["id"] for p in by_email]


def test_requesters_get_no_autocomplete(workspace, queue, dana, requester, login):
    ticket = new_ticket(requester, queue)
    client = login(requester)
    assert client.get(ticket_url(ticket, "mentions/"), {"q": "Da"}).status_code == 404
    page = client.get(ticket_url(ticket)).content.decode()
    assert "data-mention-url" not in page and "mention-listbox" not in page


def test_the_staff_page_offers_the_autocomplete(workspace, queue, agent, requester, login):
    ticket = new_ticket(requester, queue)
    page = login(agent).get(ticket_url(ticket)).content.decode()
    assert f'data-mention-url="{ticket_url(ticket, "mentions/")}"' in page
    assert 'role="listbox"' in page and "js/mentions.js" in page


def test_erasing_the_mentioned_person_keeps_a_mention_under_their_pseudonym(
    workspace, queue, agent, dana, requester
):
    ticket = new_ticket(requester, queue)
    posted = note(ticket, agent, body=f"Ask {mention(dana)} tomorrow")
    erase_account_data(dana.user)
    posted.refresh_from_db()
    assert "Dana" not in posted.body and "Dana" not in posted.body_html
    assert f'class="mention" data-mention="{dana.user.pk}"' in posted.body_html
