"""``manage.py seal_audit_log``: link the committed, unsealed audit events into their chains now
(the beat task "audit-seal" does it every few seconds; this is for cron without Celery, and for
sealing at once after an outage). Safe to run at any time, also beside the beat task."""

from django.core.management.base import BaseCommand

from privacy.audit.sealer import SEAL_BATCH, seal_pending


class Command(BaseCommand):
    help = "Link the committed, not yet sealed audit events into their chains."

    def add_arguments(self, parser):
        parser.add_argument("--chain", help='Seal only this chain ("account" or "ws:<id>").')
        parser.add_argument("--batch", type=int, default=SEAL_BATCH, help="Rows sealed per transaction.")

    def handle(self, *args, chain=None, batch=SEAL_BATCH, **options):
        # One pass over the chains with pending rows, each sealed to its end as seen then (under
        # constant writing a later pass would never find nothing left).
        result = seal_pending(chain=chain, batch=batch, max_batches=1_000_000)
        self.stdout.write(f"Sealed {result.sealed:,} audit events in {result.chains:,} chains.")
