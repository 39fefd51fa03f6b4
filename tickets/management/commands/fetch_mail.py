from django.core.management.base import BaseCommand

from tickets.mail.imap import fetch_all


class Command(BaseCommand):
    help = "Fetch new mail of every active IMAP mailbox once (Celery beat runs this each minute)."

    def handle(self, *args, **options):
        done = fetch_all()
        failed = sum(1 for count in done.values() if count < 0)
        processed = sum(count for count in done.values() if count > 0)
        self.stdout.write(
            f"{len(done)} mailbox(es) fetched, {processed} message(s) processed, {failed} failed."
        )
