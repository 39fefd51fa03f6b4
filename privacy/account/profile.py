"""Correcting one's own profile: name, language, time zone, notification preferences, and the
login address, which changes only after the link sent to the NEW address is used.

Every change is audited (``account.updated`` with the names of the changed fields, never their
values; ``account.email_changed`` when a new address takes effect).
"""

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from helpdesk import outbound, ratelimit
from helpdesk.errors import UserFacingError
from helpdesk.site import absolute_url
from helpdesk.tokens import hash_token
from privacy.account.models import EmailChange, EmailDelivery, NotificationPreferences, QueuedNotification
from privacy.audit import events
from workspaces.models import User

EMAIL_CHANGE_HOURS = 48
EMAIL_SAME = "This is already your email address."
EMAIL_TAKEN = "Another account uses this email address. Choose another one."
EMAIL_LINK_INVALID = "This confirmation link is not valid. Copy the whole link from the email."
EMAIL_LINK_EXPIRED = (
    "This confirmation link has expired or was replaced by a newer one. Ask for the change again."
)
PREFERENCE_FIELDS = ("email_on_reply", "email_on_assignment", "email_weekly_summary", "email_on_mention")
# Not an on/off choice: how the wanted ticket emails arrive (one each, or an hourly digest).
DELIVERY_FIELD = "email_delivery"


class EmailChangeError(UserFacingError):
    """An email-change link cannot be used; ``message`` says why."""


def _send(to, template: str, context: dict, *, kind: str) -> None:
    # The outbound pipeline logs a failure (never the address nor the link); the person can ask again.
    outbound.send(to, template, context, kind=kind)


@transaction.atomic
def profile_update(*, user, display_name: str, language: str, time_zone: str, request=None) -> list[str]:
    """Save name, language and time zone; returns the changed field names (audited)."""
    values = {"display_name": display_name.strip(), "language": language, "time_zone": time_zone}
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(user, name, values[name])
    user.full_clean(exclude=["password"])
    user.save(update_fields=changed)
    events.account_profile_updated(user=user, fields=changed, request=request)
    return changed


def preferences_of(user) -> NotificationPreferences:
    """The person's preferences (unsaved defaults when they never changed them)."""
    return NotificationPreferences.objects.filter(user_id=user.pk).first() or NotificationPreferences(
        user=user
    )


def notification_wanted(user, kind: str) -> bool:
    """Whether ``user`` wants the email ``kind`` (one of PREFERENCE_FIELDS). Senders ask this."""
    if kind not in PREFERENCE_FIELDS:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    if not user.is_active:
        return False
    return bool(getattr(preferences_of(user), kind))


# Which preference governs each optional kind of email of ``helpdesk.outbound`` (registered with
# it in ``PrivacyConfig.ready``). Ticket activity that no preference names is always wanted.
OUTBOUND_PREFERENCES = {
    outbound.REPLY: "email_on_reply",
    outbound.ASSIGNMENT: "email_on_assignment",
    outbound.WEEKLY_SUMMARY: "email_weekly_summary",
    outbound.MENTION: "email_on_mention",
}


def outbound_wanted(user, kind: str) -> bool:
    """The preference check of the outbound email pipeline: does ``user`` want ``kind``?"""
    field = OUTBOUND_PREFERENCES.get(kind)
    return user.is_active if field is None else notification_wanted(user, field)


def queue_for_digest(user, *, kind: str, subject: str, url: str) -> bool:
    """The digest deferral of the outbound pipeline (registered in ``PrivacyConfig.ready``): a
    person on the hourly digest gets this ticket email queued, not sent. True when queued."""
    if preferences_of(user).email_delivery != EmailDelivery.HOURLY:
        return False
    QueuedNotification.objects.create(user=user, kind=kind, subject=subject[:300], url=url[:500])
    return True


def _preference_values(values: dict) -> dict:
    cleaned = {name: bool(values[name]) for name in PREFERENCE_FIELDS if name in values}
    if values.get(DELIVERY_FIELD):
        cleaned[DELIVERY_FIELD] = values[DELIVERY_FIELD]
    return cleaned


