"""Restriction of processing (GDPR art. 18), per workspace: an admin freezes a member's data here.

A restricted member's data is kept but not processed further: no email about this workspace
reaches them (``tickets.notifications``), staff cannot change their role, queues or messages,
nobody can assign them work or add them to tickets (``tickets.services``), and agents' ticket
lists and search leave out their tickets (``tickets.selectors``); admins still see everything,
with the restriction marked. Only an admin releases it. Both steps are audited.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.audit import events
from workspaces.models import Membership

REASON_MAX_LENGTH = 300
ALREADY_RESTRICTED = _("Processing of this person's data is already restricted.")
NOT_RESTRICTED = _("Processing of this person's data is not restricted.")
REASON_REQUIRED = _("Say why (for example: the person contests the accuracy of their data).")


def _lock(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("workspace", "user")
        .get(pk=membership.pk, workspace_id=membership.workspace_id)
    )


@transaction.atomic
def member_restrict(*, membership: Membership, reason: str, actor, request=None, now=None) -> Membership:
    """Restrict the processing of ``membership``'s person's data in its workspace. Audits
    ``member.restricted`` with the reason."""
    reason = " ".join((reason or "").split())[:REASON_MAX_LENGTH]
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    locked = _lock(membership)
    if locked.restricted_at is not None:
        raise ValidationError(ALREADY_RESTRICTED, code="already")
    locked.restricted_at = now or timezone.now()
    locked.save(update_fields=["restricted_at"])
    events.member_restricted(membership=locked, reason=reason, actor=actor, request=request)
    return locked


@transaction.atomic
def member_release(*, membership: Membership, actor, request=None) -> Membership:
    """Lift the restriction. Audits ``member.restriction_released``."""
    locked = _lock(membership)
    if locked.restricted_at is None:
        raise ValidationError(NOT_RESTRICTED, code="not_restricted")
    locked.restricted_at = None
    locked.save(update_fields=["restricted_at"])
    events.member_restriction_released(membership=locked, actor=actor, request=request)
    return locked
