"""Reading the audit log: the workspace admin's filtered, keyset-paginated list and CSV rows, and
the account page's own events. Every query is scoped to one workspace (or to the account chain
and one person) and pages on ``id`` only: no OFFSET, no COUNT."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from privacy.audit.log import ACCOUNT_CHAIN
from privacy.audit.models import AuditEvent
from privacy.personal_data.models import Pseudonym
from privacy.personal_data.pseudonyms import preferred_code

PAGE_SIZE = 50
ACCOUNT_EVENTS_LIMIT = 20
EXPORT_CHUNK = 2000
USER_TARGET_TYPE = "workspaces.user"
# Columns the pages and the CSV never show.
HIDDEN_COLUMNS = ("prev_hash", "personal_salt", "personal_hash", "dedupe_key")


@dataclass(frozen=True)
class AuditFilters:
    actor_email: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_detail(self) -> dict:
        """The filters as a small JSON-able dict (for the audit.exported event)."""
        values = {
            "actor": self.actor_email,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {key: value for key, value in values.items() if value}


@dataclass
class AuditPage:
    events: list
    # Keyset cursors: ``?before=<older>`` shows older rows, ``?after=<newer>`` newer ones.
    older: int | None
    newer: int | None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def audit_events_of_workspace(*, workspace, filters: AuditFilters | None = None) -> QuerySet:
    filters = filters or AuditFilters()
    events = AuditEvent.objects.filter(workspace_id=workspace.pk)
    if filters.actor_email:
        events = events.filter(actor_label=filters.actor_email.strip().lower())
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id:
        events = events.filter(target_id=filters.target_id)
    if filters.date_from:
        events = events.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        events = events.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return events.defer(*HIDDEN_COLUMNS)


def audit_events_page(
    *,
    workspace,
    filters: AuditFilters | None = None,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page of events, newest first, keyset-paginated on ``id``.

    ``before``: rows with a smaller id (older); ``after``: rows with a larger id (newer).
    Two queries at most: the page (size + 1 rows, to know if there is more) and, when paging,
    one ``EXISTS`` for the other direction.
    """
    events = audit_events_of_workspace(workspace=workspace, filters=filters)
    if after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[: size + 1])
        newer = rows[size - 1].pk if len(rows) > size else None
        rows = rows[:size]
        rows.reverse()
        older = rows[-1].pk if rows and events.filter(id__lt=rows[-1].pk).exists() else None
        return AuditPage(events=with_actor_names(rows), older=older, newer=newer)
    if before is not None:
        events_page = events.filter(id__lt=before)
    else:
        events_page = events
    rows = list(events_page.order_by("-id")[: size + 1])
    older = rows[size - 1].pk if len(rows) > size else None
    rows = rows[:size]
    newer = None
    if before is not None and rows and events.filter(id__gt=rows[0].pk).exists():
        newer = rows[0].pk
    return AuditPage(events=with_actor_names(rows), older=older, newer=newer)


def audit_events_for_export(
    *, workspace, filters: AuditFilters | None = None, chunk: int = EXPORT_CHUNK
) -> Iterator[list]:
    """The filtered events, newest first, in lists of ``chunk`` rows fetched by keyset (each
    chunk its own short query, so a long download holds no cursor or transaction open)."""
    events = audit_events_of_workspace(workspace=workspace, filters=filters).order_by("-id")
    last_id = None
    while True:
        page = events if last_id is None else events.filter(id__lt=last_id)
        rows = list(page[:chunk])
        if not rows:
            return
        yield with_actor_names(rows)
        if len(rows) < chunk:
            return
        last_id = rows[-1].pk


def audit_events_about(user_id: int) -> QuerySet:
    """Every event in every chain done by the person or about them (their account as the
    target: a sign-in failure, being added to a workspace, an export made for them)."""
    return AuditEvent.objects.filter(
        Q(actor_id=user_id) | Q(target_type=USER_TARGET_TYPE, target_id=str(user_id))
    )


def account_audit_events(*, user, limit: int = ACCOUNT_EVENTS_LIMIT) -> list:
    """The newest account-level events about ``user``: what they did (sign-ins, exports,
    deletion requests) and signed-out attempts on their account (failed sign-ins, lockouts)."""
    if user is None or not user.is_authenticated:
        return []
    about_user = Q(actor_id=user.pk) | Q(
        actor_id__isnull=True, target_type=USER_TARGET_TYPE, target_id=str(user.pk)
    )
    return list(
        AuditEvent.objects.filter(chain=ACCOUNT_CHAIN)
        .filter(about_user)
        .defer(*HIDDEN_COLUMNS)
        .order_by("-id")[:limit]
    )


def actor_display(*, actor_id: int | None, actor_label: str, pseudonyms: dict | None = None) -> str:
    """Who did it, as the log shows it: the email at the time; once the person's events were
    anonymized, their pseudonym ("Deleted user 7f3a"); "System" when nobody signed in acted."""
    if actor_label:
        return actor_label
    if actor_id is not None:
        code = (pseudonyms or {}).get(actor_id) or preferred_code(actor_id)
        return f"Deleted user {code}"
    return "System"


def _pseudonym_codes(actor_ids: set[int]) -> dict[int, str]:
    if not actor_ids:
        return {}
    return dict(Pseudonym.objects.filter(user_id__in=actor_ids).values_list("user_id", "code"))


def with_actor_names(events: list) -> list:
    """Set ``actor_name`` on each event; one extra query only when some actor was anonymized."""
    anonymized = {e.actor_id for e in events if not e.actor_label and e.actor_id is not None}
    codes = _pseudonym_codes(anonymized)
    for event in events:
        event.actor_name = actor_display(
            actor_id=event.actor_id, actor_label=event.actor_label, pseudonyms=codes
        )
    return events
