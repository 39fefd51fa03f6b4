"""Second factors: setting up TOTP, recovery codes, removing a factor, and the second step of a
sign-in with its lockout.

Every act is audited in the account chain (privacy/audit/events.py). Codes and secrets are never
logged or audited. The second step counts failures per person in the database
(``SecondFactorLock``), under a row lock, so parallel guesses and a fresh browser share one count.
"""

import re
import secrets
from base64 import b32encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import segno
from axes.helpers import get_cool_off
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Func, OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.tokens import hash_token
from privacy.audit import events
from workspaces.models import User, Workspace
from workspaces.two_factor.models import Passkey, RecoveryCode, SecondFactorLock

RECOVERY_CODE_COUNT = 10
METHOD_TOTP = "totp"
METHOD_RECOVERY = "recovery_code"
METHOD_PASSKEY = "passkey"
KIND_TOTP = "totp"
KIND_PASSKEY = "passkey"

WRONG_CODE = gettext_lazy(
    "That code is not right. Type the current code from your app, or one of your recovery codes."
)
LOCKED = gettext_lazy(
    "Too many wrong codes: signing in to this account is paused for {minutes} minutes. "
    "Start again with your password after that."
)
SETUP_WRONG_CODE = gettext_lazy(
    "That code does not match. Type the 6-digit code your app shows now "
    "(check that the phone's clock is right)."
)
TOTP_ALREADY = gettext_lazy("An authenticator app is already set up. Remove it first to set up another.")
REAUTH_WRONG = gettext_lazy("Neither your password nor a current code from your authenticator app matched.")
NOT_FOUND = gettext_lazy("That factor does not exist (any more).")
_SIX_DIGITS = re.compile(r"^\d{6}$")


class TwoFactorError(Exception):
    """A refusal with a message meant for the person."""


# Reads ------------------------------------------------------------------------------------------------


def confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def user_passkeys(user):
    return Passkey.objects.filter(user=user)


def user_has_factor(user) -> bool:
    if getattr(user, "pk", None) is None:  # anonymous
        return False
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or Passkey.objects.filter(user=user).exists()
    )


def recovery_codes_left(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@dataclass(frozen=True)
class FactorSummary:
    totp: TOTPDevice | None
    passkeys: list
    recovery_left: int

    @property
    def enabled(self) -> bool:
        return self.totp is not None or bool(self.passkeys)


def factor_summary(user) -> FactorSummary:
    return FactorSummary(
        totp=confirmed_totp(user), passkeys=list(user_passkeys(user)), recovery_left=recovery_codes_left(user)
    )


def factor_overview(user) -> dict:
    """``enabled``, ``totp``, ``passkeys`` (a count) and ``recovery_left`` in one query, for the
    account page."""
    count = Func(F("pk"), function="COUNT")
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            tf_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            tf_passkeys=Subquery(
                Passkey.objects.filter(user=OuterRef("pk"))
                .order_by()
                .values("user")
                .annotate(n=count)
                .values("n")
            ),
            tf_codes=Subquery(
                RecoveryCode.objects.filter(user=OuterRef("pk"), used_at__isnull=True)
                .order_by()
                .values("user")
                .annotate(n=count)
                .values("n")
            ),
        )
        .values("tf_totp", "tf_passkeys", "tf_codes")
        .first()
        or {}
    )
    totp, passkeys = bool(row.get("tf_totp")), row.get("tf_passkeys") or 0
    return {
        "enabled": totp or passkeys > 0,
        "totp": totp,
        "passkeys": passkeys,
        "recovery_left": row.get("tf_codes") or 0,
    }


def cool_off(request=None) -> timedelta:
    """The lock of the second step lasts as long as axes' lock of the password step."""
    return get_cool_off(request) or timedelta(minutes=15)


def cool_off_minutes(request=None) -> int:
    return max(1, round(cool_off(request).total_seconds() / 60))


# Setting up TOTP ------------------------------------------------------------------------------------------


