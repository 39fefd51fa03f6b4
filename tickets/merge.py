"""Merging a duplicate ticket into another one (issue 13, the agent workbench).

What a merge does (Zendesk-like, and why):

- The **source** is closed, gets an internal note "Merged into #N" and, when it has a requester,
  a public reply telling them the conversation continues on #N (emailed like any reply; the
  status email is not sent on top of it). Its messages, files and participants STAY on it: its
  page still shows the whole history to everyone who could read it, with a notice pointing to #N.
- The **target** gets an internal note "#M was merged into this ticket" linking to #M. Nothing
  is copied or moved into it.

Linking rather than copying or moving: a copied message would be a second copy of someone's
words and files for erasure, redaction and retention to find (and a redaction of the original
would leave the copy), and a moved message would change who may read it (the target's
participants would read what was written only to the source's people). Linking keeps every
message where its author wrote it, readable by exactly who could read it before.

Requesters: the source's requester is told to follow #N, so they must be able to read #N. The
merge is therefore allowed only when the source has no requester (an anonymized ticket), or the
same requester as the target, or its requester already takes part in the target; otherwise it is
refused with a sentence saying how to proceed (add them to #N as a participant first, a separate,
audited and deliberate act). A merge never silently shows one requester another's ticket.

Both tickets must be in the same workspace and visible to the (staff) actor: the views reach
them through ``tickets.access``; ``ticket_merge`` re-checks under the lock. One transaction:
both rows are locked in id order (as bulk changes do), so concurrent merges and bulk changes
queue up rather than deadlock. Audits ``ticket.merged`` on both tickets, plus what the notes,
the reply and the status change audit through their services.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from helpdesk.text import strip_bidi
from privacy.audit import events
from tickets import access, services
from tickets.models import MessageKind, Status, Ticket, TicketMerge, TicketParticipant
from workspaces.models import Membership

MERGE_SAME_TICKET = gettext_lazy("A ticket cannot be merged into itself.")
MERGE_NEEDS_TWO = gettext_lazy("Select exactly two tickets to merge them.")
MERGE_SOURCE_CLOSED = gettext_lazy("#{number} is Closed: a closed ticket is not merged.")
MERGE_TARGET_CLOSED = gettext_lazy(
    "#{number} is Closed: nothing can be merged into it. Merge the other way round, or reopen it first."
)
MERGE_ALREADY = gettext_lazy("#{number} was already merged into another ticket.")
MERGE_OTHER_REQUESTER = gettext_lazy(
    "#{source} and #{target} have different requesters: merging would show one requester the "
    "other's ticket. Add {name} to #{target} as a participant first if they should follow it, "
    "or keep the tickets apart."
)
MERGE_NOT_VISIBLE = gettext_lazy("One of these tickets does not exist or is not visible to you.")


@dataclass(frozen=True)
class MergeOutcome:
    source: Ticket
    target: Ticket


def _subject(ticket: Ticket) -> str:
    # Inside a Markdown link text: brackets, parentheses and newlines would end it early.
    return "".join(c for c in strip_bidi(ticket.subject) if c not in "[]()\n\r")


def _url(ticket: Ticket) -> str:
    return reverse("ticket_detail", kwargs={"slug": ticket.workspace.slug, "number": ticket.number})


def merge_problem(*, source: Ticket, target: Ticket) -> str | None:
    """Why ``source`` cannot be merged into ``target`` (a sentence), or None when it can.
    The confirmation page asks this before anything is posted; ``ticket_merge`` again under lock."""
    if source.pk == target.pk:
        return str(MERGE_SAME_TICKET)
    if source.status == Status.CLOSED:
        if TicketMerge.objects.filter(source_id=source.pk).exists():
            return MERGE_ALREADY.format(number=source.number)
        return MERGE_SOURCE_CLOSED.format(number=source.number)
    if target.status == Status.CLOSED:
        return MERGE_TARGET_CLOSED.format(number=target.number)
    if source.requester_id is not None and source.requester_id != target.requester_id:
        takes_part = TicketParticipant.objects.filter(
            workspace_id=target.workspace_id, ticket_id=target.pk, user_id=source.requester_id
        ).exists()
        if not takes_part:
            return MERGE_OTHER_REQUESTER.format(
                source=source.number, target=target.number, name=str(source.requester)
            )
    return None


@transaction.atomic
def ticket_merge(
    *, membership: Membership, source: Ticket, target: Ticket, actor, request=None
) -> MergeOutcome:
    """Merge ``source`` into ``target`` as the module docstring says; ``ValidationError`` with a
    sentence (and nothing written) when ``merge_problem`` finds one."""
    if source.workspace_id != membership.workspace_id or target.workspace_id != membership.workspace_id:
        raise ValidationError(MERGE_NOT_VISIBLE)
    locked = {
        t.pk: t
        for t in access.visible_tickets(membership)
        .filter(pk__in=[source.pk, target.pk])
        .select_related("workspace", "queue", "requester")
        .select_for_update(of=("self",))
        .order_by("id")
    }
    if source.pk not in locked or target.pk not in locked:
        raise ValidationError(MERGE_NOT_VISIBLE)
    source, target = locked[source.pk], locked[target.pk]
    problem = merge_problem(source=source, target=target)
    if problem:
        raise ValidationError(problem)
    TicketMerge.objects.create(workspace_id=source.workspace_id, source=source, target=target)
    source = services.ticket_set_status(
        ticket=source, status=Status.CLOSED, actor=actor, request=request, notify=False
    )
    services.message_post(
        ticket=source,
        author=actor,
        kind=MessageKind.NOTE,
        body=gettext("Merged into [#%(number)s %(subject)s](%(url)s).")
        % {"number": target.number, "subject": _subject(target), "url": _url(target)},
        request=request,
        notify=False,
    )
    if source.requester_id is not None:
        services.message_post(
            ticket=source,
            author=actor,
            kind=MessageKind.REPLY,
            body=gettext(
                "This request was merged into request [#%(number)s](%(url)s), where we continue. "
                "Please follow and reply there."
            )
            % {"number": target.number, "url": _url(target)},
            request=request,
        )
    services.message_post(
        ticket=target,
        author=actor,
        kind=MessageKind.NOTE,
        body=gettext("[#%(number)s %(subject)s](%(url)s) was merged into this ticket.")
        % {"number": source.number, "subject": _subject(source), "url": _url(source)},
        request=request,
        notify=False,
    )
    events.ticket_merged(source=source, target=target, actor=actor, request=request)
    return MergeOutcome(source=source, target=target)


def merged_into(ticket: Ticket) -> Ticket | None:
    """The ticket ``ticket`` was merged into, or None. One query, and only for a closed ticket
    (a merged ticket always is), so open tickets' pages pay nothing for it."""
    if ticket.status != Status.CLOSED:
        return None
    merge = TicketMerge.objects.filter(source_id=ticket.pk).select_related("target").first()
    return merge.target if merge is not None else None
