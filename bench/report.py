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
    "view_counts",
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
    ratio = f" · {server['median'] / floor:.1f}× floor" if floor and row is not None else ""
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

    for key, label in (
        ("load", "mixed load, wrk at fixed concurrency — requests/s"),
        ("load_lists", "agent list pages only, wrk at fixed concurrency — views/s (goal 90)"),
    ):
        if not any(key in run for run in runs):
            continue
        cells = []
        for run in runs:
            load = run.get(key) or {}
            if not load.get("available"):
                cells.append((None, load.get("note", NA)))
                continue
            cells.append(
                (
                    load["requests_per_s"],
                    f"{load['requests_per_s']:.3g} req/s · p50 {load['p50_ms']:.0f}"
                    f" / p95 {load['p95_ms']:.0f} / p99 {load['p99_ms']:.0f} ms · {load['errors']} errors"
                    f" · {load['connections']} connections"
                    + (
                        f" · server CPU {load['server_cpu_ms_per_request']:.0f} ms/request"
                        if load.get("server_cpu_ms_per_request")
                        else ""
                    )
                    + (f" · load {load['loadavg'][0]:.1f}" if load.get("loadavg") else ""),
                )
            )
        add(key, label, "rate", cells)

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
    if results.get("serve"):
        log(f"   serving layout {results['serve']['layout']}: {results['serve']['description']}")
        if results["serve"].get("background"):
            log(f"   background work: {results['serve']['background']}")
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


# Markdown (docs/benchmarks.md) ---------------------------------------------------------------

SECTIONS = [
    ("http.", "Pages", "Server time per page view (median, p95), SQL queries, and the ratio to the floor."),
    ("load", "Throughput", "wrk at fixed concurrency on loopback, after a warm-up run."),
    ("ws.", "Websockets", "Time from an agent's reply POST to its arrival at the last connected client."),
    ("jobs.", "Long jobs", "Each in its own process on a scratch copy of the database."),
]
AUDIT_WORD = "audit"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _section_of(row: dict) -> str:
    if row["name"].startswith("jobs.") and AUDIT_WORD in row["name"]:
        return "Audit"
    for prefix, title, _ in SECTIONS:
        if row["name"].startswith(prefix):
            return title
    return "Other"


def _flat(value, prefix: str = "") -> list[tuple[str, str]]:
    """A nested result as (dotted key, value) pairs; long lists are summarised by length."""
    if isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            pairs += _flat(item, f"{prefix}.{key}" if prefix else str(key))
        return pairs
    if isinstance(value, list) and (len(value) > 6 or any(isinstance(v, dict | list) for v in value)):
        return [(prefix, f"{len(value)} items")]
    return [(prefix, ", ".join(map(str, value)) if isinstance(value, list) else str(value))]


def render_markdown(results: dict, *, source: str = "bench/results.json") -> str:
    labels = [label for label in results["sizes"] if label in results["runs"]]
    # Made again from the runs, so the page follows this module's formatting (the stored table
    # is as it was formatted when the bench ran).
    table = growth_table(results)
    machine = results.get("machine", {})
    out = [
        "# Benchmarks",
        "",
        f"The latest full `make bench`, rendered from `{source}` by `python -m bench.report --markdown"
        ' docs/benchmarks.md` (README "Benchmarks" says what each figure is). The machine may have been'
        " shared: the load averages say how busy it was.",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {results.get('date', '?')} |",
        f"| commit | `{results.get('commit', '?')}`"
        + (" (uncommitted changes)" if results.get("dirty") else "")
        + " |",
        f"| machine | {_cell(machine.get('cpu', '?'))}, {machine.get('cpus', '?')} CPUs,"
        f" {machine.get('memory_gb', '?')} GB; {_cell(machine.get('platform', '?'))} |",
        f"| software | Python {machine.get('python', '?')}"
        + (f", PostgreSQL {machine['postgresql']}" if machine.get("postgresql") else "")
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in machine["postgresql_settings"].items()) + ")"
            if machine.get("postgresql_settings")
            else ""
        )
        + " |",
        f"| database, channel layer | {results.get('database', '?')}, {results.get('channel_layer', '?')} |",
    ]
    serve = results.get("serve")
    if serve:
        out.append(f"| serving layout | `{serve['layout']}`: {_cell(serve['description'])} |")
        if serve.get("background"):
            out.append(f"| background work | {_cell(serve['background'])} |")
    options = results.get("options") or {}
    if options:
        out.append("| options | " + ", ".join(f"{key} {value}" for key, value in options.items()) + " |")
    if results.get("duration_s") is not None:
        out.append(f"| duration | {results['duration_s']} s |")
    # Rows measured again after the run (why, and when) are said, not silently swapped in.
    for amendment in results.get("amended") or ():
        out.append(f"| amended | {_cell(amendment)} |")
    out += [
        "",
        "## Sizes",
        "",
        "| size | tickets | messages | audit events | seeded in | load average start → end |",
    ]
    out.append("| --- | ---: | ---: | ---: | ---: | --- |")
    for label in labels:
        run = results["runs"][label]
        counts = run.get("counts", {})
        start, end = run.get("loadavg_start") or ["?"], run.get("loadavg_end") or ["?"]
        seeded = f"{run['seed_seconds']} s" if run.get("seed_seconds") else "(reused)"
        out.append(
            f"| {label} | {counts.get('tickets', 0):,} | {counts.get('messages', 0):,}"
            f" | {counts.get('audit_events', 0):,} | {seeded}"
            f" | {' / '.join(map(str, start))} → {' / '.join(map(str, end))} |"
        )
    titles = [title for _, title, _ in SECTIONS] + ["Audit", "Other"]
    notes = {title: note for _, title, note in SECTIONS}
    notes["Audit"] = (
        "Verification of the audit log's hash chain over every event (a sweep: its rate should hold)."
    )
    for title in titles:
        rows = [row for row in table if _section_of(row) == title]
        if not rows:
            continue
        out += ["", f"## {title}", ""]
        if notes.get(title):
            out += [notes[title], ""]
        growth_column = len(labels) > 1
        out.append("| figure | " + " | ".join(labels) + (" | growth |" if growth_column else " |"))
        out.append("| --- | " + " | ".join("---" for _ in labels) + (" | --- |" if growth_column else " |"))
        for row in rows:
            cells = [_cell(row["cells"].get(label, "-")) for label in labels]
            line = f"| {_cell(row['label'])} | " + " | ".join(cells)
            if growth_column:
                growth = "" if row["growth"] is None else f"×{row['growth']}"
                line += f" | {growth}{' **' + row['flag'] + '**' if row['flag'] else ''}"
            out.append(line + " |")
    for key, title in (("markdown", "Message body render budget"), ("mail", "Inbound email")):
        part = results.get(key)
        if not part:
            continue
        out += ["", f"## {title}", "", "| figure | value |", "| --- | --- |"]
        out += [f"| {_cell(name)} | {_cell(value)} |" for name, value in _flat(part)]
    known = {"size", "label", "counts", "seed_seconds", "loadavg_start", "loadavg_end", "http", "load"}
    known |= {"load_lists", "ws", "jobs"}
    for label in labels:
        extra = {key: value for key, value in results["runs"][label].items() if key not in known}
        if extra:
            out += ["", f"## Other figures ({label})", "", "| figure | value |", "| --- | --- |"]
            out += [f"| {_cell(name)} | {_cell(value)} |" for name, value in _flat(extra)]
    return "\n".join(out) + "\n"


