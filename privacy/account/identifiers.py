"""Every name and login address a person has had: what account erasure searches for.

Other people's words, agents' files, sign-in logs and sessions keep the name or address the
person had *at the time*, so erasing only the current ones leaves the earlier ones behind.
``identifier_replaced`` records the value a change replaces (profile and email-change services);
``identifiers_of`` gathers them back, together with the addresses the person typed into an
email change and the labels of their own audit events (which carry the address of the moment,
also for changes made before this history existed).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from helpdesk.id_arrays import IdsIn
from privacy.account.models import EmailChange, IdentifierKind, PastIdentifier
from privacy.audit.models import AuditEvent


@dataclass(frozen=True)
class Identifiers:
    emails: tuple[str, ...]
    names: tuple[str, ...]


def identifier_replaced(*, user, kind: str, value: str) -> None:
    """Remember ``value`` (the name or address a change replaces). Inside the change's transaction."""
    value = (value or "").strip()
    if value:
        PastIdentifier.objects.create(user_id=user.pk, kind=kind, value=value, replaced_at=timezone.now())


def _unique(values) -> tuple[str, ...]:
    seen, result = set(), []
    for value in values:
        value = (value or "").strip()
        if value and value.lower() not in seen:
            seen.add(value.lower())
            result.append(value)
    return tuple(result)


def identifiers_of(user) -> Identifiers:
    """The current and every earlier name and address of ``user`` (current ones first)."""
    past = list(PastIdentifier.objects.filter(user_id=user.pk).values_list("kind", "value"))
    typed = EmailChange.objects.filter(user_id=user.pk).values_list("new_email", flat=True)
    labels = (
        AuditEvent.objects.filter(actor_id=user.pk)
        .exclude(actor_label="")
        .values_list("actor_label", flat=True)
        .distinct()
    )
    emails = _unique(
        [
            user.email,
            *(v for k, v in past if k == IdentifierKind.EMAIL),
            *typed,
            *(x for x in labels if "@" in x),
        ]
    )
    names = _unique([user.display_name, *(v for k, v in past if k == IdentifierKind.NAME)])
    return Identifiers(emails=emails, names=names)


def identifiers_of_many(users) -> dict[int, Identifiers]:
    """``identifiers_of`` for many people in three queries: ``{user_id: Identifiers}``."""
    users = list(users)
    ids = [user.pk for user in users]
    past: dict[int, list] = {}
    for user_id, kind, value in PastIdentifier.objects.filter(IdsIn("user_id", ids)).values_list(
        "user_id", "kind", "value"
    ):
        past.setdefault(user_id, []).append((kind, value))
    typed: dict[int, list] = {}
    changes = EmailChange.objects.filter(IdsIn("user_id", ids)).values_list("user_id", "new_email")
    for user_id, value in changes:
        typed.setdefault(user_id, []).append(value)
    labels: dict[int, list] = {}
    rows = (
        AuditEvent.objects.filter(IdsIn("actor_id", ids))
        .exclude(actor_label="")
        .values_list("actor_id", "actor_label")
        .distinct()
    )
    for user_id, label in rows:
        labels.setdefault(user_id, []).append(label)
    found = {}
    for user in users:
        mine = past.get(user.pk, [])
        emails = _unique(
            [
                user.email,
                *(v for k, v in mine if k == IdentifierKind.EMAIL),
                *typed.get(user.pk, []),
                *(x for x in labels.get(user.pk, []) if "@" in x),
            ]
        )
        names = _unique([user.display_name, *(v for k, v in mine if k == IdentifierKind.NAME)])
        found[user.pk] = Identifiers(emails=emails, names=names)
    return found
