"""``python manage.py sweep_exports``: delete the files of expired personal-data exports (the
same function as the hourly beat task)."""

from django.core.management.base import BaseCommand

from privacy.account.export import exports_sweep


class Command(BaseCommand):
    help = "Delete the files of expired personal-data exports."

    def handle(self, *args, **options):
        self.stdout.write(f"Expired {exports_sweep()} export(s).")
