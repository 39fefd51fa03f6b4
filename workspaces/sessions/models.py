from django.conf import settings
from django.db import models
from django.utils import timezone


class UserSession(models.Model):
    """One browser a person is signed in on.

    Never the session key itself: ``key_hash`` (SHA-256 of the key) finds the row of the
    current request and ``sealed_key`` (the key encrypted under a key derived from
    ``SECRET_KEY``, workspaces/sessions/keys.py) is opened only to ask the session store
    whether that session still lives and to delete it when the person signs it out. Never
    the full address either: ``network`` is the IPv4 /24 or IPv6 /48 the address belongs to.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True)
    sealed_key = models.CharField(max_length=255)
    network = models.CharField(max_length=49, blank=True)
    device = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="usersession_user_seen")]

    def __str__(self):
        return f"{self.device or 'Unknown device'} ({self.network or 'unknown network'})"
