"""Signing out sessions from the account page (/account/#sessions). POST only (CSRF-checked by
the middleware); a session id of someone else answers 404, like a missing one. The list itself
is the page's ``account_sessions_section`` (privacy/templatetags/account_sessions.py)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views.decorators.http import require_POST

from workspaces.sessions import services as session_services

SESSION_SIGNED_OUT = _("That session was signed out. The browser has to sign in again.")
OTHERS_SIGNED_OUT = ngettext_lazy(
    "Signed out of {count} other session.", "Signed out of {count} other sessions.", "count"
)
NO_OTHERS = _("You were signed in nowhere else.")
ALL_SIGNED_OUT = _("You were signed out everywhere, on this browser too.")


def _back():
    return redirect(reverse("account") + "#sessions")


def _signed_out_here(request, message: str):
    logout(request)
    messages.success(request, message)
    return redirect("login")


@login_required
@require_POST
def session_sign_out(request, session_id: int):
    this_device = session_services.session_revoke(
        user=request.user, session_id=session_id, current_key=request.session.session_key, request=request
    )
    if this_device:
        return _signed_out_here(request, SESSION_SIGNED_OUT)
    messages.success(request, SESSION_SIGNED_OUT)
    return _back()


@login_required
@require_POST
def sessions_sign_out_others(request):
    count = session_services.sessions_revoke_others(
        user=request.user, current_key=request.session.session_key, request=request
    )
    if count:
        messages.success(request, OTHERS_SIGNED_OUT.format(count=count))
    else:
        messages.info(request, NO_OTHERS)
    return _back()


@login_required
@require_POST
def sessions_sign_out_all(request):
    session_services.sessions_revoke_all(user=request.user, request=request)
    return _signed_out_here(request, ALL_SIGNED_OUT)
