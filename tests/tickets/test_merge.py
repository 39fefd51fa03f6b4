"""Merging a duplicate ticket into another (tickets/merge.py, the merge page): notes on both, the
source closed and pointing to the target, nothing shown to a requester who could not see it."""

import pytest
from django.core.exceptions import ValidationError

from privacy.audit.models import AuditEvent
from tests.tickets.ticket_helpers import agent_of, member, new_ticket, url
from tickets import merge
from tickets.models import Message, MessageKind, Status, Ticket, TicketParticipant
from tickets.services import participant_add, ticket_set_status
from workspaces.models import Role


def _messages(ticket, kind):
    return list(
        Message.objects.filter(ticket=ticket, kind=kind).order_by("id").values_list("body", flat=True)
    )


def _merged_events(ticket):
    return list(
        AuditEvent.objects.filter(
            action="ticket.merged", target_type="tickets.ticket", target_id=str(ticket.pk)
        ).values_list("detail", flat=True)
    )


def test_merge_closes_the_source_with_notes_on_both_and_audits_both(
    agent, requester, queue, mailoutbox, django_capture_on_commit_callbacks
):
    source = new_ticket(requester, queue, subject="Printer again")
    target = new_ticket(requester, queue, subject="Printer on fire")
    source_replies_before = _messages(source, MessageKind.REPLY)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        merge.ticket_merge(membership=agent, source=source, target=target, actor=agent.user)

    source.refresh_from_db()
    assert source.status == Status.CLOSED
    assert _messages(source, MessageKind.NOTE) == [
        f"Merged into [#{target.number} Printer on fire](/w/acme/tickets/{target.number}/)."
    ]
    replies = _messages(source, MessageKind.REPLY)
    assert replies[: len(source_replies_before)] == source_replies_before  # nothing moved away
    assert replies[-1].startswith(f"This request was merged into request [#{target.number}]")
    assert _messages(target, MessageKind.NOTE) == [
        f"[#{source.number} Printer again](/w/acme/tickets/{source.number}/) was merged into this ticket."
    ]
    # Nothing of the source was copied into the target's public conversation.
    assert _messages(target, MessageKind.REPLY) == ["It smokes."]
    assert _merged_events(source) == [{"number": source.number, "role": "source", "other": target.number}]
    assert _merged_events(target) == [{"number": target.number, "role": "target", "other": source.number}]
    # The requester hears it once: the reply, not a second "status changed" email.
    assert [m.to for m in mailoutbox] == [[requester.user.email]]
    assert f"#{source.number}" in mailoutbox[0].subject
    assert merge.merged_into(source) == target


def test_different_requesters_are_refused_until_the_source_requester_takes_part(
    agent, requester, queue, workspace
):
    other = member(workspace, Role.REQUESTER, display_name="Bea Other")
    source = new_ticket(other, queue)
    target = new_ticket(requester, queue)
    with pytest.raises(ValidationError) as refused:
        merge.ticket_merge(membership=agent, source=source, target=target, actor=agent.user)
    assert "have different requesters" in refused.value.messages[0]
    assert "Add Bea Other to #" in refused.value.messages[0]
    assert Ticket.objects.get(pk=source.pk).status == Status.NEW
    assert _merged_events(source) == [] and _messages(target, MessageKind.NOTE) == []

    participant_add(ticket=target, user=other.user, actor=agent.user)
    merge.ticket_merge(membership=agent, source=source, target=target, actor=agent.user)
    assert Ticket.objects.get(pk=source.pk).status == Status.CLOSED


def test_closed_and_already_merged_tickets_are_refused(agent, requester, queue):
    a, b, c = (new_ticket(requester, queue) for _ in range(3))
    merge.ticket_merge(membership=agent, source=a, target=b, actor=agent.user)
    a.refresh_from_db()
    assert merge.merge_problem(source=a, target=c) == f"#{a.number} was already merged into another ticket."
    ticket_set_status(ticket=c, status=Status.CLOSED, actor=agent.user)
    c.refresh_from_db()
    assert "nothing can be merged into it" in merge.merge_problem(source=b, target=c)
    assert merge.merge_problem(source=b, target=b) == str(merge.MERGE_SAME_TICKET)


