"""``python manage.py enforce_retention``: run (or continue) the retention sweep, the same
function as the daily beat task. ``--dry-run`` prints what the next run does, per workspace and
kind (``--json`` for machines); it is the same computation as the retention page's preview."""

import json as json_module
import os
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from privacy.personal_data.retention_kinds import retention_kinds
from privacy.retention.account_kinds import account_kinds
from privacy.retention.policies import preview
from privacy.retention.sweep import DEFAULT_BATCH, retention_sweep, run_account_counts, run_counts

BAD_NOW = "--now takes an ISO 8601 date and time with a time zone, e.g. 2026-01-31T00:00:00+00:00."
# Tests set this to make each batch slow enough to be killed before it commits.
PAUSE_ENV = "RETENTION_BATCH_PAUSE"


def parse_now(value: str | None):
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(BAD_NOW) from None
    if moment.tzinfo is None:
        raise CommandError(BAD_NOW)
    return moment


def preview_text(result: dict) -> str:
    lines = [f"Retention as of {result['as_of']}"]
    for workspace in result["workspaces"]:
        lines.append(f"{workspace['slug']}:")
        for kind in retention_kinds():
            counts = workspace["kinds"][kind.name]
            lines.append(
                f"  {kind.label:<28} {counts['due']:>8} due {counts['spared']:>6} spared (legal holds)"
            )
    lines.append("installation (periods set by the operator):")
    for kind in account_kinds():
        counts = result["account"][kind.name]
        period = "forever" if counts["days"] is None else f"{counts['days']} days"
        lines.append(
            f"  {str(kind.label):<34} {counts['due']:>8} due {counts['spared']:>6} spared  (kept {period})"
        )
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Anonymize or delete data past its workspace's retention period (legal holds excepted)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only print what the next run does.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="Rows per transaction.")
        parser.add_argument("--now", help="Run as of this moment (ISO 8601 with time zone); default: now.")
        parser.add_argument(
            "--pause",
            type=float,
            default=None,
            help=f"Seconds each batch waits before it commits, for tests (or ${PAUSE_ENV}).",
        )

    def handle(
        self, *args, dry_run=False, json=False, batch_size=DEFAULT_BATCH, now=None, pause=None, **options
    ):
        moment = parse_now(now)
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if dry_run:
            result = preview(now=moment)
            self.stdout.write(
                json_module.dumps(result, indent=2, sort_keys=True) if json else preview_text(result)
            )
            return
        if pause is None:
            pause = float(os.environ.get(PAUSE_ENV) or 0)
        run = retention_sweep(now=moment, batch_size=batch_size, pause=pause)
        counts = run_counts(run)
        if json:
            self.stdout.write(
                json_module.dumps(
                    {
                        "run": run.pk,
                        "as_of": run.as_of.isoformat(),
                        "workspaces": counts,
                        "account": run_account_counts(run),
                    },
                    indent=2,
                    sort_keys=True,
                )
            )
            return
        done = sum(c["due"] for kinds in counts.values() for c in kinds.values())
        self.stdout.write(f"Retention run {run.pk} as of {run.as_of.isoformat()}: {done} item(s) acted on.")
