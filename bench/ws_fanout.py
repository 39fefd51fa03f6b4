"""``python -m bench.ws_fanout``: only the websocket fan-out, for 1, 10, 100 and 1,000 clients.

Uses DATABASE_URL as it is (a database of your own; it is migrated and seeded with a small
bench seed unless already seeded) and REDIS_URL for the channel layer, starts the bench's
uvicorn server (one worker, bench.settings) and prints, per client count, the time from the
reply POST to the arrival at the last client: p50, p95 and max over the rounds, with the load
average before each count. ``make bench`` measures the same counts on each size's database.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from bench import measure_ws
from bench.environment import BENCH_VAR, REDIS_WARNING, ROOT, child_env, python
from bench.server import Server

DEFAULT_COUNTS = "1,10,100,1000"


def log(text: str) -> None:
    print(text, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ws_fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default=DEFAULT_COUNTS, help="comma list of client counts")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--size", default="1k", help="tickets of the bench seed (small is enough)")
    parser.add_argument("--output", default=str(BENCH_VAR / "ws_fanout.json"))
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("set DATABASE_URL to a database of your own (it is seeded)")
    if not os.environ.get("REDIS_URL"):
        log(REDIS_WARNING)
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    env = child_env(database_url)
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    fixture_path = BENCH_VAR / "fixture-ws-fanout.json"
    command = [python(), "-m", "bench.prepare", "--size", args.size, "--fixture", str(fixture_path)]
    command += ["--collectstatic", "--ws-sessions", str(max(counts))]
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 - our interpreter and arguments
    fixture = json.loads(fixture_path.read_text())
    server = Server(env, log_path=BENCH_VAR / "server-ws-fanout.log")
    server.start()
    started = time.monotonic()
    try:
        results = measure_ws.run_counts(
            server.ws_base, fixture, counts=counts, rounds=args.rounds, log=log, server_pid=server.process.pid
        )
    finally:
        tail = server.stop()
        if "Traceback" in tail or "ERROR" in tail:
            log(f"server log (tail) in {server.log_path}:\n{tail[-1500:]}")
    summary = {
        "channel_layer": "redis" if os.environ.get("REDIS_URL") else "in-memory",
        "rounds": args.rounds,
        "seconds": round(time.monotonic() - started),
        "counts": results,
    }
    with open(args.output, "w") as handle:
        json.dump(summary, handle, indent=1)
    log(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
