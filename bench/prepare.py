"""Child process: migrate one size's database, seed it when needed, sign people in, describe it.

``python -m bench.prepare --size 10k --fixture var/bench/fixture-10k.json [--collectstatic]``
with DATABASE_URL naming that size's database. Writes the fixture JSON the measurements read:
the workspace, ids, ticket numbers, and session cookies of the measured agent and requester
(sessions made directly in the session store, as a sign-in would, so no password hashing is
measured). Prints progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

WS_SESSIONS = 100


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def session_cookie(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


# The saved views of the "10 saved views" page (agent1; agent0's pages stay without any).
SAVED_VIEWS_AGENT = "agent1"


def ensure_saved_views(workspace, user, queue_ids: list[int], search_term: str) -> int:
    """Ten saved views of ``user``'s (tickets/saved_view_services.py), as an agent would save them: the
    same every run."""
    from tickets.models import SavedView

    first, second = queue_ids[:2]
    params = [
        {"status": ["open_any"], "queue": [str(first)]},
        {"status": ["open_any"], "queue": [str(second)]},
        {"status": ["open_any"], "priority": ["urgent"]},
        {"status": ["pending"]},
        {"status": ["open_any"], "assignee": ["none"]},
        {"status": ["pending"], "assignee": ["me"]},
        {"status": ["solved"], "priority": ["high"]},
        {"q": [search_term]},
        {"status": ["closed"]},
        {"queue": [str(first)], "priority": ["high"]},
    ]
    SavedView.objects.filter(workspace=workspace, owner=user).delete()
    SavedView.objects.bulk_create(
        SavedView(workspace=workspace, owner=user, name=f"Bench view {n}", params=p, position=n)
        for n, p in enumerate(params)
    )
    return len(params)


def describe(size: int, *, ws_sessions: int = WS_SESSIONS) -> dict:
    from bench.seed import AGENT_QUEUES, COMMON_TERM, MAIN_SLUG, QUEUE_NAMES, SEARCH_TERM
    from privacy.audit.models import AuditEvent
    from tickets.models import Attachment, Message, Ticket
    from workspaces.models import Queue, User, Workspace

    workspace = Workspace.objects.get(slug=MAIN_SLUG)
    queues = {q.name: q.pk for q in Queue.objects.filter(workspace=workspace)}
    queue_ids = [queues[name] for name in QUEUE_NAMES]
    users = {
        local: User.objects.get(email=f"{local}@{MAIN_SLUG}.bench.test")
        for local in ("admin0", "agent0", SAVED_VIEWS_AGENT, "requester0", "requester1")
    }
    from workspaces.access import granted_queue_ids

    saved_queue_ids = sorted(
        row["content_object_id"] for row in granted_queue_ids(users[SAVED_VIEWS_AGENT].pk, workspace.pk)
    )
    saved_views = ensure_saved_views(workspace, users[SAVED_VIEWS_AGENT], saved_queue_ids, SEARCH_TERM)
    tickets = Ticket.objects.filter(workspace=workspace)
    agent_numbers = list(
        tickets.filter(queue_id__in=queue_ids[:AGENT_QUEUES])
        .order_by("number")
        .values_list("number", flat=True)[:: max(1, size // 200)][:100]
    )
    requester_numbers = list(
        tickets.filter(requester=users["requester0"])
        .order_by("-number")
        .values_list("number", flat=True)[:50]
    )
    cookies = {local: session_cookie(user) for local, user in users.items()}
    ws_cookies = [
        session_cookie(users["agent0"] if k % 2 == 0 else users["requester0"]) for k in range(ws_sessions)
    ]
    return {
        "size": size,
        "slug": MAIN_SLUG,
        "workspace_id": workspace.pk,
        "queue_ids": queue_ids,
        "agent_queue_ids": queue_ids[:AGENT_QUEUES],
        "saved_views_agent": SAVED_VIEWS_AGENT,
        "saved_views": saved_views,
        "search_term": SEARCH_TERM,
        "common_term": COMMON_TERM,
        "big_number": size,
        "agent_numbers": agent_numbers,
        "requester_numbers": requester_numbers,
        "users": {local: user.pk for local, user in users.items()},
        "requester_ticket_count": tickets.filter(requester=users["requester0"]).count(),
        "erase_ticket_count": tickets.filter(requester=users["requester1"]).count(),
        "cookies": cookies,
        "ws_cookies": ws_cookies,
        "counts": {
            "tickets": Ticket.objects.count(),
            "messages": Message.objects.count(),
            "attachments": Attachment.objects.count(),
            "audit_events": AuditEvent.objects.count(),
            "users": User.objects.count(),
        },
    }


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", required=True)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--collectstatic", action="store_true")
    parser.add_argument("--ws-sessions", type=int, default=WS_SESSIONS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.seed import ensure_files, parse_size, seed_bench, seeded_size

    size = parse_size(args.size)
    started = time.monotonic()
    if args.collectstatic:
        call_command("collectstatic", interactive=False, verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)
    log(f"  migrated in {time.monotonic() - started:.1f}s")
    present = seeded_size()
    seed_seconds = None
    if present is None:
        from workspaces.models import Workspace

        if Workspace.objects.filter(slug__startswith="bench-").exists():
            raise SystemExit("the database holds a partial bench seed: run without --reuse to start afresh")
        started = time.monotonic()
        workspace = seed_bench(size, log=log)
        seed_seconds = round(time.monotonic() - started, 1)
    elif present != size:
        raise SystemExit(f"the database holds the {present:,}-ticket seed, not {size:,}: run without --reuse")
    else:
        from workspaces.models import Workspace

        workspace = Workspace.objects.get(slug="bench-main")
        log(f"  reusing the seeded {size:,}-ticket database")
    ensure_files(workspace.pk)
    # The same sessions every run (a reused database would pile them up): erasure and the
    # retention sweep decode every session per person, so their number must not drift.
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()
    fixture = describe(size, ws_sessions=args.ws_sessions)
    fixture["seed_seconds"] = seed_seconds
    with open(args.fixture, "w") as handle:
        json.dump(fixture, handle, indent=1)


if __name__ == "__main__":
    main()
