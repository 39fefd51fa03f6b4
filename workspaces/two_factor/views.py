"""/account/two-factor/: a person sets up, lists and removes their second factors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from workspaces.two_factor import passkeys, services
from workspaces.two_factor.forms import PasskeyAddForm, PasskeyNameForm, ReauthForm, SetupCodeForm

TOTP_ADDED = _("Your authenticator app is set up. From now on, signing in asks for a code from it.")
TOTP_REMOVED = _("The authenticator app was removed.")
PASSKEY_ADDED = _("Passkey “{name}” added.")
PASSKEY_REMOVED = _("The passkey was removed.")
PASSKEY_RENAMED = _("Passkey renamed to “{name}”.")
NEEDS_FACTOR_FOR_CODES = _("Set up an authenticator app or a passkey first; recovery codes stand in for one.")
PASSKEY_NEEDS_BROWSER = _(
    "Your browser did not create a passkey. Use the “Create passkey” button, with JavaScript on."
)


def _manage(request, *, status=200, reauth_form=None, reauth_target=""):
    summary = services.factor_summary(request.user)
    return render(
        request,
        "accounts/two_factor/manage.html",
        {
            "summary": summary,
            "reauth_form": reauth_form or ReauthForm(),
            "reauth_target": reauth_target,
        },
        status=status,
    )


def _codes(request, codes: list[str], *, title: str):
    return render(request, "accounts/two_factor/recovery_codes.html", {"codes": codes, "title": title})


@login_required
@never_cache
@require_GET
def manage(request):
    return _manage(request)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def totp_setup(request):
    form = SetupCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_setup_confirm(
                user=request.user, code=form.cleaned_data["code"], request=request
            )
        except services.TwoFactorError as error:
            form.add_error("code", str(error))
        else:
            messages.success(request, TOTP_ADDED)
            if codes:
                return _codes(request, codes, title="Authenticator app added: save your recovery codes")
            return redirect("two_factor_manage")
    device = services.totp_pending(request.user)
    if device is None:
        try:
            device = services.totp_setup_begin(user=request.user)
        except services.TwoFactorError as error:
            messages.info(request, str(error))
            return redirect("two_factor_manage")
    return render(
        request,
        "accounts/two_factor/totp_setup.html",
        {
            "form": form,
            "qr_data_uri": services.totp_qr_data_uri(device),
            "secret": services.totp_secret_text(device),
        },
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_POST
def recovery_codes_regenerate(request):
    if not services.user_has_factor(request.user):
        messages.error(request, NEEDS_FACTOR_FOR_CODES)
        return redirect("two_factor_manage")
    codes = services.recovery_codes_generate(user=request.user, request=request)
    return _codes(request, codes, title="Your new recovery codes")


@login_required
@never_cache
@require_POST
def totp_remove(request):
    form = ReauthForm(request.POST)
    if form.is_valid():
        try:
            services.totp_remove(user=request.user, secret=form.cleaned_data["secret"], request=request)
        except services.TwoFactorError as error:
            form.add_error("secret", str(error))
        else:
            messages.success(request, TOTP_REMOVED)
            return redirect("two_factor_manage")
    return _manage(request, status=400, reauth_form=form, reauth_target="totp")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def passkey_add(request):
    form = PasskeyAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credential = form.cleaned_data["credential"]
        if not credential:
            form.add_error(None, PASSKEY_NEEDS_BROWSER)
        else:
            try:
                passkey = passkeys.passkey_register(
                    request, user=request.user, name=form.cleaned_data["name"], credential_json=credential
                )
            except services.TwoFactorError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, PASSKEY_ADDED.format(name=passkey.name))
                if services.recovery_codes_left(request.user) == 0:
                    codes = services.recovery_codes_generate(user=request.user, request=request)
                    return _codes(request, codes, title="Passkey added: save your recovery codes")
                return redirect("two_factor_manage")
    return render(
        request,
        "accounts/two_factor/passkey_add.html",
        {"form": form, "passkey_options": passkeys.registration_options(request, user=request.user)},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@require_POST
def passkey_remove(request, passkey_id: int):
    services.own_passkey_or_404(user=request.user, passkey_id=passkey_id)
    form = ReauthForm(request.POST)
    if form.is_valid():
        try:
            services.passkey_remove(
                user=request.user, passkey_id=passkey_id, secret=form.cleaned_data["secret"], request=request
            )
        except services.TwoFactorError as error:
            form.add_error("secret", str(error))
        else:
            messages.success(request, PASSKEY_REMOVED)
            return redirect("two_factor_manage")
    return _manage(request, status=400, reauth_form=form, reauth_target=f"passkey-{passkey_id}")


@login_required
@require_POST
def passkey_rename(request, passkey_id: int):
    services.own_passkey_or_404(user=request.user, passkey_id=passkey_id)
    form = PasskeyNameForm(request.POST)
    if form.is_valid():
        try:
            passkey = services.passkey_rename(
                user=request.user, passkey_id=passkey_id, name=form.cleaned_data["name"]
            )
        except services.TwoFactorError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, PASSKEY_RENAMED.format(name=passkey.name))
    else:
        messages.error(request, _("A passkey needs a name of at most 60 characters."))
    return redirect("two_factor_manage")
