"""Sustained throughput of a mixed agent/requester workload at fixed concurrency, with wrk.

The mix (by request count): 40% agent list pages (first, filtered, search, deep), 30% agent
ticket pages (many different tickets), 30% requester "my tickets" and the requester's own ticket
pages. Only pages the product serves are in the mix (see measure_http). Loopback only, bounded
duration, after a short warm-up run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

LUA = Path(__file__).resolve().parent / "load.lua"
WRK_MISSING = "not available: wrk is not installed (make bench installs Debian's wrk)"


def targets(fixture: dict, http_results: dict, *, mix: str = "mixed") -> list[tuple[str, str]]:
    agent, requester = fixture["cookies"]["agent0"], fixture["cookies"]["requester0"]
    base = f"/w/{fixture['slug']}/tickets/"

    def path_of(name):
        row = http_results.get(name) or {}
        return row.get("path") if row.get("available") else None

    lines: list[tuple[str, str]] = []
    list_paths = [
        p for p in (path_of(n) for n in ("list_first", "list_filtered", "search", "list_deep")) if p
    ]
    for k in range(40):
        if list_paths:
            lines.append((list_paths[k % len(list_paths)], agent))
    if mix == "lists":
        return lines
    if path_of("ticket_page"):
        numbers = fixture["agent_numbers"] or [fixture["big_number"]]
        for k in range(30):
            lines.append((f"{base}{numbers[k % len(numbers)]}/", agent))
        mine = fixture["requester_numbers"] or [fixture["big_number"]]
        for k in range(15):
            lines.append((f"{base}{mine[k % len(mine)]}/", requester))
    if path_of("my_tickets"):
        for _ in range(15 if path_of("ticket_page") else 30):
            lines.append((base, requester))
    return lines


def run_wrk(base: str, lines, *, work_dir: Path, connections: int, threads: int, seconds: int) -> dict:
    work_dir.mkdir(parents=True, exist_ok=True)
    target_file = work_dir / "wrk-targets.txt"
    target_file.write_text("".join(f"{path}\t{cookie}\n" for path, cookie in lines))
    command = [
        shutil.which("wrk"),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        base,
        "--",
        str(target_file),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)  # noqa: S603
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]} {done.stdout[-2000:]}")


def run(
    base,
    fixture,
    http_results,
    *,
    work_dir,
    connections=8,
    threads=2,
    seconds=15,
    warmup_seconds=3,
    mix="mixed",
    server_cpu=None,
):
    """``server_cpu``: a callable returning the server's CPU seconds so far; the result then has
    the server's CPU time per request, which the load of a shared machine hardly moves."""
    if shutil.which("wrk") is None:
        return {"available": False, "note": WRK_MISSING}
    lines = targets(fixture, http_results, mix=mix)
    if not lines:
        return {"available": False, "note": "not available yet (no ticket page or list is served)"}
    parts = urlsplit(base)
    assert parts.hostname == "127.0.0.1", "load runs on loopback only"
    run_wrk(base, lines, work_dir=work_dir, connections=connections, threads=threads, seconds=warmup_seconds)
    cpu_before = server_cpu() if server_cpu else None
    raw = run_wrk(base, lines, work_dir=work_dir, connections=connections, threads=threads, seconds=seconds)
    cpu_after = server_cpu() if server_cpu else None
    duration = raw["duration_us"] / 1e6
    errors = sum(raw["errors"].values())
    mix = sorted({path.split("?")[0].rstrip("/").rsplit("/", 1)[-1] for path, _ in lines})
    return {
        "available": True,
        "tool": "wrk",
        "mix": mix,
        "connections": connections,
        "threads": threads,
        "seconds": round(duration, 1),
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / duration, 1),
        "p50_ms": raw["latency_us"]["p50"] / 1000,
        "p95_ms": raw["latency_us"]["p95"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000,
        "max_ms": raw["latency_us"]["max"] / 1000,
        "errors": errors,
        "error_detail": raw["errors"],
        "server_cpu_ms_per_request": (
            round((cpu_after - cpu_before) * 1000 / raw["requests"], 1)
            if cpu_before is not None and cpu_after is not None and raw["requests"]
            else None
        ),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "mix_paths": len(lines),
        "mix_kinds": len(mix),
    }
