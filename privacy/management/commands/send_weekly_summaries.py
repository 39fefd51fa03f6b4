"""``python manage.py send_weekly_summaries``: send this week's summary to everyone who opted in
and has not had it yet (the same function as the hourly beat task; safe to run again)."""

from django.core.management.base import BaseCommand

from privacy.account.weekly_summary import send_weekly_summaries


class Command(BaseCommand):
    help = "Send this week's summary email to the people who asked for it (once per week)."

    def handle(self, *args, **options):
        self.stdout.write(f"Sent {send_weekly_summaries()} weekly summary email(s).")