def render_layouts(document: dict, *, source: str = "bench/layouts.json") -> str:
    """The serving layouts compared by ``python -m bench.layouts`` (README "Production")."""
    layouts = document.get("layouts", document)
    machine = document.get("machine", {})
    out = [
        "## Serving layouts compared",
        "",
        f"`python -m bench.layouts` on the {document.get('size', '?')} database,"
        f" {document.get('rounds', '?')} rounds, each layout in turn (A, B, A, B),"
        f" medians over the rounds (`{source}`; {document.get('date', '?')},"
        f" commit `{str(document.get('commit', '?'))[:12]}`, {machine.get('cpus', '?')} CPUs)."
        f" Throughput at {document.get('options', {}).get('connections', 8)} connections;"
        " the load average at the start of each round says how busy the shared machine was;"
        " server CPU per request is the median of the rounds that measured it.",
        "",
        "| layout | agent list views/s (each round) · p50 / p99 · errors"
        " | mixed requests/s (each round) · p50 / p99 · errors"
        " | server median: floor / list / ticket page | load average |",
        "| --- | --- | --- | --- | --- |",
    ]

    def rate(figures):
        if not figures or figures.get("requests_per_s") is None:
            return NA
        each = ", ".join(
            f"{value:g}" for value in figures.get("each_requests_per_s") or [] if value is not None
        )
        p50 = f"p50 {figures['p50_ms']:.0f} / " if figures.get("p50_ms") is not None else ""
        return (
            f"**{figures['requests_per_s']:g}** ({each}) · {p50}p99 {figures['p99_ms']:.0f} ms"
            f" · {figures['errors']} errors"
            + (
                f" · server CPU {figures['server_cpu_ms_per_request']:g} ms/request"
                if figures.get("server_cpu_ms_per_request")
                else ""
            )
        )

    for name, figures in layouts.items():
        pages = figures.get("pages_median_ms", {})
        times = " / ".join(f"{pages.get(page)} ms" for page in ("floor", "list_first", "ticket_page"))
        loads = ", ".join(str(value) for value in figures.get("loadavg", []))
        description = _cell(figures.get("description", ""))
        out.append(
            f"| `{name}`: {description} | {rate(figures.get('load_lists'))} | {rate(figures.get('load'))}"
            f" | {times} | {loads} |"
        )
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    import argparse
    import json
    from pathlib import Path

    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(
        prog="python -m bench.report", description="Print bench results, or render them to Markdown."
    )
    parser.add_argument("--input", default=str(here / "results.json"))
    parser.add_argument(
        "--markdown", metavar="PATH", help="write the Markdown page there (docs/benchmarks.md)"
    )
    parser.add_argument(
        "--layouts",
        default=str(here / "layouts.json"),
        help="python -m bench.layouts's comparison, when present",
    )
    args = parser.parse_args(argv)
    results = json.loads(Path(args.input).read_text())

    def shown(path):
        try:
            return str(Path(path).resolve().relative_to(here.parent))
        except ValueError:
            return Path(path).name

    if args.markdown:
        page = render_markdown(results, source=shown(args.input))
        if Path(args.layouts).exists():
            page += "\n" + render_layouts(
                json.loads(Path(args.layouts).read_text()), source=shown(args.layouts)
            )
        Path(args.markdown).write_text(page)
        print(f"written to {args.markdown}")
    else:
        results["table"] = growth_table(results)  # as the Markdown page: made again from the runs
        print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
