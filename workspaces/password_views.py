"""Django's password views, with each change written to the audit log in the same transaction.

Django sends no signal for password changes, so the views record them. Nothing about the
password or the reset token goes into an event.
"""

from axes.utils import reset as axes_reset
from django.contrib.auth import views as auth_views
from django.db import transaction

from privacy.audit import actions as audit_actions
from privacy.audit.log import audit_record


class AuditedPasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                action=audit_actions.AUTH_PASSWORD_CHANGED,
                request=self.request,
                actor=form.user,
                target=form.user,
            )
        return response


class AuditedPasswordResetView(auth_views.PasswordResetView):
    """Records ``auth.password_reset_requested`` for every request, known address or not; for an
    unknown address without any address, so the log never holds addresses typed by strangers."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        target = next(iter(form.get_users(email)), None)
        with transaction.atomic():
            audit_record(
                action=audit_actions.AUTH_PASSWORD_RESET_REQUESTED,
                request=self.request,
                actor=None,
                target=target,
                detail={} if target else {"known_account": False},
            )
        return super().form_valid(form)


class AuditedPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                action=audit_actions.AUTH_PASSWORD_RESET_DONE,
                request=self.request,
                actor=form.user,
                target=form.user,
            )
        # Whoever proves they own the address may sign in again at once.
        axes_reset(username=form.user.email)
        return response
