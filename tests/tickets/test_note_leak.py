"""THE LEAK TEST: an internal note's text never reaches a requester by any door we own.

An agent writes a note carrying a unique marker. Then the requester's ticket page, ticket list,
search results (searching for the marker itself), the edit page and every email sent must not
contain it, while staff do see it. The websocket door is tested frame by frame in
tests/tickets/test_live.py (the live-updates work), with the same kind of marker.
"""

import pytest
from django.core import mail

from tests.conftest import make_member
from tests.factories import ParticipantFactory
from tests.tickets.ticket_helpers import new_ticket, properties_data, url
from tickets import services
from tickets.models import Status
from workspaces.models import Role

MARKER = "ZX-NOTE-MARKER-93f1c0"


@pytest.fixture
def scene(workspace, queue, admin, agent, requester, login, django_capture_on_commit_callbacks):
    """A ticket with a participant, worked by an agent through the pages (so every side effect
    of the real request path runs, emails included)."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket(requester, queue, subject="Cannot print")
    participant = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=participant.user)
    client = login(agent)
    ticket_url = url(workspace, "", ticket.number)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ticket_url, {"body": f"Customer seems confused. {MARKER}", "kind": "note"})
        client.post(ticket_url, {"body": "Please restart the printer.", "kind": "reply"})
        client.post(
            url(workspace, "", ticket.number, "properties"),
            properties_data(ticket, status=Status.PENDING, priority="high", assignee=agent.user.pk),
        )
        note_message = ticket.messages.get(kind="note")
        client.post(
            url(workspace, "", ticket.number, "messages", note_message.pk, "edit"),
            {
                "body": f"Customer seems confused (edited). {MARKER}",
                "kind": "reply",
                "seen": services.body_version(note_message.body),
            },
        )
        # The requester answers (the ticket reopens) and the agent notes again.
        login(requester).post(ticket_url, {"body": "Restarted, still broken."})
        services.message_post(ticket=ticket, author=agent.user, kind="note", body=f"Escalate. {MARKER}")
    return ticket, participant, note_message


def test_the_note_never_reaches_a_requester(workspace, scene, requester, agent, login):
    ticket, participant, note_message = scene
    for person in (requester, participant):
        client = login(person)
        pages = {
            "ticket page": client.get(url(workspace, "", ticket.number)),
            "ticket list": client.get(url(workspace)),
            "search for the marker": client.get(url(workspace), {"q": MARKER}),
            "search for note words": client.get(url(workspace), {"q": "confused"}),
        }
        for name, response in pages.items():
            assert response.status_code == 200, name
            # The search box echoes what was typed; nothing else may carry the marker.
            html = response.content.decode().replace(f'value="{MARKER}"', 'value=""')
            assert MARKER not in html, f"{name} leaks the note to {person.user}"
        assert pages["search for the marker"].context["tickets"] == []
        assert pages["search for note words"].context["tickets"] == []
        assert b"Internal note" not in pages["ticket page"].content
        edit = client.get(url(workspace, "", ticket.number, "messages", note_message.pk, "edit"))
        assert edit.status_code == 404

    # Staff do see it: the test proves the marker was there to leak.
    staff_page = login(agent).get(url(workspace, "", ticket.number)).content.decode()
    assert staff_page.count(MARKER) == 2
    staff_search = login(agent).get(url(workspace), {"q": MARKER})
    assert [t.number for t in staff_search.context["tickets"]] == [ticket.number]


def test_no_email_carries_the_note(scene, requester):
    assert mail.outbox, "the scene sends emails (reply, status, assignment); otherwise this proves nothing"
    to_requester = [m for m in mail.outbox if m.to == [requester.user.email]]
    assert to_requester, "the requester was emailed about the reply and the status change"
    for message in mail.outbox:
        assert len(message.to) == 1 and not message.cc and not message.bcc
        text = message.subject + message.body + "".join(str(a) for a in getattr(message, "alternatives", []))
        assert MARKER not in text, f"email to {message.to} leaks the note"
        assert "confused" not in text
