"""Sign-in events into the audit log, and the django-axes hooks that explain a lockout.

Receivers are connected in ``WorkspacesConfig.ready()``. django-axes' own receivers are connected
first (``axes`` comes before ``workspaces`` in INSTALLED_APPS), so when ours run the request
already says whether axes refused or locked it.

Privacy: a failed sign-in names the account only when the address belongs to one (by id, in
``target``); an address typed by a stranger is never written down. Passwords never are.
"""

from datetime import timedelta

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.audit import events
from workspaces.models import User

LOCKED_ACCOUNT_MESSAGE = _(
    "There were {limit} failed sign-ins to this account from your network address, so signing in "
    "to it from here is paused for {minutes} minutes. Other accounts are not affected."
)
LOCKED_ADDRESS_MESSAGE = _(
    "There were {ip_limit} failed sign-ins from your network address, so signing in from it is "
    "paused for {minutes} minutes, for every account."
)
LOCKED_BOTH_MESSAGE = _(
    "There were {limit} failed sign-ins to this account from your network address, and {ip_limit} "
    "in all from it, so signing in from this address is paused for {minutes} minutes."
)
LOCKED_MESSAGE = _("There were too many failed sign-ins, so signing in is paused for {minutes} minutes.")
# What a lock covers: one account from one network address, or one network address for all.
SCOPE_ACCOUNT = "account_from_address"
SCOPE_ADDRESS = "address"
PAIR = ["username", "ip_address"]


def _user_for(email: str | None) -> User | None:
    if not email:
        return None
    return User.objects.filter(email__iexact=User.objects.normalize_email(email)).first()


# django-axes hooks (settings.AXES_USERNAME_CALLABLE, settings.AXES_LOCKOUT_CALLABLE) --------------


def axes_username(request, credentials=None) -> str | None:
    """The address axes counts failures for, in one case: "Ann@X.test" and "ann@x.test" are one
    account here, so they share one failure count."""
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "POST", {}).get("username")
    if not isinstance(value, str):
        return None
    return User.objects.normalize_email(value) or None


def _failures(request, **filters) -> int:
    cool_off = get_cool_off(request) or timedelta(0)
    since = getattr(request, "axes_attempt_time", None) or timezone.now()
    recent = {"attempt_time__gte": since - cool_off} if cool_off else {}
    return (
        AccessAttempt.objects.filter(**filters, **recent).aggregate(n=Sum("failures_since_start"))["n"] or 0
    )


def ip_failure_limit() -> int:
    return settings.LOGIN_IP_FAILURE_LIMIT


def axes_lockout_parameters(request, credentials=None) -> list:
    """What axes counts failures by (settings.AXES_LOCKOUT_PARAMETERS).

    axes compares the highest count of the listed groups with one limit (AXES_FAILURE_LIMIT), and
    has no limit per group. So the account-and-address pair is always listed, and the address
    alone only once it reached LOGIN_IP_FAILURE_LIMIT: from then on its count, above the limit,
    locks it for every account. Costs one query per call.
    """
    ip_address = getattr(request, "axes_ip_address", None)
    if ip_address and _failures(request, ip_address=ip_address) >= ip_failure_limit():
        return [PAIR, "ip_address"]
    return [PAIR]


def lockout_scopes(request, credentials=None) -> list[str]:
    """Which limits this request is over: the account-from-this-address one, the address's, or both."""
    limit = get_failure_limit(request, credentials)
    scopes = []
    username = get_client_username(request, credentials)
    ip_address = getattr(request, "axes_ip_address", None)
    if username and ip_address and _failures(request, username=username, ip_address=ip_address) >= limit:
        scopes.append(SCOPE_ACCOUNT)
    if ip_address and _failures(request, ip_address=ip_address) >= ip_failure_limit():
        scopes.append(SCOPE_ADDRESS)
    return scopes


def lockout_message(request, credentials=None) -> str:
    limit = get_failure_limit(request, credentials)
    cool_off = get_cool_off(request) or timedelta(0)
    minutes = max(1, round(cool_off.total_seconds() / 60))
    scopes = lockout_scopes(request, credentials)
    if scopes == [SCOPE_ACCOUNT]:
        template = LOCKED_ACCOUNT_MESSAGE
    elif scopes == [SCOPE_ADDRESS]:
        template = LOCKED_ADDRESS_MESSAGE
    elif scopes:
        template = LOCKED_BOTH_MESSAGE
    else:
        template = LOCKED_MESSAGE
    return template.format(limit=limit, ip_limit=ip_failure_limit(), minutes=minutes)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out sign-in gets: status 429 and what happened, in words."""
    context = {"lockout_message": lockout_message(request, credentials)}
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)


# Signal receivers -----------------------------------------------------------------------------------


def on_user_logged_in(sender, request, user, **kwargs):
    events.auth_login(user=user, request=request)


def on_user_logged_out(sender, request, user, **kwargs):
    if user is None:  # signing out without being signed in
        return
    events.auth_logout(user=user, request=request)


def _refused_without_checking(request) -> bool:
    """Was this attempt refused because the lock was already on (the password was not checked)?

    Each failure adds one to every count axes keeps (the account from this address, and this
    address), so the lock was on before this attempt exactly when one of them is now above its
    limit. (axes leaves the count empty when it refuses without counting.)
    """
    if not getattr(request, "axes_locked_out", False):
        return False
    if getattr(request, "axes_failures_since_start", None) is None:
        return True
    credentials = getattr(request, "axes_credentials", None)
    username = get_client_username(request, credentials)
    ip_address = getattr(request, "axes_ip_address", None)
    if not ip_address:
        return False
    if _failures(request, ip_address=ip_address) > ip_failure_limit():
        return True
    limit = get_failure_limit(request, credentials)
    return bool(username) and _failures(request, username=username, ip_address=ip_address) > limit


def on_user_login_failed(sender, credentials, request=None, **kwargs):
    user = _user_for(credentials.get("username"))
    refused_while_locked = request is not None and _refused_without_checking(request)
    events.auth_login_failed(account=user, refused_while_locked=refused_while_locked, request=request)


def on_user_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    """Audits the moment a lock begins, once; later refused attempts are ``auth.login_failed``
    events marked ``refused_while_locked``."""
    if request is None or _refused_without_checking(request):
        return
    credentials = getattr(request, "axes_credentials", None)
    events.auth_locked_out(
        account=_user_for(username), scopes=lockout_scopes(request, credentials), request=request
    )
