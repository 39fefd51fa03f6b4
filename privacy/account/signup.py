"""Self-service sign-up of requesters: request, confirm by email, reject ("this wasn't me"), purge.

Confirmation and rejection links carry signed, time-limited tokens (``django.core.signing`` with a
salt per purpose). Nothing about a token is stored: the signature, its age and the account's state
decide whether it still works, and a confirmed or deleted account makes every old link useless.

Whoever signs up has not proved they own the address, so an unconfirmed sign-up belongs to nobody
yet, and its password may have been typed by someone else (an attacker who signs up first with
a victim's address, hoping the victim later confirms it). Three rules keep that password from
ever becoming the victim's:

- a confirmation activates an account only for whoever types that sign-up's password on the
  confirmation page: the person clicking the link must have chosen it;
- signing up again with a pending address replaces its password, name and accepted policies,
  and every earlier link stops working (the token is bound to the password hash);
- a password reset works for a pending sign-up: the mailbox's owner sets a password, which
  confirms the address (``signup_confirm_by_reset``), and the earlier password is gone.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from helpdesk import outbound, ratelimit
from helpdesk.errors import UserFacingError
from helpdesk.site import absolute_url
from privacy.account.anonymizers import sessions_forget_addresses
from privacy.account.models import Consent, ConsentSource, PolicyAcceptance, PolicyKind, PolicyVersion
from privacy.account.policies import policy_current
from privacy.audit import events
from privacy.audit.maintenance import audit_events_forget_signups
from workspaces.models import User
from workspaces.signals import signup_confirmed

# The sign-up's "at least 16" box, kept as a consent row: when and under which privacy policy.
AGE_CONFIRMED = "age_confirmed_16"

CONFIRM_SALT = "privacy.account.signup.confirm"
REJECT_SALT = "privacy.account.signup.reject"
FINGERPRINT_SALT = "privacy.account.signup.fingerprint"
CREDENTIALS_SALT = "privacy.account.signup.credentials"

LINK_EXPIRED = _(
    "This link has expired. Sign-up links work for {hours} hours; sign up again to get a new one."
)
LINK_INVALID = _("This link is not valid. Copy the whole link from the email, or sign up again.")
LINK_USED = _(
    "This sign-up no longer exists: it was deleted, or it expired unconfirmed. You can sign up again."
)
LINK_REPLACED = _(
    "This link was replaced: this address was signed up again, or its password was reset, after "
    "this email was sent. Use the link in the newest email, or sign up again."
)
ALREADY_CONFIRMED = _("This email address is already confirmed. Sign in with your password.")
CONFIRM_PASSWORD_WRONG = _(
    "That is not the password chosen for this sign-up. Type the password you chose when you "
    "signed up. Forgot it, or did not sign up? Sign up again, or reset the password."
)
CONFIRM_RATE_LIMITED = _("Too many wrong passwords for this sign-up. Try again {wait}.")
CANNOT_REJECT_CONFIRMED = _(
    "This account was already confirmed, so this link cannot delete it. If it is not yours, "
    "reset its password, sign in and delete the account from your account page."
)
POLICIES_MISSING = _("Sign-up is closed until the terms of service and the privacy policy are published.")


class SignupLinkError(UserFacingError):
    """A confirmation or rejection link that cannot be used; ``message`` says why, for people."""


class SignupPasswordWrong(UserFacingError):
    """The password typed on a confirmation page is not the sign-up's (or too many were tried)."""


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
    """Ties a token to this one account: a later account with the same id does not match."""
    return salted_hmac(FINGERPRINT_SALT, f"{user.pk}:{user.email}").hexdigest()[:32]


def _credentials_stamp(user: User) -> str:
    """Ties a token to this sign-up's password and start: a new sign-up for the address or a
    password reset changes them, so every link sent before stops working."""
    value = f"{user.password}:{user.date_joined.timestamp():.6f}"
    return salted_hmac(CREDENTIALS_SALT, value).hexdigest()[:32]


def signup_token_make(*, user: User, salt: str) -> str:
    return signing.dumps(
        {"u": user.pk, "f": _fingerprint(user), "c": _credentials_stamp(user)}, salt=salt, compress=False
    )


def _token_payload(token: str, salt: str) -> dict:
    hours = confirmation_hours()
    try:
        payload = signing.loads(token, salt=salt, max_age=timedelta(hours=hours))
    except signing.SignatureExpired:
        raise SignupLinkError(LINK_EXPIRED.format(hours=hours))
    except signing.BadSignature:
        raise SignupLinkError(LINK_INVALID)
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise SignupLinkError(LINK_INVALID)
    return payload


