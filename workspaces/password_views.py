"""Django's password views, with each change written to the audit log in the same transaction.

Django sends no signal for password changes, so the views record them. Nothing about the
password or the reset token goes into an event.
"""

from axes.utils import reset as axes_reset
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.urls import reverse

from helpdesk import outbound
from privacy.audit import events
from workspaces.sessions import services as session_services


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
        context = {**context, "reset_url": f"{context['protocol']}://{context['domain']}{path}"}
        # The user is the one Django chose for ``to_email``; a reset is always sent.
        outbound.send(context["user"], "password_reset", context, kind=outbound.SECURITY)


class AuditedPasswordResetView(auth_views.PasswordResetView):
    """Records ``auth.password_reset_requested`` for every request, known address or not; for an
    unknown address without any address, so the log never holds addresses typed by strangers."""

    template_name = "accounts/password_reset.html"
    form_class = OutboundPasswordResetForm

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        target = next(iter(form.get_users(email)), None)
        with transaction.atomic():
            events.auth_password_reset_requested(account=target, request=self.request)
        return super().form_valid(form)


class AuditedPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            events.auth_password_reset_done(user=form.user, request=self.request)
            session_services.sessions_after_password_reset(request=self.request, user=form.user)
        # Whoever proves they own the address may sign in again at once.
        axes_reset(username=form.user.email)
        return response
