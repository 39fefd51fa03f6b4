"""A ticket out of reach answers 404 with words and keeps what the person posted: the same page
for a ticket that moved away, one of a queue never worked and one that does not exist."""

import re

import pytest
from guardian.shortcuts import remove_perm

from privacy.audit.models import AuditEvent
from tests.tickets.ticket_helpers import new_ticket, properties_data, url
from tickets import views
from tickets.models import Message
from workspaces.models import QUEUE_PERMISSION

pytestmark = pytest.mark.django_db

TYPED = "Please restart the router <b>now</b>."


@pytest.fixture
def moved(requester, queue, other_queue, agent):
    ticket = new_ticket(requester, queue, subject="Router")
    remove_perm(QUEUE_PERMISSION, agent.user, queue)
    return ticket


def test_a_refused_reply_says_so_and_shows_the_posted_text(login, agent, moved):
    response = login(agent).post(url(moved.workspace, "", moved.number), {"kind": "reply", "body": TYPED})
    assert response.status_code == 404
    page = response.content.decode()
    assert str(views.REPLY_NOT_SENT) in page
    assert "it may have moved to a queue you do not work" in page
    # The person's own text, escaped, in the box that carries the draft key.
    assert "Please restart the router &lt;b&gt;now&lt;/b&gt;.</textarea>" in page
    assert f'data-draft-key="{agent.user.pk}:{moved.workspace.slug}:{moved.number}:reply"' in page
    assert not Message.objects.filter(body=TYPED).exists()


def test_a_refused_save_of_the_properties_says_so(login, agent, requester, queue, moved):
    data = properties_data(moved, priority="high")
    response = login(agent).post(url(moved.workspace, "", moved.number, "properties"), data)
    assert response.status_code == 404
    assert str(views.CHANGES_NOT_SAVED) in response.content.decode()
    moved.refresh_from_db()
    assert moved.priority != "high"


def test_missing_and_forbidden_get_the_same_answer(login, agent, moved):
    client = login(agent)
    answers = []
    for number in (moved.number, 9999):
        response = client.post(url(moved.workspace, "", number), {"kind": "reply", "body": TYPED})
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        page = page.replace(f"#{number}", "#N").replace(f"/{number}/", "/N/").replace(f":{number}:", ":N:")
        answers.append((response.status_code, page))
    assert answers[0] == answers[1]


def test_a_plain_visit_offers_only_the_browsers_draft(login, requester, other_queue, workspace):
    ticket = new_ticket(requester, other_queue, subject="Not yours")
    response = login(requester).get(url(workspace, "", ticket.number + 1))
    assert response.status_code == 404
    page = response.content.decode()
    assert f"Ticket #{ticket.number + 1} is not available" in page
    assert "queue you do not work" not in page  # requesters have no queues
    assert "data-draft-reveal" in page and "not sent" in page
    assert 'role="alert"' not in page


def test_the_refusal_is_audited_like_any_ticket_out_of_reach(login, agent, moved):
    login(agent).post(url(moved.workspace, "", moved.number), {"kind": "reply", "body": TYPED})
    refused = AuditEvent.objects.filter(action="access.refused", workspace=moved.workspace)
    assert [(e.actor, e.detail["reason"]) for e in refused] == [(agent.user, "not_visible")]
    assert TYPED not in str(refused.get().detail)
