"""``python manage.py detect_sla_breaches``: record and email the service-level targets that
passed (the same function as the beat task that runs each minute; safe to run again or twice at
once: each breach is recorded and emailed once)."""

from django.core.management.base import BaseCommand

from tickets.sla import breaches_detect


class Command(BaseCommand):
    help = "Record the tickets whose service-level target passed and email the people who answer them."

    def handle(self, *args, **options):
        self.stdout.write(f"Recorded {breaches_detect()} breach(es).")