def _token_user(payload: dict, *, lock: bool) -> User:
    users = User.objects.select_for_update() if lock else User.objects
    user = users.filter(pk=payload["u"]).first()
    if user is None or not constant_time_compare(str(payload.get("f", "")), _fingerprint(user)):
        raise SignupLinkError(LINK_USED)
    if not constant_time_compare(str(payload.get("c", "")), _credentials_stamp(user)):
        raise SignupLinkError(LINK_REPLACED)
    return user


def signup_token_read(*, token: str, salt: str, lock: bool = False) -> User:
    """The account a link points to. Raises SignupLinkError with a message for people.

    ``lock`` (inside a transaction) takes the row lock before the checks, so a sign-up replacing
    the password at the same moment cannot slip in between the check and the caller's change.
    """
    return _token_user(_token_payload(token, salt), lock=lock)


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


def _accept_policies(user: User, policy_ids: tuple[int, int]) -> None:
    now = timezone.now()
    for policy_id in policy_ids:
        acceptance = PolicyAcceptance(user=user, policy_id=policy_id, accepted_at=now)
        acceptance.full_clean()
        acceptance.save()


def _replace_pending(
    user: User, *, display_name: str, password: str, policy_ids: tuple[int, int], request
) -> None:
    """The newest sign-up of a pending address takes it over: its password, name and policies.
    Refreshing ``date_joined`` gives it the full confirmation period, and with the new password
    hash it changes the credentials stamp, so the earlier links stop working."""
    user.display_name = display_name
    user.set_password(password)
    user.date_joined = timezone.now()
    user.full_clean(validate_unique=False)
    user.save(update_fields=["display_name", "password", "date_joined"])
    # The earlier acceptances were made by whoever signed up before: not this person.
    PolicyAcceptance.objects.filter(user_id=user.pk).delete()
    _accept_policies(user, policy_ids)
    events.account_signup_replaced(user=user, policy_ids=policy_ids, request=request)


def _record_age(user: User, confirmed: bool, policy_ids: tuple[int, int]) -> None:
    if not confirmed:
        return
    privacy = PolicyVersion.objects.filter(pk__in=policy_ids, kind=PolicyKind.PRIVACY).first()
    consent = Consent(
        user=user, purpose=AGE_CONFIRMED, granted=True, policy=privacy, source=ConsentSource.SIGNUP
    )
    consent.full_clean()
    consent.save()


@transaction.atomic
def signup_request(
    *,
    display_name: str,
    email: str,
    password: str,
    policy_ids: tuple[int, int],
    request=None,
    existing_notice=None,
    age_confirmed: bool = False,
) -> User | None:
    """Start a sign-up. The answer never tells whether the address already has an account.

    A new address gets an inactive account with ``email_confirmed_at`` empty, an acceptance of
    each current policy (``policy_ids`` must be the current terms and privacy versions, checked by
    the form), one ``account.signup`` event (no actor and no email in it: nobody has proved they
    own the address yet) and, after commit, one email with a confirm and a reject link.
    An address with a pending sign-up is taken over by this one (``account.signup_replaced``; the
    earlier password stops working and the earlier links die) and gets a new email; an address
    of a confirmed account gets a notice instead (``existing_notice(user)`` when given, as the Get
    help form does). ``age_confirmed`` (the form's required box: at least 16) is recorded with
    the consents (``AGE_CONFIRMED``, source sign-up, the privacy policy in force) and named in
    the event. Returns the new or replaced account, or None.
    Rate limits are the caller's (``signup_rate_limit``).
    """
    email = User.objects.normalize_email(email)
    existing = User.objects.select_for_update().filter(email__iexact=email).first()
    if existing is None:
        user = User(email=email, display_name=display_name, is_active=False, email_confirmed_at=None)
        user.set_password(password)
        user.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                user.save(force_insert=True)
        except IntegrityError:
            # Someone signed up with the same address a moment ago.
            existing = User.objects.select_for_update().filter(email__iexact=email).first()
            if existing is None:
                raise
        else:
            _accept_policies(user, policy_ids)
            _record_age(user, age_confirmed, policy_ids)
            events.account_signup(
                user=user, policy_ids=policy_ids, request=request, age_confirmed=age_confirmed
            )
            transaction.on_commit(lambda: _send_confirmation(user))
            return user
    if existing.is_pending_signup:
        _replace_pending(
            existing, display_name=display_name, password=password, policy_ids=policy_ids, request=request
        )
        _record_age(existing, age_confirmed, policy_ids)
        transaction.on_commit(lambda: _send_confirmation(existing))
        return existing
    # Hash anyway, so the answer takes as long as for a new address.
    make_password(password)
    notice = existing_notice or _send_existing_notice
    transaction.on_commit(lambda: notice(existing))
    return None


