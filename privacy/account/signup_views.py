"""Sign-up pages. Links from emails open a page with a button: GET never changes anything."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from helpdesk.forms import service_error_message
from privacy.account import signup as services
from privacy.account.models import PolicyKind
from privacy.account.signup_forms import (
    SIGNUP_LIMIT_ADDRESS,
    SIGNUP_LIMIT_IP,
    SignupConfirmForm,
    SignupForm,
)
from privacy.audit import events
from privacy.audit.log import client_ip

SESSION_SIGNUP_EMAIL = "signup_email"
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"
CONFIRMED_MESSAGE = _("Your email address is confirmed and you are signed in. Welcome!")


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    try:
        policies = services.policies_current()
    except services.PoliciesMissing as error:
        return render(request, "accounts/signup_closed.html", {"message": str(error)}, status=503)
    form = SignupForm(request.POST or None, policies=policies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        refusal = services.signup_rate_limit(email=data["email"], ip=client_ip(request))
        if refusal is not None:
            events.rate_limit_refused(action="signup", scope=refusal.scope, request=request)
            template = SIGNUP_LIMIT_ADDRESS if refusal.scope == "address" else SIGNUP_LIMIT_IP
            form.add_error(None, template.format(wait=refusal.wait))
            response = render(
                request,
                "accounts/signup.html",
                {"form": form, "policies": policies},
                status=429,
            )
            response["Retry-After"] = str(refusal.retry_after)
            return response
        services.signup_request(
            display_name=data["display_name"],
            email=data["email"],
            password=data["password1"],
            policy_ids=policies.ids,
            request=request,
            age_confirmed=data["age_confirmed"],
        )
        request.session[SESSION_SIGNUP_EMAIL] = data["email"]
        return redirect("signup_sent")
    return render(request, "accounts/signup.html", {"form": form, "policies": policies})


@never_cache
@require_http_methods(["GET"])
def signup_sent(request):
    return render(
        request,
        "accounts/signup_sent.html",
        {"email": request.session.get(SESSION_SIGNUP_EMAIL, ""), "hours": services.confirmation_hours()},
    )


def _link_error(request, error: services.SignupLinkError):
    return render(
        request, "accounts/signup_link_error.html", {"message": service_error_message(error)}, status=400
    )


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def signup_confirm(request, token):
    try:
        pending = services.signup_token_read(token=token, salt=services.CONFIRM_SALT)
    except services.SignupLinkError as error:
        return _link_error(request, error)
    if pending.email_confirmed_at is not None:
        return _link_error(request, services.SignupLinkError(services.ALREADY_CONFIRMED))
    form = SignupConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.signup_confirm(
                token=token, password=form.cleaned_data["password"], ip=client_ip(request), request=request
            )
        except services.SignupLinkError as error:
            return _link_error(request, error)
        except services.SignupPasswordWrong as error:
            form.add_error("password", error.message)
        else:
            login(request, user, backend=LOGIN_BACKEND)
            request.session.pop(SESSION_SIGNUP_EMAIL, None)
            messages.success(request, CONFIRMED_MESSAGE)
            return redirect("home")
    status = 400 if form.is_bound else 200
    return render(request, "accounts/signup_confirm.html", {"pending": pending, "form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def signup_reject(request, token):
    if request.method == "POST":
        try:
            services.signup_reject(token=token, request=request)
        except services.SignupLinkError as error:
            return _link_error(request, error)
        return render(request, "accounts/signup_rejected.html")
    try:
        user = services.signup_token_read(token=token, salt=services.REJECT_SALT)
    except services.SignupLinkError as error:
        return _link_error(request, error)
    if user.email_confirmed_at is not None or user.last_login is not None:
        return _link_error(request, services.SignupLinkError(services.CANNOT_REJECT_CONFIRMED))
    return render(request, "accounts/signup_reject.html", {"pending": user})


@require_http_methods(["GET"])
def policy(request, kind):
    if kind not in PolicyKind.values:
        raise Http404
    version = services.policy_current(kind=kind)
    if version is None:
        raise Http404
    contact = getattr(settings, "PRIVACY_CONTACT_EMAIL", "")
    return render(request, "accounts/policy.html", {"policy": version, "privacy_contact": contact})