@transaction.atomic
def totp_setup_begin(*, user) -> TOTPDevice:
    """A new, unconfirmed device with a fresh secret; an earlier unconfirmed one is dropped.
    Refused (``TwoFactorError``) while a confirmed device exists."""
    if confirmed_totp(user) is not None:
        raise TwoFactorError(TOTP_ALREADY)
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_pending(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URL (the CSP allows data: images only)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


@transaction.atomic
def totp_setup_confirm(*, user, code: str, request=None) -> list[str] | None:
    """Confirm the pending device with a current code. Returns new recovery codes when the person
    had none left (shown once by the caller), else ``None``. Audits ``account.factor_added``."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise TwoFactorError(NOT_FOUND)
    if not _SIX_DIGITS.match(code.strip()) or not device.verify_token(code.strip()):
        raise TwoFactorError(SETUP_WRONG_CODE)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    events.account_factor_added(user=user, kind=KIND_TOTP, request=request)
    if recovery_codes_left(user) == 0:
        return recovery_codes_generate(user=user, request=request)
    return None


# Recovery codes --------------------------------------------------------------------------------------------


def _normalize_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _hash_code(user, code: str) -> str:
    # The account id is part of the hash, so equal codes of two people never meet in the table.
    return hash_token(f"{user.pk}:{_normalize_code(code)}")


def _new_code() -> str:
    raw = b32encode(secrets.token_bytes(7)).decode().lower()[:10]  # 50 bits
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def recovery_codes_generate(*, user, request=None) -> list[str]:
    """Replace the person's recovery codes with ``RECOVERY_CODE_COUNT`` new ones and return them
    in clear, the only time they exist so; only their hashes are stored."""
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=_hash_code(user, c)) for c in codes)
    events.account_recovery_codes_generated(user=user, count=len(codes), request=request)
    return codes


def recovery_code_use(*, user, code: str) -> bool:
    """Spend a recovery code. A conditional update, so two requests racing with one code cannot
    both win."""
    if not _normalize_code(code):
        return False
    used = RecoveryCode.objects.filter(
        user=user, code_hash=_hash_code(user, code), used_at__isnull=True
    ).update(used_at=timezone.now())
    return used == 1


# Removing a factor (needs the password or a current code) ---------------------------------------------------


def _reauthenticate(*, user, secret: str) -> str:
    """What confirmed the person: ``password`` or ``code``; ``TwoFactorError`` if neither."""
    secret = (secret or "").strip()
    if secret and user.check_password(secret):
        return "password"
    if _SIX_DIGITS.match(secret):
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is not None and device.verify_token(secret):
            return "code"
    raise TwoFactorError(REAUTH_WRONG)


def _after_removal(user) -> None:
    # Recovery codes stand in for a factor; with no factor left they would be a bare password.
    if not user_has_factor(user):
        RecoveryCode.objects.filter(user=user).delete()


@transaction.atomic
def totp_remove(*, user, secret: str, request=None) -> None:
    confirmed_by = _reauthenticate(user=user, secret=secret)
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    if not deleted:
        raise TwoFactorError(NOT_FOUND)
    _after_removal(user)
    events.account_factor_removed(user=user, kind=KIND_TOTP, confirmed_by=confirmed_by, request=request)


def own_passkey_or_404(*, user, passkey_id: int) -> Passkey:
    """The person's own passkey; anybody else's, like one that does not exist, is a 404."""
    return get_object_or_404(Passkey, user=user, pk=passkey_id)


@transaction.atomic
def passkey_remove(*, user, passkey_id: int, secret: str, request=None) -> None:
    confirmed_by = _reauthenticate(user=user, secret=secret)
    deleted, _ = Passkey.objects.filter(user=user, pk=passkey_id).delete()
    if not deleted:
        raise TwoFactorError(NOT_FOUND)
    _after_removal(user)
    events.account_factor_removed(user=user, kind=KIND_PASSKEY, confirmed_by=confirmed_by, request=request)


@transaction.atomic
def passkey_rename(*, user, passkey_id: int, name: str) -> Passkey:
    passkey = Passkey.objects.select_for_update().filter(user=user, pk=passkey_id).first()
    if passkey is None:
        raise TwoFactorError(NOT_FOUND)
    passkey.name = name
    passkey.full_clean(exclude=["credential_id", "public_key", "transports"])
    passkey.save(update_fields=["name"])
    return passkey


# The second step of a sign-in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    passed: bool
    method: str = ""
    locked: bool = False
    message: str = ""


def _lock_row(user) -> SecondFactorLock:
    SecondFactorLock.objects.get_or_create(user=user)
    return SecondFactorLock.objects.select_for_update().get(user=user)


def second_factor_locked_until(user):
    """When the person's second step unlocks, or ``None`` when it is open."""
    lock = SecondFactorLock.objects.filter(user=user).first()
    if lock is not None and lock.locked_until and lock.locked_until > timezone.now():
        return lock.locked_until
    return None


def second_factor_attempt(*, user, method: str, check: Callable[[], str | None], request=None) -> Outcome:
    """Run ``check`` (returns the method that passed, or ``None``) under the person's lock row.

    A pass resets the count and audits ``auth.second_factor_passed``. A failure audits
    ``auth.second_factor_failed``; the ``TWO_FACTOR_FAILURE_LIMIT``-th in a cool-off period locks
    the second step for the cool-off (``auth.second_factor_locked``) and the caller must drop the
    pending sign-in. While locked, ``check`` does not run at all.
    """
    limit = settings.TWO_FACTOR_FAILURE_LIMIT
    period = cool_off(request)
    minutes = cool_off_minutes(request)
    with transaction.atomic():
        lock = _lock_row(user)
        now = timezone.now()
        if lock.locked_until and lock.locked_until > now:
            return Outcome(passed=False, locked=True, message=LOCKED.format(minutes=minutes))
        passed_with = check()
        if passed_with:
            lock.failures, lock.last_failure_at, lock.locked_until = 0, None, None
            lock.save()
            events.auth_second_factor_passed(user=user, method=passed_with, request=request)
            return Outcome(passed=True, method=passed_with)
        if lock.last_failure_at is None or lock.last_failure_at < now - period:
            lock.failures = 0
        lock.failures += 1
        lock.last_failure_at = now
        failures = lock.failures
        if failures >= limit:
            lock.failures, lock.locked_until = 0, now + period
        lock.save()
        events.auth_second_factor_failed(user=user, method=method, failures=failures, request=request)
        if failures >= limit:
            events.auth_second_factor_locked(user=user, minutes=minutes, request=request)
            return Outcome(passed=False, locked=True, message=LOCKED.format(minutes=minutes))
    return Outcome(passed=False, message=WRONG_CODE)


def second_factor_verify_code(*, user, code: str, request=None) -> Outcome:
    """A 6-digit code is checked against the TOTP device (django-otp refuses a code whose time
    step was already used: no replay); anything else as a recovery code, spent on success."""
    code = (code or "").strip()
    is_totp = bool(_SIX_DIGITS.match(code))

    def check() -> str | None:
        if is_totp:
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            return METHOD_TOTP if device is not None and device.verify_token(code) else None
        if recovery_code_use(user=user, code=code):
            events.account_recovery_code_used(user=user, remaining=recovery_codes_left(user), request=request)
            return METHOD_RECOVERY
        return None

    return second_factor_attempt(
        user=user, method=METHOD_TOTP if is_totp else METHOD_RECOVERY, check=check, request=request
    )


# A workspace's requirement ---------------------------------------------------------------------------------


@transaction.atomic
def workspace_set_two_factor_requirement(*, workspace, required: bool, actor, request=None) -> bool:
    """Set whether the workspace's admins and agents need a second factor. Returns whether it
    changed; audits ``settings.changed`` (setting ``require_two_factor``) when it did."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if workspace.require_two_factor == required:
        return False
    workspace.require_two_factor = required
    workspace.save(update_fields=["require_two_factor"])
    events.two_factor_requirement_changed(
        workspace=workspace, required=required, actor=actor, request=request
    )
    return True


def required_for(membership) -> bool:
    return bool(membership.workspace.require_two_factor and membership.is_staff)
