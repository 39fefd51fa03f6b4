"""Long jobs (verify_audit_log, export, erasure, enforce_retention), each in its own process.

They run against a scratch copy of the size's database (PostgreSQL ``CREATE DATABASE ...
TEMPLATE``, or a copy of the SQLite file), made after the server stopped and dropped after, so
the writes of erasure and retention never reach the seeded database the next run reuses.
"""

from __future__ import annotations

import json
import subprocess

from bench.environment import ROOT, child_env, python
from bench.jobs import JOBS


def run_job(job: str, env: dict, fixture_path, *, timeout: int = 3600) -> dict:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [python(), "-m", "bench.jobs", job, "--fixture", str(fixture_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"available": False, "note": "failed: " + " | ".join(tail)[:400]}


def run(target, fixture_path, *, jobs=None, log=print) -> dict:
    scratch = target.scratch()
    scratch.drop()
    scratch.create(template=target)
    env = child_env(scratch.url)
    results = {}
    try:
        for job in jobs or JOBS:
            results[job] = {"label": JOBS[job][1], **run_job(job, env, fixture_path)}
            row = results[job]
            if row.get("available"):
                log(
                    f"    {row['label']}: {row['seconds']}s, {row['items']:,} {row['unit']},"
                    f" {row['peak_rss_mb']} MB peak"
                )
            else:
                log(f"    {row['label']}: {row['note']}")
    finally:
        scratch.drop()
    return results
