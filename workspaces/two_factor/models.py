"""The second factors a person holds besides TOTP (django-otp's ``otp_totp.TOTPDevice``).

Gathered into ``workspaces.models`` so Django finds them; the personal data they hold is
declared in workspaces/personal_data.py.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class RecoveryCode(models.Model):
    """One single-use recovery code. Only its hash is kept: the person saw the code once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")]

    def __str__(self):
        return f"Recovery code {self.pk} of user {self.user_id}"


class Passkey(models.Model):
    """A WebAuthn credential registered as a second factor."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    credential_id = models.BinaryField(max_length=1023, unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name


class SecondFactorLock(models.Model):
    """Failed second-step attempts of one person, and the lock they lead to.

    Kept in the database, not the session, so starting over in a new browser (or sending
    guesses in parallel) cannot reset the count.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    failures = models.PositiveSmallIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Second-factor failures of user {self.user_id}"
