"""``python -m bench`` (``make bench``): seed each size, measure, print a table, write results.json.

For every size: a database of its own (PostgreSQL ``hd_bench_<size>``, created afresh unless
``--reuse``; else a SQLite file under var/bench/), migrated and seeded by bench/seed.py; the
servers of the production layout (bench/server.py, ``--serve``; bench.settings) in child
processes; page timings over HTTP, two wrk throughput runs, the websocket fan-out; then, with
the server stopped, the long jobs on a scratch copy. The same seed, warm-up and repetitions
every time, medians reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import measure_http, measure_jobs, measure_load, measure_ws
from bench.environment import (
    BENCH_VAR,
    FALLBACK_WARNING,
    REDIS_WARNING,
    ROOT,
    Target,
    child_env,
    python,
)
from bench.report import growth_table, print_table
from bench.seed import parse_size, size_label
from bench.server import DEFAULT_LAYOUT, Server, parse_layout

PARTS = ("http", "load", "ws", "jobs", "markdown", "mail")
POSTGRESQL_SETTINGS = ("shared_buffers", "max_wal_size", "work_mem")
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"


def log(text: str) -> None:
    print(text, flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES") or "10k", help="e.g. 10k,100k,1M")
    parser.add_argument("--reuse", action="store_true", help="reuse an already seeded database of the size")
    parser.add_argument("--repeat", type=int, default=30, help="measured requests per page")
    # Enough for the steady state users get: psycopg prepares a statement on its 5th run on a
    # connection, and each of the pages' two workers hands a request to any of its pooled
    # connections (and keeps its own kept SQL and compiled templates): 5 rounds left many of a
    # page's statements still planned anew on every measured run.
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per page first")
    parser.add_argument("--deep-pages", type=int, default=100, help="older-links to follow for the deep page")
    parser.add_argument("--load-seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (fixed concurrency)")
    parser.add_argument(
        "--ws-clients", default="1,10,100,1000", help="comma list of websocket client counts (issue 15)"
    )
    parser.add_argument("--ws-rounds", type=int, default=10)
    parser.add_argument("--job-timeout", type=int, default=900, help="seconds before a long job is stopped")
    parser.add_argument("--skip", default="", help=f"comma list of parts to skip: {','.join(PARTS)}")
    parser.add_argument(
        "--serve",
        default=DEFAULT_LAYOUT,
        type=lambda text: parse_layout(text).name,
        help=f"serving layout: uvicorn-W, gunicorn-WxT or granian-WxT (default {DEFAULT_LAYOUT})",
    )
    parser.add_argument("--drop", action="store_true", help="drop each size's database when done")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT))
    parser.add_argument(
        "--markdown-only", action="store_true", help="only the render budget of message bodies (no database)"
    )
    return parser.parse_args(argv)


def machine_info(database_url: str | None) -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    if database_url:
        try:
            import psycopg

            with psycopg.connect(Target(database_url, "x").url.rsplit("/", 1)[0] + "/postgres") as conn:
                info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
                # The server's own sizing: the retention sweep's speed at 1M tickets depends on
                # max_wal_size (README "PostgreSQL settings"), so a figure says what it ran on.
                info["postgresql_settings"] = {
                    name: conn.execute(f"SHOW {name}").fetchone()[0]  # names from POSTGRESQL_SETTINGS only
                    for name in POSTGRESQL_SETTINGS
                }
        except Exception as error:  # noqa: BLE001 - informative only
            info["postgresql"] = f"unknown ({type(error).__name__})"
    return info


def commit_info() -> dict:
    def git(*args):
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603,S607
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or "unknown", "dirty": bool(git("status", "--porcelain"))}


def bench_size(size: int, args, *, base_url, first: bool) -> dict:
    label = size_label(size)
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    target = Target(base_url, label)
    where = f"PostgreSQL {target.name}" if target.is_postgres else str(target.sqlite_path)
    log(f"\n== {label}: {size:,} tickets ({where})")
    if not args.reuse:
        target.drop()
    if not target.exists():
        target.create()
    env = child_env(target.url)
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    fixture_path = BENCH_VAR / f"fixture-{label}.json"
    started = time.monotonic()
    command = [python(), "-m", "bench.prepare", "--size", str(size), "--fixture", str(fixture_path)]
    if first:
        command.append("--collectstatic")
    ws_counts = [int(count) for count in args.ws_clients.split(",") if count.strip()]
    command += ["--ws-sessions", str(max(ws_counts))]
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603
    fixture = json.loads(fixture_path.read_text())
    log(f"  prepared in {time.monotonic() - started:.0f}s: {fixture['counts']}")
    result = {
        "size": size,
        "label": label,
        "counts": fixture["counts"],
        "seed_seconds": fixture["seed_seconds"],
        # The machine may be shared: the load average says how quiet it was during the run.
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }

    server = Server(env, log_path=BENCH_VAR / f"server-{label}.log", layout=args.serve)
    server.start()
    try:
        if "http" not in skip:
            log("  pages over HTTP ...")
            result["http"] = measure_http.run(
                server.base,
                fixture,
                repeat=args.repeat,
                warmup=args.warmup,
                deep_pages=args.deep_pages,
                log=log,
            )
        if "load" not in skip:
            wrk_runs = (("load", "mixed", "mixed load"), ("load_lists", "lists", "agent list pages only"))
            for key, mix, what in wrk_runs:
                log(f"  {what} with wrk ({args.connections} connections, {args.load_seconds}s) ...")
                result[key] = measure_load.run(
                    server.base,
                    fixture,
                    result.get("http", {}),
                    work_dir=BENCH_VAR,
                    connections=args.connections,
                    seconds=args.load_seconds,
                    server_cpu=server.pages_cpu_seconds,
                    mix=mix,
                )
        if "ws" not in skip:
            log(f"  websocket fan-out to {args.ws_clients} clients ...")
            # The websocket process (the same as the pages' unless the layout splits them) takes
            # the reply POST too: the fan-out's cost is then all in the process it measures.
            result["ws"] = measure_ws.run_counts(
                server.ws_base,
                fixture,
                counts=ws_counts,
                rounds=args.ws_rounds,
                log=log,
                server_pid=server.process.pid,
            )
    finally:
        tail = server.stop()
        if "Traceback" in tail or "ERROR" in tail:
            log(f"  server log (tail) in {server.log_path}:\n{tail[-1500:]}")
    if "jobs" not in skip:
        log("  long jobs on a scratch copy ...")
        result["jobs"] = measure_jobs.run(target, fixture_path, timeout=args.job_timeout, log=log)
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.drop:
        target.drop()
    return result


def markdown_budget(log_path: Path) -> dict:
    """Part ``markdown`` (bench/markdown_bench.py), in a child process: it sets Django up itself."""
    log("\n== markdown: render time of pathological message bodies (budget per body)")
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([python(), "-m", "bench.markdown_bench", "--output", str(log_path)], cwd=ROOT)  # noqa: S603
    result = json.loads(log_path.read_text()) if log_path.exists() else {"ok": False, "error": "no result"}
    result["ok"] = result.get("ok", False) and done.returncode == 0
    return result


def mail_figures(log_path: Path) -> dict:
    """Part ``mail`` (bench/mail_bench.py), in a child process on a database of its own: inbound
    emails processed per second and the time from ingest to the event on an agent's list."""
    log("\n== mail: inbound emails per second, ingest to the agent's live list")
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([python(), "-m", "bench.mail_bench", "--output", str(log_path)], cwd=ROOT)  # noqa: S603
    result = json.loads(log_path.read_text()) if done.returncode == 0 and log_path.exists() else {}
    return {**result, "ok": done.returncode == 0}


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    markdown = None
    if "markdown" not in skip:
        # First, and fast: a parser gone quadratic fails the bench before the long parts run.
        markdown = markdown_budget(BENCH_VAR / "markdown.json")
    if args.markdown_only:
        return 0 if markdown and markdown["ok"] else 1
    sizes = [parse_size(text) for text in args.sizes.split(",") if text.strip()]
    base_url = os.environ.get("DATABASE_URL") or None
    if not base_url:
        log(FALLBACK_WARNING)
    if not os.environ.get("REDIS_URL"):
        log(REDIS_WARNING)
    started = datetime.now(UTC)
    results = {
        **commit_info(),
        "date": started.isoformat(timespec="seconds"),
        "machine": machine_info(base_url),
        "database": "postgresql" if base_url else "sqlite (embedded default)",
        "channel_layer": "redis" if os.environ.get("REDIS_URL") else "in-memory",
        "serve": {
            "layout": args.serve,
            "description": parse_layout(args.serve).describe(),
            "background": (
                "one Celery worker (solo pool) with its beat, broker on REDIS_URL: emails and audit sealing"
                " leave the request as tasks, as in production"
                if os.environ.get("REDIS_URL")
                else "no broker: tasks run inside the request (the embedded default's eager mode)"
            ),
        },
        "sizes": [size_label(s) for s in sizes],
        "options": {
            key: getattr(args, key)
            for key in (
                "repeat",
                "warmup",
                "deep_pages",
                "load_seconds",
                "connections",
                "ws_clients",
                "ws_rounds",
            )
        },
        "runs": {},
    }
    if markdown is not None:
        results["markdown"] = markdown
    if "mail" not in skip:
        results["mail"] = mail_figures(BENCH_VAR / "mail.json")
    for index, size in enumerate(sizes):
        results["runs"][size_label(size)] = bench_size(size, args, base_url=base_url, first=index == 0)
        Path(args.output).write_text(json.dumps(results, indent=1))
    results["table"] = growth_table(results)
    results["duration_s"] = round((datetime.now(UTC) - started).total_seconds())
    Path(args.output).write_text(json.dumps(results, indent=1))
    print_table(results, log=log)
    log(f"\nresults written to {args.output}")
    if markdown is not None and not markdown["ok"]:
        log("!!! the markdown render budget failed: see the markdown section above !!!")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
