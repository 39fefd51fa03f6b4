"""The two-step sign-in: the password form, then the verify page (code, recovery code or passkey)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from workspaces.forms import EmailAuthenticationForm
from workspaces.two_factor import passkeys, services, signin
from workspaces.two_factor.forms import CodeForm, PasskeyAssertionForm

SIGN_IN_AGAIN = _("Your sign-in expired. Please sign in again.")


class SecondFactorLoginView(LoginView):
    """Django's LoginView; a person with a second factor is not signed in yet but sent on to the
    verify page (see workspaces/two_factor/signin.py)."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not services.user_has_factor(user):
            return super().form_valid(form)
        signin.pending_start(self.request, user=user, backend=user.backend, next_url=self.get_success_url())
        return redirect("two_factor_verify")


def _next_url(request) -> str:
    candidate = signin.pending_next(request) or request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


def _locked(request, message: str):
    """The lock is on: the pending sign-in is dropped, the person starts over after the cool-off."""
    if request.user.is_authenticated:
        logout(request)
    else:
        signin.pending_clear(request)
    return render(request, "accounts/locked_out.html", {"lockout_message": message}, status=429)


def _page(request, user, *, form=None, passkey_error="", status=200):
    next_url = _next_url(request)
    return render(
        request,
        "accounts/two_factor/verify.html",
        {
            "form": form or CodeForm(),
            "passkey_options": passkeys.authentication_options(request, user=user),
            "has_totp": services.confirmed_totp(user) is not None,
            "next": next_url if request.user.is_authenticated else "",
            "passkey_error": passkey_error,
        },
        status=status,
    )


def _finish(request, user, outcome):
    if outcome.passed:
        next_url = _next_url(request)
        signin.complete(request, user)
        return redirect(next_url)
    if outcome.locked:
        return _locked(request, outcome.message)
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    user = signin.user_to_verify(request)
    if user is None:
        if request.user.is_authenticated:
            return redirect("home")
        messages.info(request, SIGN_IN_AGAIN)
        return redirect("login")
    if services.second_factor_locked_until(user):
        return _locked(request, services.LOCKED.format(minutes=services.cool_off_minutes(request)))
    if request.method == "GET":
        return _page(request, user)
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _page(request, user, form=form, status=400)
    outcome = services.second_factor_verify_code(user=user, code=form.cleaned_data["code"], request=request)
    response = _finish(request, user, outcome)
    if response is not None:
        return response
    form.add_error("code", outcome.message)
    return _page(request, user, form=form, status=400)


@never_cache
@require_POST
def verify_passkey(request):
    user = signin.user_to_verify(request)
    if user is None:
        messages.info(request, SIGN_IN_AGAIN)
        return redirect("login")
    form = PasskeyAssertionForm(request.POST)
    credential = form.cleaned_data["credential"] if form.is_valid() else ""
    outcome = services.second_factor_attempt(
        user=user,
        method=services.METHOD_PASSKEY,
        check=lambda: passkeys.passkey_check(request, user=user, credential_json=credential),
        request=request,
    )
    response = _finish(request, user, outcome)
    if response is not None:
        return response
    return _page(request, user, passkey_error=passkeys.PASSKEY_REFUSED, status=400)


@require_POST
def cancel(request):
    """Give up the second step: back to the password form, nothing signed in."""
    if request.user.is_authenticated and signin.is_unverified(request):
        logout(request)
    signin.pending_clear(request)
    return redirect("login")
