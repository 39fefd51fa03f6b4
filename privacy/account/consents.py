"""Consents: the purposes a person can opt in to or out of, and the one check every sender uses.

Each change is a new ``Consent`` row (time, the privacy-policy version in force, the source), so
the history shows when consent was given and withdrawn. ``has_consent`` reads the newest row on
every call: withdrawing takes effect for the very next send.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery

from privacy.account.models import Consent, ConsentSource, PolicyKind
from privacy.account.policies import policy_current
from privacy.audit import events
from workspaces.models import User


@dataclass(frozen=True)
class Purpose:
    key: str
    label: str
    description: str


PURPOSES: dict[str, Purpose] = {
    p.key: p
    for p in (
        Purpose(
            "product_updates",
            "Product update emails",
            "News about new features of the Helpdesk, at most once a month.",
        ),
        Purpose(
            "user_research",
            "Invitations to user research",
            "Now and then we may ask whether you would try out a design or answer a short survey.",
        ),
    )
}

UNKNOWN_PURPOSE = "Unknown consent purpose {purpose!r}: add it to privacy/account/consents.py PURPOSES."


def _check(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(UNKNOWN_PURPOSE.format(purpose=purpose))


def has_consent(user, purpose: str) -> bool:
    """True only when the person's newest answer for ``purpose`` is yes. Never cached."""
    _check(purpose)
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        return False
    latest = Consent.objects.filter(user_id=user.pk, purpose=purpose).order_by("-created_at", "-id").first()
    return bool(latest and latest.granted)


def users_with_consent(purpose: str):
    """Active users whose newest answer for ``purpose`` is yes (one query), for bulk senders."""
    _check(purpose)
    newest = Consent.objects.filter(user_id=OuterRef("pk"), purpose=purpose).order_by("-created_at", "-id")
    return (
        User.objects.filter(is_active=True)
        .annotate(_consent=Subquery(newest.values("granted")[:1]))
        .filter(_consent=True)
    )


def consents_current(user) -> dict[str, bool]:
    """The current answer per purpose (False when never asked)."""
    answers = {key: False for key in PURPOSES}
    seen = set()
    for purpose, granted in (
        Consent.objects.filter(user_id=user.pk)
        .order_by("-created_at", "-id")
        .values_list("purpose", "granted")
    ):
        if purpose in answers and purpose not in seen:
            answers[purpose] = granted
            seen.add(purpose)
    return answers


@transaction.atomic
def consents_set(
    *, user, answers: dict[str, bool], source: str = ConsentSource.ACCOUNT, request=None
) -> list[str]:
    """Record the purposes whose answer changed; returns their keys. Audits ``account.updated``
    with the purposes and answers (no other data)."""
    for purpose in answers:
        _check(purpose)
    current = consents_current(user)
    changed = [purpose for purpose, granted in answers.items() if current.get(purpose) != bool(granted)]
    if not changed:
        return []
    policy = policy_current(kind=PolicyKind.PRIVACY)
    for purpose in changed:
        consent = Consent(
            user=user, purpose=purpose, granted=bool(answers[purpose]), policy=policy, source=source
        )
        consent.full_clean()
        consent.save()
    events.account_consents_updated(
        user=user, answers={purpose: bool(answers[purpose]) for purpose in changed}, request=request
    )
    return changed


def consent_history(user, limit: int = 20) -> list[Consent]:
    return list(
        Consent.objects.filter(user_id=user.pk)
        .select_related("policy")
        .order_by("-created_at", "-id")[:limit]
    )
