"""Signing in to an account that waits for its erasure cancels the erasure.

A deactivated account is refused by Django's ``ModelBackend`` (``is_active`` is False), so this
backend, listed after it in AUTHENTICATION_BACKENDS, handles exactly one case: the password is
right, the account is inactive only because its deletion is scheduled, and the grace period has
not ended. It then cancels the deletion (``erasure_cancel``: reactivates the account, audits
``account.deletion_cancelled``) and returns the user, so the ordinary login continues and the
person is told what happened. Every other inactive account stays refused.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.account.erasure import erasure_cancel
from privacy.account.models import ErasureRequest, ErasureState

DELETION_CANCELLED = _("Welcome back. Your account deletion was cancelled and your account is active again.")


class PendingErasureBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or not password:
            return None
        user = User.objects.filter(
            email__iexact=User.objects.normalize_email(username), is_active=False
        ).first()
        if user is None:
            return None
        waiting = ErasureRequest.objects.filter(
            user_id=user.pk, state=ErasureState.SCHEDULED, scheduled_for__gt=timezone.now()
        ).exists()
        if not waiting or not user.check_password(password):
            return None
        if erasure_cancel(user=user, request=request) is None:
            return None
        if request is not None and hasattr(request, "_messages"):
            messages.success(request, DELETION_CANCELLED)
        return user
