import sys

from django.core.management.base import BaseCommand, CommandError

from tickets.mail.ingest import ingest_email
from tickets.mail.models import Mailbox


class Command(BaseCommand):
    help = "Turn one email on standard input into a ticket or reply: ingest_email --mailbox ADDRESS < x.eml"

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", required=True, help="The support address the message was sent to.")

    def handle(self, *args, **options):
        mailbox = (
            Mailbox.objects.select_related("workspace", "queue")
            .filter(address=options["mailbox"].strip().lower(), is_active=True)
            .first()
        )
        if mailbox is None:
            raise CommandError("No active mailbox has this address.")
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("Nothing on standard input: pipe the message in (< message.eml).")
        row = ingest_email(mailbox=mailbox, raw=raw)
        if getattr(row, "duplicate", False):
            self.stdout.write("Already processed: nothing done.")
            return
        number = f" #{row.ticket.number}" if row.ticket_id else ""
        reason = f": {row.reason}" if row.reason else ""
        self.stdout.write(f"{row.get_outcome_display()}{number}{reason}")
        if row.outcome == "rejected":
            # Non-zero for a refusal, so a mail server's pipe can bounce it.
            sys.exit(2)
