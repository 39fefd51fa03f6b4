"""Recompute the reports' figures (tickets/reports.py) from the tickets, in batches.

The ticket services keep the figures current; this rebuilds them after data was loaded or
changed outside the services (an import, a bulk load, a repair by hand)."""

from django.core.management.base import BaseCommand, CommandError

from tickets.reports import BACKFILL_BATCH, backfill
from workspaces.models import Workspace


class Command(BaseCommand):
    help = "Recompute the reports dashboard's figures from the tickets (all workspaces, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="slug of one workspace (default: every workspace)")
        parser.add_argument("--batch", type=int, default=BACKFILL_BATCH, help="tickets per transaction")

    def handle(self, *args, workspace=None, batch=BACKFILL_BATCH, **options):
        workspace_id = None
        if workspace:
            workspace_id = (
                Workspace.objects.filter(slug=workspace.lower()).values_list("pk", flat=True).first()
            )
            if workspace_id is None:
                raise CommandError(f"No workspace with the address {workspace!r}.")
        done = backfill(
            workspace_id=workspace_id,
            batch=batch,
            log=self.stdout.write if options["verbosity"] > 1 else None,
        )
        self.stdout.write(f"Figures rebuilt from {done} tickets.")
