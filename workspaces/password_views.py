"""Django's password views, with each change written to the audit log in the same transaction.

Django sends no signal for password changes, so the views record them. Nothing about the
password or the reset token goes into an event.

A reset also works for an unconfirmed sign-up (Django's form skips inactive accounts): whoever
signed up may not own the address, so the mailbox's owner must be able to take the account over.
Setting the password then confirms the address (``signals.pending_signup_claimed``).
Reset emails are rate limited per address and per network address (``RATE_LIMITS``).
"""

import unicodedata

from axes.utils import reset as axes_reset
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from helpdesk import outbound, ratelimit
from privacy.audit import events
from privacy.audit.log import client_ip
from workspaces import selectors
from workspaces.sessions import services as session_services
from workspaces.signals import pending_signup_claimed

RESET_LIMIT_ADDRESS = _(
    "Several password resets were asked for this address in the last hour. If an account uses "
    "it, the links are in its inbox or spam folder. Or try again {wait}."
)
RESET_LIMIT_IP = _("Too many password resets were asked for from your network address. Try again {wait}.")


def _same_address(a: str, b: str) -> bool:
    # As Django's own reset form compares: Unicode-aware, case-insensitive.
    return unicodedata.normalize("NFKC", a).casefold() == unicodedata.normalize("NFKC", b).casefold()


class AuditedPasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"

    def form_valid(self, form):
        key_before = self.request.session.session_key  # cycled by update_session_auth_hash
        with transaction.atomic():
            response = super().form_valid(form)
            events.auth_password_changed(user=form.user, request=self.request)
            session_services.sessions_after_password_change(
                request=self.request, user=form.user, key_before=key_before
            )
        return response


class OutboundPasswordResetForm(PasswordResetForm):
    """Sends the reset link through ``helpdesk.outbound`` (text and HTML parts, one log format)
    instead of Django's own mailer; the template names Django passes in are not used."""

    def get_users(self, email):
        """Active accounts, as Django's form, and also unconfirmed sign-ups (see the module doc)."""
        return (
            user
            for user in selectors.password_reset_candidates(email=email)
            if (user.is_active or user.is_pending_signup)
            and user.has_usable_password()
            and _same_address(email, user.email)
        )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        path = reverse("password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        context = {
            **context,
            "reset_url": f"{context['protocol']}://{context['domain']}{path}",
            "pending_signup": context["user"].is_pending_signup,
        }
        # The user is the one Django chose for ``to_email``; a reset is always sent.
        outbound.send(context["user"], "password_reset", context, kind=outbound.SECURITY)


class AuditedPasswordResetView(auth_views.PasswordResetView):
    """Records ``auth.password_reset_requested`` for every request, known address or not; for an
    unknown address without any address, so the log never holds addresses typed by strangers."""

    template_name = "accounts/password_reset.html"
    form_class = OutboundPasswordResetForm

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        # Counted for every address, known or not, so the answer reveals nothing.
        refusal = ratelimit.ratelimit_hit("password_reset", address=email, ip=client_ip(self.request))
        if refusal is not None:
            events.rate_limit_refused(action="password_reset", scope=refusal.scope, request=self.request)
            template = RESET_LIMIT_ADDRESS if refusal.scope == "address" else RESET_LIMIT_IP
            form.add_error(None, template.format(wait=refusal.wait))
            response = render(
                self.request,
                self.template_name,
                self.get_context_data(form=form),
                status=429,
            )
            response["Retry-After"] = str(refusal.retry_after)
            return response
        target = next(iter(form.get_users(email)), None)
        with transaction.atomic():
            events.auth_password_reset_requested(account=target, request=self.request)
        return super().form_valid(form)


class AuditedPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form):
        was_pending = form.user.is_pending_signup
        with transaction.atomic():
            response = super().form_valid(form)
            events.auth_password_reset_done(user=form.user, request=self.request)
            if was_pending:
                pending_signup_claimed.send(sender=type(self), user=form.user, request=self.request)
            session_services.sessions_after_password_reset(request=self.request, user=form.user)
        # Whoever proves they own the address may sign in again at once.
        axes_reset(username=form.user.email)
        return response
