"""The results table: one row per figure, one column per size, and the growth factor.

Growth is the figure at the largest size divided by the figure at the smallest. Page views, the
fan-out, the export of one (same-sized) requester and one erasure should stay flat; the sweeps
should grow linearly, which shows as a flat rate (items/s). A figure that grows (or a rate that
drops) by more than ``TOLERANCE`` is flagged.
"""

from __future__ import annotations

TOLERANCE = 1.5
NA = "not available yet"

HTTP_ROWS = [
    "floor",
    "list_first",
    "list_saved_views",
    "list_filtered",
    "list_deep",
    "search",
    "search_common",
    "ticket_page",
    "my_tickets",
    "reports_admin",
    "reports_agent",
    "reports_csv",
]


def _http_cell(row: dict, floor: float | None) -> tuple[float | None, str]:
    if not row or not row.get("available"):
        return None, (row or {}).get("note") or NA
    server = row.get("server_ms") or row["client_ms"]
    ratio = f" · {server['median'] / floor:.0f}× floor" if floor and row is not None else ""
    queries = f" · {row['queries']} q" if row.get("queries") is not None else ""
    bad = [s for s in row.get("status", []) if s != 200]
    status = f" · HTTP {','.join(map(str, bad))}!" if bad else ""
    return server["median"], f"{server['median']:.1f} ms (p95 {server['p95']:.1f}){queries}{ratio}{status}"


def growth_table(results: dict) -> list[dict]:
    runs = [results["runs"][label] for label in results["sizes"] if label in results["runs"]]
    rows: list[dict] = []

    def add(name, label, expect, cells):
        values = [value for value, _ in cells]
        growth = None
        if len(values) > 1 and values[0] and values[-1] is not None:
            growth = round(values[-1] / values[0], 2)
        flag = ""
        if growth is not None:
            if expect == "flat" and growth > TOLERANCE:
                flag = "grows"
            if expect == "rate" and growth < 1 / TOLERANCE:
                flag = "rate drops"
        rows.append(
            {
                "name": name,
                "label": label,
                "expect": expect,
                "values": dict(zip([r["label"] for r in runs], values, strict=True)),
                "cells": dict(zip([r["label"] for r in runs], [text for _, text in cells], strict=True)),
                "growth": growth,
                "flag": flag,
            }
        )

    for name in HTTP_ROWS:
        label = next((r["http"][name]["label"] for r in runs if name in r.get("http", {})), name)
        cells = []
        for run in runs:
            http = run.get("http", {})
            floor = ((http.get("floor") or {}).get("server_ms") or {}).get("median")
            cells.append(_http_cell(http.get(name), None if name == "floor" else floor))
        if any(name in run.get("http", {}) for run in runs):
            add(f"http.{name}", f"{label} — server median", "flat", cells)

    if any("load" in run for run in runs):
        cells = []
        for run in runs:
            load = run.get("load") or {}
            if not load.get("available"):
                cells.append((None, load.get("note", NA)))
                continue
            cells.append(
                (
                    load["requests_per_s"],
                    f"{load['requests_per_s']:.0f} req/s · p50 {load['p50_ms']:.0f}"
                    f" / p95 {load['p95_ms']:.0f} / p99 {load['p99_ms']:.0f} ms · {load['errors']} errors",
                )
            )
        add("load", "mixed load, wrk at fixed concurrency — requests/s", "rate", cells)

    if any("ws" in run for run in runs):
        # One row per client count (bench/measure_ws.py run_counts): the time from the reply
        # POST to its arrival at the LAST client, p95 over the rounds (issue 15: under 100 ms
        # at 100 clients, goal 50 ms), with the load average the count ran at.
        counts: list[str] = []
        for run in runs:
            for count in run.get("ws") or {}:
                if count not in counts:
                    counts.append(count)
        for count in counts:
            cells = []
            for run in runs:
                ws = (run.get("ws") or {}).get(count) or {}
                if not ws.get("available"):
                    cells.append((None, ws.get("note", NA)))
                    continue
                load = ws.get("loadavg") or [None]
                cells.append(
                    (
                        ws["last_client_p95_ms"],
                        f"last client p95 {ws['last_client_p95_ms']:.0f} ms"
                        f" (p50 {ws['last_client_median_ms']:.0f}, max {ws['last_client_max_ms']:.0f})"
                        + (f" · first→last p95 {ws['spread_p95_ms']:.0f} ms" if "spread_p95_ms" in ws else "")
                        + (
                            f" · server CPU {ws['server_cpu_ms_median']:.0f} ms"
                            if ws.get("server_cpu_ms_median")
                            else ""
                        )
                        + (f" · {ws['missing']} missing" if ws["missing"] else "")
                        + (f" · load {load[0]:.1f}" if load[0] is not None else ""),
                    )
                )
            add(
                f"ws.{count}",
                f"websocket fan-out to {count} clients, reply POST → last client — p95",
                "flat",
                cells,
            )

    job_names = []
    for run in runs:
        for name in run.get("jobs", {}):
            if name not in job_names:
                job_names.append(name)
    for name in job_names:
        # A sweep over everything: its rate should hold; one person's job: its time should.
        expect = "rate" if name in ("verify_audit_log", "enforce_retention") else "flat"
        cells, label = [], name
        for run in runs:
            job = run.get("jobs", {}).get(name) or {}
            label = job.get("label", label)
            if not job.get("available"):
                cells.append((None, job.get("note", NA)))
                continue
            value = job["items_per_s"] if expect == "rate" else job["seconds"]
            cells.append(
                (
                    value,
                    f"{job['seconds']:.2f} s · {job['items']:,} {job['unit']}"
                    f" · {job['items_per_s'] or 0:,.0f}/s · peak {job['peak_rss_mb']:.0f} MB",
                )
            )
        add(f"jobs.{name}", f"{label} — {'items/s' if expect == 'rate' else 'seconds'}", expect, cells)
    return rows


def print_table(results: dict, *, log=print) -> None:
    labels = [label for label in results["sizes"] if label in results["runs"]]
    log("\n== Results (" + f"{results['database']}, {results['channel_layer']} channel layer" + ")")
    log(f"   commit {results['commit'][:12]}{' (dirty)' if results['dirty'] else ''}, {results['date']}")
    for label in labels:
        run = results["runs"][label]
        log(
            f"   {label}: {run['counts']['tickets']:,} tickets, {run['counts']['messages']:,} messages,"
            f" {run['counts']['audit_events']:,} audit events;"
            f" seeded in {run['seed_seconds'] or '(reused)'} s;"
            f" load average {run.get('loadavg_start', ['?'])[0]} -> {run.get('loadavg_end', ['?'])[0]}"
        )
    for row in results["table"]:
        log(f"\n{row['label']}")
        for label in labels:
            log(f"   {label:>6}: {row['cells'].get(label, '-')}")
        if row["growth"] is not None:
            note = f"  <-- {row['flag']}" if row["flag"] else ""
            log(f"   growth {labels[0]} -> {labels[-1]}: ×{row['growth']}{note}")