@transaction.atomic
def preferences_update(*, user, values: dict, request=None) -> list[str]:
    """Save the person's email choices (on/off per kind, and ``email_delivery``); returns the
    changed names, audited with their new values. An unknown delivery is refused by full_clean."""
    prefs = preferences_of(user)
    wanted = _preference_values(values)
    changed = [name for name, value in wanted.items() if getattr(prefs, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(prefs, name, wanted[name])
    prefs.updated_at = timezone.now()
    prefs.full_clean()
    prefs.save()
    events.account_notifications_updated(
        user=user, changes={name: wanted[name] for name in changed}, request=request
    )
    return changed


def email_change_pending(user) -> EmailChange | None:
    change = EmailChange.objects.filter(user_id=user.pk, confirmed_at=None, cancelled_at=None).first()
    return change if change is not None and change.is_pending else None


def email_change_rate_limit(*, user, new_email: str, ip: str | None) -> ratelimit.Refusal | None:
    """Count one confirmation email for the new address, the account and the network address."""
    return ratelimit.ratelimit_hit(
        "email_change", address=User.objects.normalize_email(new_email), account=str(user.pk), ip=ip
    )


@transaction.atomic
def email_change_request(*, user, new_email: str, request=None) -> EmailChange:
    """Send a confirmation link to ``new_email``; the address changes only when it is used.

    A newer request replaces an older pending one. Whether another account uses the address is
    never told to the person asking (it would let anyone signed in test addresses): the request
    is recorded and answered the same, but when another account has the address, its owner gets
    a notice instead of the link, so the change can never be confirmed. The confirmation checks
    again. Audits ``account.updated`` (no address in the detail, the same either way).
    """
    new_email = User.objects.normalize_email(new_email)
    if new_email == user.email:
        raise ValidationError({"new_email": EMAIL_SAME})
    owner = User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).first()
    now = timezone.now()
    EmailChange.objects.filter(user_id=user.pk, confirmed_at=None, cancelled_at=None).update(cancelled_at=now)
    token = secrets.token_urlsafe(32)
    change = EmailChange(
        user=user,
        new_email=new_email,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(hours=EMAIL_CHANGE_HOURS),
    )
    change.full_clean()
    change.save()
    events.account_email_change_requested(user=user, request=request)
    if owner is not None:
        notice = {
            "name": owner.get_short_name(),
            "login_url": absolute_url(reverse("login")),
            "reset_url": absolute_url(reverse("password_reset")),
        }
        transaction.on_commit(lambda: _send(owner, "email_change_taken", notice, kind=outbound.SECURITY))
        return change
    context = {
        "name": user.get_short_name(),
        "confirm_url": absolute_url(reverse("account_email_confirm", args=[token])),
        "hours": EMAIL_CHANGE_HOURS,
    }
    transaction.on_commit(lambda: _send(new_email, "email_change", context, kind=outbound.ACCOUNT))
    return change


@transaction.atomic
def email_change_cancel(*, user, request=None) -> int:
    cancelled = EmailChange.objects.filter(user_id=user.pk, confirmed_at=None, cancelled_at=None).update(
        cancelled_at=timezone.now()
    )
    if cancelled:
        events.account_email_change_cancelled(user=user, request=request)
    return cancelled


def email_change_for_token(token: str) -> EmailChange:
    change = EmailChange.objects.select_related("user").filter(token_hash=hash_token(token or "")).first()
    if change is None:
        raise EmailChangeError(EMAIL_LINK_INVALID)
    if not change.is_pending or not change.user.is_active:
        raise EmailChangeError(EMAIL_LINK_EXPIRED)
    return change


@transaction.atomic
def email_change_confirm(*, token: str, request=None):
    """Apply a pending change. Tells the OLD address that the login address changed. Audits
    ``account.email_changed``. Returns the user."""
    change = email_change_for_token(token)
    change = EmailChange.objects.select_for_update().get(pk=change.pk)
    if not change.is_pending:
        raise EmailChangeError(EMAIL_LINK_EXPIRED)
    user = User.objects.select_for_update().get(pk=change.user_id)
    if User.objects.filter(email__iexact=change.new_email).exclude(pk=user.pk).exists():
        raise EmailChangeError(EMAIL_TAKEN)
    old_email = user.email
    user.email = change.new_email
    user.email_confirmed_at = timezone.now()
    user.save(update_fields=["email", "email_confirmed_at"])
    change.confirmed_at = timezone.now()
    change.save(update_fields=["confirmed_at"])
    events.account_email_changed(user=user, request=request)
    context = {"name": user.get_short_name(), "login_url": absolute_url(reverse("login"))}
    transaction.on_commit(lambda: _send(old_email, "email_changed", context, kind=outbound.SECURITY))
    return user
