"""Inbound email throughput and latency (part ``mail`` of ``make bench``).

On a database of its own (PostgreSQL ``hd_bench_mail`` under ``DATABASE_URL``, else a SQLite file
under var/bench/), migrated afresh:

1. ``messages`` new emails from 20 senders (each under the per-sender rate limit) are ingested
   one after the other, as ``fetch_mail`` does: parse, thread, open the ticket, audit, store the
   raw message, queue the agents' notification; then as many replies to the tickets' signed
   reply addresses. Reported: messages per second, and the median time of one.
2. From ingest to the agent's screen: a channel subscribed to the queue's live-list group (what an
   agent's open ticket list listens to) times ``ingest_email`` called until the list event
   arrives, ``rounds`` times; median and p95. With ``REDIS_URL`` the event goes through Redis.

``python -m bench --skip http,load,ws,jobs,markdown`` runs only this part; alone:
``python -m bench.mail_bench --messages 200 --output var/bench/mail.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid

SENDERS = 20


def _email(sender: str, to: str, subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="bench.example")
    message.set_content(body)
    return message.as_bytes()


def seed():
    from guardian.shortcuts import assign_perm

    from tickets.mail.models import Mailbox
    from workspaces.models import QUEUE_PERMISSION, Membership, Queue, Role, User, Workspace

    workspace = Workspace.objects.create(name="Mail bench", slug=f"mail-bench-{int(time.time())}")
    queue = Queue.objects.create(workspace=workspace, name="Support")
    agent = User.objects.create_user(email=f"agent@{workspace.slug}.test", password=None)
    Membership.objects.create(workspace=workspace, user=agent, role=Role.AGENT)
    assign_perm(QUEUE_PERMISSION, agent, queue)
    senders = []
    for index in range(SENDERS):
        user = User.objects.create_user(email=f"sender{index}@{workspace.slug}.test", password=None)
        Membership.objects.create(workspace=workspace, user=user, role=Role.REQUESTER)
        senders.append(user)
    mailbox = Mailbox.objects.create(
        workspace=workspace, queue=queue, address=f"support@{workspace.slug}.test"
    )
    return mailbox, senders


def throughput(mailbox, senders, messages: int) -> dict:
    from tickets.mail.addresses import reply_address
    from tickets.mail.ingest import ingest_email

    body = "The printer on the third floor shows E-42 again.\n\nThanks,\nA person\n"
    rows, new_times = [], []
    started = time.perf_counter()
    for index in range(messages):
        sender = senders[index % len(senders)]
        raw = _email(sender.email, mailbox.address, f"Bench ticket {index}", body)
        t0 = time.perf_counter()
        rows.append(ingest_email(mailbox=mailbox, raw=raw))
        new_times.append(time.perf_counter() - t0)
    new_seconds = time.perf_counter() - started
    reply_times = []
    started = time.perf_counter()
    for row in rows:
        to = reply_address(mailbox.address, row.ticket_id, row.sender_id)
        raw = _email(row.sender.email, to, "Re: bench", "Still broken.\n\nOn Mon, A wrote:\n> quoted\n")
        t0 = time.perf_counter()
        reply = ingest_email(mailbox=mailbox, raw=raw)
        reply_times.append(time.perf_counter() - t0)
        if reply.outcome != "reply_added":
            raise RuntimeError(f"a bench reply was {reply.outcome}: {reply.reason}")
    reply_seconds = time.perf_counter() - started
    if any(row.outcome != "ticket_created" for row in rows):
        raise RuntimeError("a bench email did not become a ticket")
    return {
        "messages": messages,
        "new_tickets_per_s": round(messages / new_seconds, 1),
        "new_ticket_median_ms": round(statistics.median(new_times) * 1000, 1),
        "replies_per_s": round(messages / reply_seconds, 1),
        "reply_median_ms": round(statistics.median(reply_times) * 1000, 1),
    }


def live_latency(mailbox, senders, rounds: int) -> dict:
    """Seconds from calling ingest_email to the list event reaching a subscribed channel."""
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer

    from tickets.mail.ingest import ingest_email
    from tickets.realtime import queue_group

    layer = get_channel_layer()
    group = queue_group(mailbox.workspace_id, mailbox.queue_id)

    async def measure() -> list[float]:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        timings = []
        try:
            for index in range(rounds):
                raw = _email(senders[index % len(senders)].email, mailbox.address, f"Live {index}", "Hello")
                received = asyncio.ensure_future(layer.receive(channel))
                started = time.perf_counter()
                # In a worker thread, as a fetcher runs it; its broadcast comes back to this loop.
                ingest = asyncio.ensure_future(
                    sync_to_async(ingest_email, thread_sensitive=False)(mailbox=mailbox, raw=raw)
                )
                await asyncio.wait_for(received, timeout=30)
                timings.append(time.perf_counter() - started)
                await ingest
                # Other events of the same ingest (a second frame) are not the one measured.
                while True:
                    try:
                        await asyncio.wait_for(layer.receive(channel), timeout=0.2)
                    except TimeoutError:
                        break
        finally:
            await layer.group_discard(group, channel)
        return timings

    timings = asyncio.run(measure())
    ordered = sorted(timings)
    return {
        "rounds": rounds,
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "channel_layer": "redis" if os.environ.get("REDIS_URL") else "in-memory",
    }


def run(*, messages: int = 200, rounds: int = 20, log=print) -> dict:
    from django.conf import settings

    # The agents' notifications are rendered and handed to a mail backend that keeps them.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mailbox, senders = seed()
    result = {"throughput": throughput(mailbox, senders, messages)}
    t = result["throughput"]
    log(
        f"    {messages} new emails: {t['new_tickets_per_s']} msg/s (median {t['new_ticket_median_ms']} ms); "
        f"{messages} replies: {t['replies_per_s']} msg/s (median {t['reply_median_ms']} ms)"
    )
    result["live"] = live_latency(mailbox, senders, rounds)
    live = result["live"]
    log(
        f"    ingest -> event on the agent's list ({live['channel_layer']}): median {live['median_ms']} ms, "
        f"p95 {live['p95_ms']} ms over {rounds}"
    )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail_bench")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--output", default="")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench.environment import BENCH_SECRET_KEY, SETTINGS_MODULE, Target

    target = Target(os.environ.get("DATABASE_URL") or None, "mail")
    target.drop()
    target.create()
    os.environ["DATABASE_URL"] = target.url
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    result = run(messages=args.messages, rounds=args.rounds)
    # The machine may be shared: the load average says how quiet it was.
    result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    if args.output:
        with open(args.output, "w") as out:
            json.dump(result, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
