"""Single sign-on pages: the admins' settings page (``/w/<slug>/admin/sso/``), the "which
workspace?" page linked from sign-in (``/accounts/sso/``), and the flow itself
(``/accounts/sso/<slug>/login/`` and ``/accounts/sso/<slug>/callback/``).

The flow pages are reached signed out, so they take the slug, not a membership: a workspace that
does not exist and one without single sign-on switched on answer the same 404.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.forms import apply_service_errors
from helpdesk.middleware import CONTENT_SECURITY_POLICY
from workspaces import sso
from workspaces.access import ADMIN_ONLY, workspace_view
from workspaces.sso_forms import SLUG_UNKNOWN, SSOSettingsForm, SSOWorkspaceForm

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"
SETTINGS_SAVED = _("Single sign-on settings saved.")
WELCOME_CREATED = _("Welcome to {workspace}. Your account was created from your single sign-on.")


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_sso(request, membership):
    workspace = membership.workspace
    config = sso.sso_config_of(workspace=workspace)
    initial = {}
    if config is not None:
        initial = {
            "enabled": config.enabled,
            "discovery_url": config.discovery_url,
            "client_id": config.client_id,
            "allow_jit": config.allow_jit,
        }
    form = SSOSettingsForm(request.POST or None, initial=initial, has_secret=config is not None)
    if request.method == "POST" and form.is_valid():
        try:
            sso.sso_config_save(workspace=workspace, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, SETTINGS_SAVED)
            return redirect("admin_sso", slug=workspace.slug)
    callback = request.build_absolute_uri(reverse("sso_callback", args=[workspace.slug]))
    return render(
        request,
        "workspaces/admin_sso.html",
        {
            "membership": membership,
            "form": form,
            "config": config,
            "callback_url": callback,
            "login_url": request.build_absolute_uri(reverse("sso_login", args=[workspace.slug])),
            "admin_tab": "sso",
        },
    )


@require_GET
def sso_start(request):
    """Asks for the workspace address, then sends the browser to that workspace's sign-in."""
    form = SSOWorkspaceForm(request.GET if "workspace" in request.GET else None)
    if form.is_valid():
        slug = form.cleaned_data["workspace"]
        if sso.sso_available(slug=slug):
            url = reverse("sso_login", args=[slug])
            next_url = request.GET.get("next", "")
            return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url.startswith("/") else url)
        form.add_error("workspace", SLUG_UNKNOWN)
    response = render(request, "accounts/sso_start.html", {"form": form, "next": request.GET.get("next", "")})
    # Browsers apply form-action to every redirect after a submission, and this form's answer
    # ends at the workspace's provider, an origin known only once the address is typed.
    schemes = "https: http:" if settings.SSO_ALLOW_HTTP else "https:"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {schemes}"
    )
    return response


@never_cache
@require_GET
def sso_login(request, slug):
    config = sso.sso_config_enabled_or_404(slug=slug)
    redirect_uri = request.build_absolute_uri(reverse("sso_callback", args=[slug]))
    try:
        return sso.sso_begin(
            request=request, config=config, redirect_uri=redirect_uri, next_url=request.GET.get("next", "")
        )
    except sso.SSORefused as refused:
        return _refused(request, config, refused)


@never_cache
@require_GET
def sso_callback(request, slug):
    config = sso.sso_config_enabled_or_404(slug=slug)
    try:
        result = sso.sso_complete(request=request, config=config)
    except sso.SSORefused as refused:
        return _refused(request, config, refused)
    next_url = sso.sso_next_url(request=request, config=config)
    # The same sign-in as a password one: the session key rotates, ``auth.login`` is audited and
    # any second-factor check that follows a sign-in still applies.
    login(request, result.user, backend=LOGIN_BACKEND)
    sso.sso_signed_in(request=request, config=config, user=result.user)
    if result.created:
        messages.success(request, WELCOME_CREATED.format(workspace=config.workspace.name))
    return redirect(next_url or reverse("workspace_home", args=[slug]))


def _refused(request, config, refused: sso.SSORefused):
    status = 400 if refused.reason == sso.REASON_STATE else 403
    return render(
        request,
        "workspaces/sso_refused.html",
        {"workspace": config.workspace, "message": refused.message, "reason": refused.reason},
        status=status,
    )
