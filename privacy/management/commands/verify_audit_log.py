"""``manage.py verify_audit_log``: recompute every audit chain and name the first broken link
(privacy/audit/verify.py does the work). Exits with status 1 when any chain is broken.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from privacy.audit.verify import verify_audit_chains

BROKEN_SUMMARY = "{count} audit chain(s) broken."
# Rows wait for the sealer a few seconds; far older ones mean it is not running (not a break).
STALE_PENDING_SECONDS = 300


class Command(BaseCommand):
    help = "Recompute every audit chain's hashes and report the first broken link of each chain."

    def add_arguments(self, parser):
        parser.add_argument("--chain", help='Verify only this chain ("account" or "ws:<id>").')
        parser.add_argument("--chunk-size", type=int, default=5000, help="Rows fetched per round trip.")

    def handle(self, *args, chain=None, chunk_size=5000, **options):
        result = verify_audit_chains(chain=chain, chunk_size=chunk_size)
        for problem in result.breaks:
            self.stderr.write(f"BROKEN {problem}")
        self.stdout.write(
            f"Verified {result.rows:,} events in {result.chains:,} chains in {result.seconds:.2f}s "
            f"({result.rate:,.0f} rows/s)."
        )
        if result.pending:
            age = (timezone.now() - result.oldest_pending).total_seconds()
            self.stdout.write(
                f"{result.pending:,} of them not yet sealed (checked against their own content hash; "
                f"the oldest written {age:,.0f}s ago)."
            )
            if age > STALE_PENDING_SECONDS:
                self.stderr.write(
                    "WARNING: events wait for sealing for longer than a few seconds: is the beat task "
                    '"audit-seal" running? `manage.py seal_audit_log` seals them now.'
                )
        if not result.ok:
            raise CommandError(BROKEN_SUMMARY.format(count=len(result.breaks)))
        self.stdout.write(self.style.SUCCESS("All audit chains are intact."))
