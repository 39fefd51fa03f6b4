"""/account/policies/accept/: the first-use gate (privacy/account/policy_moments.py)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from privacy.account import policies, policy_moments


class FirstAcceptForm(forms.Form):
    accept = forms.BooleanField(
        label=gettext_lazy("I have read and accept the terms of service and the privacy policy"),
        error_messages={"required": policy_moments.ACCEPT_REQUIRED},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


def _safe_next(value: str) -> str | None:
    return value if value.startswith("/") and not value.startswith("//") else None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def policies_accept(request):
    form = FirstAcceptForm(
        request.POST if request.method == "POST" else None, initial={"next": request.GET.get("next", "")}
    )
    if request.method == "POST" and form.is_valid():
        policy_moments.policies_accept_first(user=request.user, request=request)
        policy_moments.gate_clear(request)
        policies.policy_notice_refresh(request)
        messages.success(request, _("Thank you. You can start now."))
        return redirect(_safe_next(form.cleaned_data["next"]) or "home")
    # The page itself asks for the acceptance: the "we updated our policies" notice would repeat it.
    context = {"form": form, "versions": policies.policies_current(), "policy_notice": None}
    return render(
        request, "privacy/account_policies_accept.html", context, status=400 if form.errors else 200
    )
