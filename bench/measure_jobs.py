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


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in open(f"/proc/{pid}/status"):  # noqa: SIM115 - tiny read
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def run_job(job: str, env: dict, fixture_path, *, timeout: int, on_kill=None) -> dict:
    """Run one job; past ``timeout`` seconds stop it and, where the job commits as it goes
    (the retention sweep), report what it finished in that time. ``on_kill`` runs after a stop:
    a killed client leaves its query running in the database, holding its locks, and the next
    job would time that wait instead of its own work."""
    command = [python(), "-m", "bench.jobs", job, "--fixture", str(fixture_path)]
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            peak = _peak_rss_mb(process.pid)
            process.kill()
            process.communicate()
            if on_kill is not None:
                on_kill()
            return _partial(job, env, fixture_path, timeout=timeout, peak=peak)
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    tail = (stderr or stdout).strip().splitlines()[-3:]
    return {"available": False, "note": "failed: " + " | ".join(tail)[:400]}


def _partial(job, env, fixture_path, *, timeout, peak) -> dict:
    note = f"stopped after the {timeout} s limit"
    if job != "enforce_retention":
        return {"available": False, "note": f"did not finish: {note}"}
    done = subprocess.run(  # noqa: S603
        [python(), "-m", "bench.jobs", "retention_progress", "--fixture", str(fixture_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            progress = json.loads(line.removeprefix("BENCH_JSON "))
            items = progress["items"]
            return {
                "available": True,
                "partial": True,
                "note": f"{note}; rate from the batches committed by then",
                "seconds": timeout,
                "items": items,
                "unit": "items (partial)",
                "items_per_s": round(items / timeout, 1),
                "peak_rss_mb": peak,
                "by_kind": progress["by_kind"],
            }
    return {"available": False, "note": f"did not finish: {note}"}


def run(target, fixture_path, *, jobs=None, timeout: int = 900, log=print) -> dict:
    scratch = target.scratch()
    scratch.drop()
    scratch.create(template=target)
    env = child_env(scratch.url)
    results = {}
    try:
        for job in jobs or [name for name in JOBS if name != "retention_progress"]:
            results[job] = {
                "label": JOBS[job][1],
                **run_job(job, env, fixture_path, timeout=timeout, on_kill=scratch.stop_sessions),
            }
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
