"""``python manage.py send_notification_digests``: send the hourly digest to everyone with
queued ticket emails (the same function as the hourly beat task; safe to run again or twice at
once: each queued email is sent once)."""

from django.core.management.base import BaseCommand

from privacy.account.notification_digest import send_notification_digests


class Command(BaseCommand):
    help = "Send one digest email per person of their queued ticket emails (hourly digest)."

    def handle(self, *args, **options):
        self.stdout.write(f"Sent {send_notification_digests()} digest email(s).")
