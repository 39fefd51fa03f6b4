"""Child process: run one long job of the product once and print what it cost.

``python -m bench.jobs <job> --fixture var/bench/fixture-10k.json`` with DATABASE_URL naming a
scratch copy of the size's database (the jobs write: exports, erasure, the retention sweep).
Prints one ``BENCH_JSON {...}`` line: seconds, items, items/s, peak memory (``ru_maxrss`` of
this process) and the memory taken before the job started, or ``available: false`` with the
reason when the product does not have that piece yet.

Each job calls the product's real command or service, nothing re-implemented here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import sys
import time

from bench.seed import ANCHOR

NOT_AVAILABLE = "not available yet"


class NotAvailable(Exception):
    pass


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and name.startswith(error.name):
            raise NotAvailable(f"{NOT_AVAILABLE} ({name} does not exist)") from error
        raise


def _command(name: str):
    from django.core.management import get_commands

    if name not in get_commands():
        raise NotAvailable(f"{NOT_AVAILABLE} (no {name} command)")


def _first(module, names: list[str]):
    for name in names:
        function = getattr(module, name, None)
        if callable(function):
            return function
    raise NotAvailable(f"{NOT_AVAILABLE} ({module.__name__} has none of {', '.join(names)})")


# Jobs: each returns (items, unit, detail) --------------------------------------------------


def job_verify(fixture):
    from django.core.management import call_command

    from privacy.audit.models import AuditEvent

    _command("verify_audit_log")
    rows = AuditEvent.objects.count()
    call_command("verify_audit_log", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return rows, "rows", {}


def job_export(fixture):
    """``export_request`` then its build (in-process when no Celery broker is set, as here; else
    built directly with ``export_build``): the archive of the requester with the most tickets."""
    from workspaces.models import User

    module = _module("privacy.account.export")
    request = _first(module, ["export_request"])
    build = _first(module, ["export_build"])
    user = User.objects.get(pk=fixture["users"]["requester0"])
    export = request(user=user)
    export.refresh_from_db()
    if str(export.status) != "ready":
        export = build(export_id=export.pk)
    if str(export.status) != "ready":
        raise RuntimeError(f"export ended {export.status}: {export.error[:200]}")
    return fixture.get("requester_ticket_count", 0), "tickets", {"bytes": export.size}


def job_erase(fixture):
    """The real two steps: ``erasure_request`` (deactivate, schedule) then ``erasure_run``
    (walk the personal-data registry), forced instead of waiting for the grace period."""
    from workspaces.models import User

    module = _module("privacy.account.erasure")
    request = _first(module, ["erasure_request"])
    run = _first(module, ["erasure_run"])
    user = User.objects.get(pk=fixture["users"]["requester1"])
    erasure = request(user=user, grace=14)
    erasure = run(erasure_id=erasure.pk, force=True)
    if str(erasure.state) != "done":
        raise RuntimeError(f"erasure ended {erasure.state}: {erasure.error[:200]}")
    return fixture.get("erase_ticket_count", 0), "tickets", {"counts": erasure.counts}


def job_retention(fixture):
    """The ``enforce_retention`` command (or, before it exists, the sweep it runs) with the
    workspaces' default retention policies; items are everything the run anonymized or deleted
    (tickets, attachments, notes, requesters, audit events), counted from the run's progress."""
    from django.core.management import call_command, get_commands

    sweep = _module("privacy.retention.sweep")
    if "enforce_retention" in get_commands():
        # As of the seed's fixed anchor, so the same rows are due whatever the day of the run.
        call_command("enforce_retention", now=ANCHOR.isoformat(), stdout=open(os.devnull, "w"))  # noqa: SIM115
        via = "enforce_retention"
    else:
        _first(sweep, ["retention_sweep"])(now=ANCHOR)
        via = "privacy.retention.sweep.retention_sweep (no enforce_retention command yet)"
    items, by_kind, run = _retention_counts()
    return items, "items", {"by_kind": by_kind, "via": via, "state": str(run.state)}