def test_a_ticket_out_of_reach_cannot_be_merged(workspace, requester, queue, other_queue):
    agent = agent_of(workspace, queue)
    mine = new_ticket(requester, queue)
    elsewhere = new_ticket(requester, other_queue)
    with pytest.raises(ValidationError) as refused:
        merge.ticket_merge(membership=agent, source=mine, target=elsewhere, actor=agent.user)
    assert refused.value.messages == [str(merge.MERGE_NOT_VISIBLE)]
    assert Ticket.objects.get(pk=mine.pk).status == Status.NEW


# Pages ----------------------------------------------------------------------------------------


def test_the_bar_sends_two_selected_tickets_to_the_merge_page_and_it_merges(
    login, agent, requester, queue, workspace
):
    source = new_ticket(requester, queue, subject="Duplicate")
    target = new_ticket(requester, queue, subject="Original")
    client = login(agent)
    response = client.post(
        url(workspace, "bulk/"),
        {"tickets": [source.number, target.number], "change": "merge", "back": "view=all"},
    )
    assert response.status_code == 302 and "/tickets/merge/?" in response["Location"]
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Merge #{source.number} into #{target.number}" in html and "This cannot be undone." in html
    done = client.post(
        url(workspace, "merge/"), {"tickets": [source.number, target.number], "source": source.number}
    )
    assert done["Location"] == url(workspace, number=target.number)
    target_page = client.get(done["Location"]).content.decode()
    assert f"#{source.number} was merged into #{target.number} and closed." in target_page
    source_page = client.get(url(workspace, number=source.number)).content.decode()
    assert "This ticket was merged into" in source_page and f"#{target.number}</a>" in source_page


def test_the_requester_of_the_source_sees_the_notice_and_the_reply_never_the_notes(
    login, agent, requester, queue, workspace
):
    source = new_ticket(requester, queue)
    target = new_ticket(requester, queue)
    merge.ticket_merge(membership=agent, source=source, target=target, actor=agent.user)
    html = login(requester).get(url(workspace, number=source.number)).content.decode()
    assert "This ticket was merged into" in html
    assert "This request was merged into request" in html
    assert "Merged into" not in html.replace("merged into request", "")  # the internal note stays internal


def test_one_selected_ticket_is_not_a_merge(login, agent, requester, queue, workspace):
    ticket = new_ticket(requester, queue)
    response = login(agent).post(url(workspace, "bulk/"), {"tickets": [ticket.number], "change": "merge"})
    assert response.status_code == 302
    assert (
        "Select exactly two tickets to merge them." in login(agent).get(response["Location"]).content.decode()
    )


def test_a_refused_merge_says_why_on_the_page_and_changes_nothing(login, agent, requester, queue, workspace):
    other = member(workspace, Role.REQUESTER)
    source = new_ticket(other, queue)
    target = new_ticket(requester, queue)
    response = login(agent).post(
        url(workspace, "merge/"), {"tickets": [source.number, target.number], "source": source.number}
    )
    assert response.status_code == 400
    assert "have different requesters" in response.content.decode()
    assert not TicketParticipant.objects.filter(ticket=target).exists()
    assert Ticket.objects.get(pk=source.pk).status == Status.NEW


def test_requesters_cannot_reach_the_merge_page(login, requester, queue, workspace):
    a, b = new_ticket(requester, queue), new_ticket(requester, queue)
    response = login(requester).get(url(workspace, "merge/") + f"?tickets={a.number}&tickets={b.number}")
    assert response.status_code == 404


def test_merge_into_from_a_ticket_page_preselects_that_ticket(login, agent, requester, queue, workspace):
    here = new_ticket(requester, queue)
    there = new_ticket(requester, queue)
    client = login(agent)
    page = client.get(url(workspace, number=here.number)).content.decode()
    assert "Merge this ticket into ticket number" in page
    # The ticket page's form is a GET to the merge page: this ticket, the number typed, this one merged.
    response = client.get(
        url(workspace, "merge/"), {"tickets": [here.number, there.number], "source": here.number}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="merge-{here.number}" value="{here.number}" checked' in html
    assert Ticket.objects.get(pk=here.pk).status == Status.NEW  # nothing changes before "Merge"
