"""Self-service sign-up of requesters: request, confirm by email, reject ("this wasn't me"), purge.

Confirmation and rejection links carry signed, time-limited tokens (``django.core.signing`` with a
salt per purpose). Nothing about a token is stored: the signature, its age and the account's state
decide whether it still works, and a confirmed or deleted account makes every old link useless.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from helpdesk import outbound
from helpdesk.errors import UserFacingError
from helpdesk.site import absolute_url
from privacy.account.models import PolicyAcceptance, PolicyKind, PolicyVersion
from privacy.account.policies import policy_current
from privacy.audit import events
from workspaces.models import User

CONFIRM_SALT = "privacy.account.signup.confirm"
REJECT_SALT = "privacy.account.signup.reject"
FINGERPRINT_SALT = "privacy.account.signup.fingerprint"

LINK_EXPIRED = "This link has expired. Sign-up links work for {hours} hours; sign up again to get a new one."
LINK_INVALID = "This link is not valid. Copy the whole link from the email, or sign up again."
LINK_USED = "This sign-up no longer exists: it was deleted, or it expired unconfirmed. You can sign up again."
ALREADY_CONFIRMED = "This email address is already confirmed. Sign in with your password."
CANNOT_REJECT_CONFIRMED = (
    "This account was already confirmed, so this link cannot delete it. If it is not yours, "
    "reset its password, sign in and delete the account from your account page."
)
POLICIES_MISSING = "Sign-up is closed until the terms of service and the privacy policy are published."


class SignupLinkError(UserFacingError):
    """A confirmation or rejection link that cannot be used; ``message`` says why, for people."""


class PoliciesMissing(Exception):
    pass


@dataclass(frozen=True)
class CurrentPolicies:
    terms: PolicyVersion
    privacy: PolicyVersion

    @property
    def ids(self) -> tuple[int, int]:
        return (self.terms.pk, self.privacy.pk)


# Selectors ---------------------------------------------------------------------------------------


def policies_current() -> CurrentPolicies:
    terms = policy_current(kind=PolicyKind.TERMS)
    privacy = policy_current(kind=PolicyKind.PRIVACY)
    if terms is None or privacy is None:
        raise PoliciesMissing(POLICIES_MISSING)
    return CurrentPolicies(terms=terms, privacy=privacy)


# Tokens ------------------------------------------------------------------------------------------


def confirmation_hours() -> int:
    return settings.SIGNUP_CONFIRMATION_HOURS


def _fingerprint(user: User) -> str:
    """Ties a token to this one account: a later account with the same id or email does not match."""
    value = f"{user.pk}:{user.email}:{user.date_joined.timestamp():.6f}"
    return salted_hmac(FINGERPRINT_SALT, value).hexdigest()[:32]


def signup_token_make(*, user: User, salt: str) -> str:
    return signing.dumps({"u": user.pk, "f": _fingerprint(user)}, salt=salt, compress=False)


def signup_token_read(*, token: str, salt: str) -> User:
    """The pending account a link points to. Raises SignupLinkError with a message for people."""
    hours = confirmation_hours()
    try:
        payload = signing.loads(token, salt=salt, max_age=timedelta(hours=hours))
    except signing.SignatureExpired:
        raise SignupLinkError(LINK_EXPIRED.format(hours=hours))
    except signing.BadSignature:
        raise SignupLinkError(LINK_INVALID)
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise SignupLinkError(LINK_INVALID)
    user = User.objects.filter(pk=payload["u"]).first()
    if user is None or not constant_time_compare(str(payload.get("f", "")), _fingerprint(user)):
        raise SignupLinkError(LINK_USED)
    return user


def _send_confirmation(user: User) -> None:
    context = {
        "name": user.display_name,
        "confirm_url": absolute_url(
            reverse("signup_confirm", args=[signup_token_make(user=user, salt=CONFIRM_SALT)])
        ),
        "reject_url": absolute_url(
            reverse("signup_reject", args=[signup_token_make(user=user, salt=REJECT_SALT)])
        ),
        "hours": confirmation_hours(),
    }
    _send(user.email, "signup_confirm", context, kind=outbound.ACCOUNT)


def _send_existing_notice(user: User) -> None:
    context = {
        "name": user.display_name,
        "login_url": absolute_url(reverse("login")),
        "reset_url": absolute_url(reverse("password_reset")),
    }
    _send(user.email, "signup_existing", context, kind=outbound.SECURITY)


def _send(to: str, template: str, context: dict, *, kind: str) -> None:
    # The outbound pipeline logs only the kind of a failure: mail errors can quote the address,
    # and the body holds tokens. The person can sign up again to get a new email.
    outbound.send(to, template, context, kind=kind)


# Services ----------------------------------------------------------------------------------------


@transaction.atomic
def signup_request(
    *, display_name: str, email: str, password: str, policy_ids: tuple[int, int], request=None
) -> User | None:
    """Start a sign-up. The answer never tells whether the address already has an account.

    A new address gets an inactive account with ``email_confirmed_at`` empty, an acceptance of
    each current policy (``policy_ids`` must be the current terms and privacy versions, checked by
    the form), one ``account.signup`` event (no actor and no email in it: nobody has proved they
    own the address yet) and, after commit, one email with a confirm and a reject link.
    An address that already has a pending sign-up gets its confirmation email again; an address
    of a confirmed account gets a notice instead. Returns the new account, or None.
    """
    email = User.objects.normalize_email(email)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        user = User(email=email, display_name=display_name, is_active=False, email_confirmed_at=None)
        user.set_password(password)
        user.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                user.save(force_insert=True)
        except IntegrityError:
            # Someone signed up with the same address a moment ago.
            existing = User.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
        else:
            now = timezone.now()
            for policy_id in policy_ids:
                acceptance = PolicyAcceptance(user=user, policy_id=policy_id, accepted_at=now)
                acceptance.full_clean()
                acceptance.save()
            events.account_signup(user=user, policy_ids=policy_ids, request=request)
            transaction.on_commit(lambda: _send_confirmation(user))
            return user
    # Hash anyway, so the answer takes as long as for a new address.
    make_password(password)
    if existing.email_confirmed_at is None and existing.last_login is None and not existing.is_active:
        transaction.on_commit(lambda: _send_confirmation(existing))
    else:
        transaction.on_commit(lambda: _send_existing_notice(existing))
    return None


def _lock_pending(token: str, salt: str) -> User:
    user = signup_token_read(token=token, salt=salt)
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def signup_confirm(*, token: str, request=None) -> User:
    """Activate the account a confirmation link points to; audits ``account.signup_confirmed``.

    Raises SignupLinkError (and changes nothing) for an expired, tampered or used link. The caller
    signs the person in.
    """
    user = _lock_pending(token, CONFIRM_SALT)
    if user.email_confirmed_at is not None:
        raise SignupLinkError(ALREADY_CONFIRMED)
    user.is_active = True
    user.email_confirmed_at = timezone.now()
    user.full_clean(validate_unique=False)
    user.save(update_fields=["is_active", "email_confirmed_at"])
    events.account_signup_confirmed(user=user, request=request)
    return user


@transaction.atomic
def signup_reject(*, token: str, request=None) -> None:
    """Delete the unconfirmed account a "this wasn't me" link points to, at once.

    Audits ``account.signup_rejected`` with the account id only. A confirmed account is not
    deleted (SignupLinkError): its owner deletes it from the account page.
    """
    user = _lock_pending(token, REJECT_SALT)
    if user.email_confirmed_at is not None or user.last_login is not None:
        raise SignupLinkError(CANNOT_REJECT_CONFIRMED)
    user_id = user.pk
    user.delete()
    events.account_signup_rejected(user_id=user_id, request=request)


def signups_unconfirmed_expired(*, now: datetime | None = None):
    """Sign-ups never confirmed and never used within SIGNUP_CONFIRMATION_HOURS."""
    cutoff = (now or timezone.now()) - timedelta(hours=confirmation_hours())
    return User.objects.filter(
        email_confirmed_at__isnull=True,
        last_login__isnull=True,
        is_active=False,
        is_staff=False,
        is_superuser=False,
        date_joined__lt=cutoff,
        memberships__isnull=True,
    )


@transaction.atomic
def signups_purge(*, now: datetime | None = None) -> int:
    """Delete expired unconfirmed sign-ups; audits ``account.signups_purged`` with the count only."""
    # Lock the rows, so a confirmation arriving at the same moment waits and then finds no account,
    # instead of confirming an account that is being deleted.
    pending = signups_unconfirmed_expired(now=now)
    ids = list(pending.select_for_update(of=("self",)).values_list("pk", flat=True))
    if not ids:
        return 0
    User.objects.filter(pk__in=ids).delete()
    events.account_signups_purged(count=len(ids))
    return len(ids)


# Task names are what queued messages and the beat schedule refer to: kept across module moves.
@shared_task(name="workspaces.tasks.purge_unconfirmed_signups")
def purge_unconfirmed_signups() -> int:
    """Delete sign-ups left unconfirmed for SIGNUP_CONFIRMATION_HOURS (scheduled hourly by beat)."""
    return signups_purge()