def signup_rate_limit(*, email: str, ip: str | None) -> ratelimit.Refusal | None:
    """Count one sign-up email for ``email`` and ``ip``; a Refusal when either had enough.
    The same for every address, known or not, so the answer reveals nothing."""
    return ratelimit.ratelimit_hit("signup", address=User.objects.normalize_email(email), ip=ip)


def _activate(user: User) -> None:
    user.is_active = True
    user.email_confirmed_at = timezone.now()
    user.full_clean(validate_unique=False)
    user.save(update_fields=["is_active", "email_confirmed_at"])


def signup_confirm(*, token: str, password: str, ip: str | None = None, request=None) -> User:
    """Activate the account a confirmation link points to, for whoever typed its password.

    The link alone is not enough: it reaches the mailbox, but the password may have been chosen
    by someone else who signed up with this address first. Raises SignupLinkError (changes
    nothing) for an expired, tampered, replaced or used link; SignupPasswordWrong for a wrong
    password, and once ``RATE_LIMITS["signup_confirm"]`` wrong ones were typed, without checking
    (audited as ``rate_limit.refused``). Audits ``account.signup_confirmed``. The caller signs
    the person in.
    """
    with transaction.atomic():
        user = signup_token_read(token=token, salt=CONFIRM_SALT, lock=True)
        if user.email_confirmed_at is not None:
            raise SignupLinkError(ALREADY_CONFIRMED)
        refusal = ratelimit.ratelimit_check("signup_confirm", account=str(user.pk), ip=ip)
        if refusal is None:
            # The hashers' check_password, not user.check_password: a rehash would change the
            # stamp the links carry.
            if not check_password(password, user.password):
                ratelimit.ratelimit_count("signup_confirm", account=str(user.pk), ip=ip)
                raise SignupPasswordWrong(CONFIRM_PASSWORD_WRONG)
            _activate(user)
            events.account_signup_confirmed(user=user, request=request)
            signup_confirmed.send(sender=User, user=user, request=request)
            return user
    # Outside the confirmation's transaction, so the refusal is recorded although nothing changed.
    events.rate_limit_refused(action="signup_confirm", scope=refusal.scope, request=request)
    raise SignupPasswordWrong(CONFIRM_RATE_LIMITED.format(wait=refusal.wait))


@transaction.atomic
def signup_confirm_by_reset(sender=None, *, user, request=None, **kwargs) -> None:
    """A password was set through a reset link for a pending sign-up: the person proved they own
    the mailbox and chose the password, so the address is confirmed and the account active.

    Connected to ``workspaces.signals.pending_signup_claimed`` (sent inside the reset's
    transaction). The policy acceptances were made by whoever signed up, maybe not this person:
    they are dropped, and the person is asked to accept the policies when they sign in.
    Audits ``account.signup_confirmed`` with ``via: password_reset``.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_pending_signup:
        return
    PolicyAcceptance.objects.filter(user_id=user.pk).delete()
    _activate(user)
    events.account_signup_confirmed(user=user, via="password_reset", request=request)
    signup_confirmed.send(sender=User, user=user, request=request)


@transaction.atomic
def signup_reject(*, token: str, request=None) -> None:
    """Delete the unconfirmed account a "this wasn't me" link points to, at once.

    Audits ``account.signup_rejected`` with the account id only. A confirmed account is not
    deleted (SignupLinkError): its owner deletes it from the account page. A link of a replaced
    sign-up does not delete the newer one.
    """
    user = signup_token_read(token=token, salt=REJECT_SALT, lock=True)
    if user.email_confirmed_at is not None or user.last_login is not None:
        raise SignupLinkError(CANNOT_REJECT_CONFIRMED)
    user_id, email = user.pk, user.email
    user.delete()
    forgotten = audit_events_forget_signups(user_ids=[user_id])
    sessions_forget_addresses([email])
    # Without the request: the address and browser of whoever clicked are not kept either.
    events.account_signup_rejected(user_id=user_id, anonymized=forgotten)


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
    rows = list(pending.select_for_update(of=("self",)).values_list("pk", "email"))
    if not rows:
        return 0
    ids = [pk for pk, _ in rows]
    User.objects.filter(pk__in=ids).delete()
    audit_events_forget_signups(user_ids=ids)
    sessions_forget_addresses([email for _, email in rows])
    events.account_signups_purged(count=len(ids))
    return len(ids)


# Task names are what queued messages and the beat schedule refer to: kept across module moves.
@shared_task(name="workspaces.tasks.purge_unconfirmed_signups")
def purge_unconfirmed_signups() -> int:
    """Delete sign-ups left unconfirmed for SIGNUP_CONFIRMATION_HOURS (scheduled hourly by beat)."""
    return signups_purge()