def _retention_counts():
    sweep = _module("privacy.retention.sweep")
    models = _module("privacy.models")
    run = models.RetentionRun.objects.order_by("-started_at", "-id").first()
    by_kind: dict[str, int] = {}
    if run is None:
        return 0, by_kind, None
    for counts in sweep.run_counts(run).values():
        for kind, numbers in counts.items():
            by_kind[kind] = by_kind.get(kind, 0) + numbers["due"]
    return sum(by_kind.values()), by_kind, run


def job_retention_progress(fixture):
    """What a stopped sweep committed (measure_jobs asks after its time limit)."""
    items, by_kind, _run = _retention_counts()
    return items, "items", {"by_kind": by_kind}


BULK_SIZE = 500


def job_bulk_update(fixture):
    """``tickets.bulk.bulk_apply`` as the list's bulk bar calls it: agent0 sets 500 of the open
    tickets they see to Pending in one request (one transaction; per ticket the single-edit
    service, one audit event each; emails and live updates queued after commit)."""
    bulk = _module("tickets.bulk")
    from django.conf import settings

    from tickets import access
    from workspaces.models import Membership

    membership = Membership.objects.select_related("workspace", "user").get(
        workspace_id=fixture["workspace_id"], user_id=fixture["users"]["agent0"]
    )
    numbers = list(
        access.visible_tickets(membership)
        .filter(status__in=["new", "open"])
        .order_by("-number")
        .values_list("number", flat=True)[:BULK_SIZE]
    )
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.db import transaction

    from helpdesk.celery import app

    # A web process is warm: its broker connection and channel layer exist before the request
    # (their first use imports and connects, seconds on a loaded machine, not the bulk's cost).
    with app.producer_or_acquire():
        pass
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)("bench-warm-up", {"type": "bench.warm_up"})
    # An outer transaction, as a request's would be, only to time the two halves apart: the
    # transaction (locks, saves, audit events) and what runs after commit (live updates, and the
    # status emails: queued with a Celery broker, sent in-process without one).
    started, cpu_started = time.perf_counter(), time.process_time()
    with transaction.atomic():
        report = bulk.bulk_apply(
            membership=membership, numbers=numbers, action="status", value="pending", actor=membership.user
        )
        in_transaction = time.perf_counter() - started
        in_transaction_cpu = time.process_time() - cpu_started
    after_commit = time.perf_counter() - started - in_transaction
    if len(report.changed) != len(numbers):
        raise RuntimeError(f"bulk changed {len(report.changed)} of {len(numbers)}: {report.summary()[:200]}")
    detail = {
        "in_transaction_s": round(in_transaction, 3),
        # This process's CPU alone: on a shared machine the wall time says more about the others.
        "in_transaction_cpu_s": round(in_transaction_cpu, 3),
        "after_commit_s": round(after_commit, 3),
        "emails": "sent in-process (no broker)" if settings.CELERY_TASK_ALWAYS_EAGER else "queued (broker)",
    }
    return len(report.changed), "tickets", detail


JOBS = {
    "verify_audit_log": (job_verify, "verify_audit_log (all chains)"),
    "export": (job_export, "export of a large requester"),
    "erasure": (job_erase, "erasure of a requester"),
    "enforce_retention": (job_retention, "enforce_retention (default policies)"),
    "retention_progress": (job_retention_progress, "(progress of a stopped sweep)"),
    "bulk_update": (job_bulk_update, "bulk update of 500 tickets (status, one request)"),
}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("job", choices=sorted(JOBS))
    parser.add_argument("--fixture", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    with open(args.fixture) as handle:
        fixture = json.load(handle)
    function, _label = JOBS[args.job]
    from django.db import connection

    connection.ensure_connection()
    baseline = _maxrss_mb()
    started = time.perf_counter()
    try:
        items, unit, detail = function(fixture)
    except NotAvailable as reason:
        result = {"available": False, "note": str(reason)}
    else:
        seconds = time.perf_counter() - started
        result = {
            "available": True,
            "seconds": round(seconds, 3),
            "items": items,
            "unit": unit,
            "items_per_s": round(items / seconds, 1) if seconds > 0 else None,
            "peak_rss_mb": round(_maxrss_mb(), 1),
            "baseline_rss_mb": round(baseline, 1),
            **detail,
        }
    sys.stdout.write("BENCH_JSON " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
