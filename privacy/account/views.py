"""The account self-service page (/account/) and its actions.

One page shows everything; each section posts to its own URL, which validates, calls one
service and redirects back (or re-renders the page with that form's errors, keeping the rest).
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import apply_service_errors, service_error_message
from helpdesk.storage import is_s3, presigned_download_url
from privacy.account import consents as consent_services
from privacy.account import erasure as erasure_services
from privacy.account import export as export_services
from privacy.account import policies as policy_services
from privacy.account import profile as profile_services
from privacy.account.forms import (
    ConsentsForm,
    DeleteAccountForm,
    EmailChangeForm,
    NotificationsForm,
    PolicyPublishForm,
    ProfileForm,
)
from privacy.audit import events
from privacy.audit.log import client_ip
from workspaces import selectors as workspace_selectors

PROFILE_SAVED = "Your profile was saved."
NOTHING_CHANGED = "Nothing changed."
EMAIL_SENT = "We sent a confirmation link to {email}. Your address changes when you open it."
EMAIL_CANCELLED = "The email change was cancelled."
EMAIL_CHANGED = "Your email address is now {email}."
NOTIFICATIONS_SAVED = "Your notification choices were saved."
CONSENTS_SAVED = "Your choices were saved. They apply from now on."
EXPORT_QUEUED = "Your export is being prepared. It appears below when it is ready."
EXPORT_READY = "Your export is ready to download below."
POLICIES_ACCEPTED = "Thank you. Your acceptance was recorded."
POLICY_PUBLISHED = "{policy} was published. People see a notice from their next page."
DELETION_SCHEDULED_SESSION = "privacy_deletion_scheduled_for"
EMAIL_LIMIT_ADDRESS = (
    "We already sent several emails to this address in the last hour. Look for them in its inbox "
    "and spam folder, or try again {wait}."
)
EMAIL_LIMIT_OTHER = "You asked for many email changes in a short time. Try again {wait}."
EXPORT_LIMITED = "You asked for many exports in a short time. Try again {wait}."


def _account_url(anchor: str = "") -> str:
    return reverse("account") + (f"#{anchor}" if anchor else "")


def _page_context(request, **bound):
    user = request.user
    prefs = profile_services.preferences_of(user)
    current_consents = consent_services.consents_current(user)
    return {
        "profile_form": bound.get("profile_form")
        or ProfileForm(
            initial={
                "display_name": user.display_name,
                "language": user.language or "en",
                "time_zone": user.time_zone or "UTC",
            }
        ),
        "email_form": bound.get("email_form") or EmailChangeForm(user=user),
        "pending_email": profile_services.email_change_pending(user),
        "notifications_form": bound.get("notifications_form")
        or NotificationsForm(
            initial={
                **{name: getattr(prefs, name) for name in profile_services.PREFERENCE_FIELDS},
                profile_services.DELIVERY_FIELD: prefs.email_delivery,
            }
        ),
        "consents_form": bound.get("consents_form") or ConsentsForm(initial=current_consents),
        "consent_history": consent_services.consent_history(user, limit=5),
        "exports": export_services.exports_of(user, limit=5),
        "export_days": export_services.export_days(),
        "delete_form": bound.get("delete_form") or DeleteAccountForm(user=user),
        "deletion_blockers": erasure_services.deletion_blockers(user),
        "grace_days": erasure_services.grace_days(),
        "policies_current": policy_services.policies_current(),
        "policies_accepted": policy_services.policy_history(user),
        "memberships": workspace_selectors.memberships_of(user=user),
        "now": timezone.now(),
    }


def _render_page(request, status=200, **bound):
    return render(request, "accounts/account.html", _page_context(request, **bound), status=status)


@never_cache
@login_required
@require_GET
def account_page(request):
    return _render_page(request)


@login_required
@require_POST
def profile_save(request):
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _render_page(request, status=400, profile_form=form)
    try:
        changed = profile_services.profile_update(user=request.user, request=request, **form.cleaned_data)
    except ValidationError as error:
        apply_service_errors(form, error)
        return _render_page(request, status=400, profile_form=form)
    messages.success(request, PROFILE_SAVED if changed else NOTHING_CHANGED)
    return redirect(_account_url("profile"))


@sensitive_post_parameters("email-password")
@login_required
@require_POST
def email_change(request):
    form = EmailChangeForm(request.POST, user=request.user)
    if form.is_valid():
        refusal = profile_services.email_change_rate_limit(
            user=request.user, new_email=form.cleaned_data["new_email"], ip=client_ip(request)
        )
        if refusal is not None:
            events.rate_limit_refused(action="email_change", scope=refusal.scope, request=request)
            template = EMAIL_LIMIT_ADDRESS if refusal.scope == "address" else EMAIL_LIMIT_OTHER
            form.add_error(None, template.format(wait=refusal.wait))
            response = _render_page(request, status=429, email_form=form)
            response["Retry-After"] = str(refusal.retry_after)
            return response
        try:
            change = profile_services.email_change_request(
                user=request.user, new_email=form.cleaned_data["new_email"], request=request
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, EMAIL_SENT.format(email=change.new_email))
            return redirect(_account_url("email"))
    return _render_page(request, status=400, email_form=form)


@login_required
@require_POST
def email_change_cancel(request):
    profile_services.email_change_cancel(user=request.user, request=request)
    messages.success(request, EMAIL_CANCELLED)
    return redirect(_account_url("email"))


@never_cache
@require_http_methods(["GET", "POST"])
def email_change_confirm(request, token: str):
    """The link from the email opens a page with a button: GET never changes anything."""
    try:
        change = profile_services.email_change_for_token(token)
        if request.method == "POST":
            user = profile_services.email_change_confirm(token=token, request=request)
            messages.success(request, EMAIL_CHANGED.format(email=user.email))
            return redirect(_account_url("email") if request.user.is_authenticated else reverse("login"))
    except profile_services.EmailChangeError as error:
        return render(
            request, "privacy/account_email_confirm.html", {"error": service_error_message(error)}, status=400
        )
    return render(request, "privacy/account_email_confirm.html", {"change": change})


@login_required
@require_POST
def notifications_save(request):
    form = NotificationsForm(request.POST)
    if not form.is_valid():  # an unknown delivery choice; the checkboxes are always valid
        return _render_page(request, status=400, notifications_form=form)
    changed = profile_services.preferences_update(
        user=request.user, values=form.cleaned_data, request=request
    )
    messages.success(request, NOTIFICATIONS_SAVED if changed else NOTHING_CHANGED)
    return redirect(_account_url("notifications"))


@login_required
@require_POST
def consents_save(request):
    form = ConsentsForm(request.POST)
    if not form.is_valid():  # pragma: no cover - checkboxes are always valid
        return _render_page(request, status=400, consents_form=form)
    changed = consent_services.consents_set(user=request.user, answers=form.cleaned_data, request=request)
    messages.success(request, CONSENTS_SAVED if changed else NOTHING_CHANGED)
    return redirect(_account_url("consents"))


@login_required
@require_POST
def export_create(request):
    refusal = export_services.export_rate_limit(user=request.user, ip=client_ip(request))
    if refusal is not None:
        events.rate_limit_refused(action="export", scope=refusal.scope, request=request)
        messages.warning(request, EXPORT_LIMITED.format(wait=refusal.wait))
        response = _render_page(request, status=429)
        response["Retry-After"] = str(refusal.retry_after)
        return response
    try:
        export = export_services.export_request(user=request.user, request=request)
    except export_services.ExportError as error:
        messages.warning(request, service_error_message(error))
    else:
        export.refresh_from_db()
        messages.success(request, EXPORT_READY if export.status == "ready" else EXPORT_QUEUED)
    return redirect(_account_url("export"))


@login_required
@require_GET
def export_download(request, export_id: int):
    """The owner's archive; anyone else's (or a missing one) is a 404. Audits
    ``export.downloaded``. On S3 the browser is sent to a short-lived presigned link."""
    try:
        export = export_services.export_for_download(user=request.user, export_id=export_id)
    except export_services.ExportError as error:
        return render(
            request, "privacy/account_export_gone.html", {"message": service_error_message(error)}, status=410
        )
    filename = f"helpdesk-data-{export.created_at:%Y-%m-%d}.zip"
    export_services.export_record_download(export=export, request=request)
    storage = export.file.storage
    if is_s3(storage):
        url = presigned_download_url(
            storage=storage,
            name=export.file.name,
            content_type="application/zip",
            disposition=f'attachment; filename="{filename}"',
        )
        return HttpResponseRedirect(url)
    response = FileResponse(storage.open(export.file.name, "rb"), as_attachment=True, filename=filename)
    response["Content-Type"] = "application/zip"
    response["Cache-Control"] = "private, no-store"
    return response


@sensitive_post_parameters("delete-password")
@login_required
@require_POST
def account_delete(request):
    form = DeleteAccountForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_page(request, status=400, delete_form=form)
    try:
        erasure = erasure_services.erasure_request(user=request.user, request=request)
    except ValidationError as error:
        apply_service_errors(form, error)
        return _render_page(request, status=400, delete_form=form)
    logout(request)
    request.session[DELETION_SCHEDULED_SESSION] = erasure.scheduled_for.isoformat()
    return redirect("account_deleted")


@never_cache
@require_GET
def account_deleted(request):
    from django.utils.dateparse import parse_datetime

    when = request.session.get(DELETION_SCHEDULED_SESSION)
    scheduled_for = parse_datetime(when) if when else None
    return render(
        request,
        "privacy/account_deleted.html",
        {
            "scheduled_for": scheduled_for,
            "immediate": scheduled_for is not None and scheduled_for <= timezone.now(),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def policies_review(request):
    pending = policy_services.policy_notice_for(request)
    if request.method == "POST":
        ids = [p["id"] for p in pending]
        policy_services.policy_accept(user=request.user, policy_ids=ids, request=request)
        policy_services.policy_notice_refresh(request)
        messages.success(request, POLICIES_ACCEPTED)
        next_url = request.POST.get("next") or ""
        if next_url.startswith("/") and not next_url.startswith("//"):
            return redirect(next_url)
        return redirect("account")
    versions = policy_services.policy_versions(ids=[p["id"] for p in pending])
    return render(request, "privacy/account_policies_review.html", {"versions": versions, "pending": pending})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def policies_admin(request):
    """Site staff publish policy versions. Anyone else gets a 404."""
    if not request.user.is_staff:
        raise Http404("Not found.")
    form = PolicyPublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = policy_services.policy_publish(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, POLICY_PUBLISHED.format(policy=policy))
            return redirect("account_policies")
    versions = policy_services.policy_versions_recent(limit=50)
    return render(
        request,
        "privacy/account_policies_admin.html",
        {"form": form, "versions": versions},
        status=400 if form.is_bound and form.errors else 200,
    )
