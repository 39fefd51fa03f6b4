from django.core.management.base import BaseCommand

from privacy.account.signup import signups_purge


class Command(BaseCommand):
    help = (
        "Delete self-service sign-ups that were never confirmed and never used within "
        "SIGNUP_CONFIRMATION_HOURS. Celery beat runs the same every hour."
    )

    def handle(self, *args, **options):
        count = signups_purge()
        self.stdout.write(f"Deleted {count} unconfirmed sign-up{'' if count == 1 else 's'}.")
