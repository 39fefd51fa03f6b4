"""``python -m bench.layouts``: compare serving layouts on one seeded database, in turns.

Runs ``python -m bench --reuse --serve <layout>`` (pages over HTTP and the two wrk runs) for each
layout, round after round (A, B, A, B ...: a shared machine's load drifts, so turns spread it),
then prints per layout the medians over the rounds with the load averages they ran at, and writes
them to ``bench/layouts.json`` (committed; ``python -m bench.report --markdown`` renders it into
docs/benchmarks.md). How README "Production"'s layout was chosen; seed the size once first
(``python -m bench --sizes 10k --skip ...``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.environment import BENCH_VAR, ROOT, python
from bench.server import DEFAULT_LAYOUT, parse_layout

PAGES = ("floor", "list_first", "list_filtered", "search", "ticket_page", "my_tickets")


def summarize(runs: list[dict]) -> dict:
    def median(values):
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 1) if values else None

    def load_figure(run, key, field):
        load = run.get(key) or {}
        return load.get(field) if load.get("available") else None

    summary = {
        "rounds": len(runs),
        "loadavg": [run.get("loadavg_start", [None])[0] for run in runs],
        "pages_median_ms": {
            page: median(
                [((run.get("http", {}).get(page) or {}).get("server_ms") or {}).get("median") for run in runs]
            )
            for page in PAGES
        },
    }
    for key in ("load", "load_lists"):
        summary[key] = {
            field: median([load_figure(run, key, field) for run in runs])
            for field in ("requests_per_s", "p50_ms", "p99_ms", "server_cpu_ms_per_request")
        }
        summary[key]["errors"] = sum(load_figure(run, key, "errors") or 0 for run in runs)
        summary[key]["each_requests_per_s"] = [load_figure(run, key, "requests_per_s") for run in runs]
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.layouts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--layouts", default=f"uvicorn-1,uvicorn-2,{DEFAULT_LAYOUT},granian-2x4")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--first-round", type=int, default=1, help="number of the first round (to add rounds)"
    )
    parser.add_argument(
        "--no-run", action="store_true", help="only summarise the rounds already in var/bench/layouts/"
    )
    parser.add_argument("--size", default="10k")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--load-seconds", type=int, default=15)
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "layouts.json"))
    args = parser.parse_args(argv)
    layouts = [parse_layout(text).name for text in args.layouts.split(",") if text.strip()]
    out_dir = BENCH_VAR / "layouts"
    out_dir.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {layout: [] for layout in layouts}
    numbers = range(args.first_round, args.first_round + args.rounds)
    for round_number in [] if args.no_run else numbers:
        for layout in layouts:
            output = out_dir / f"{layout}-{round_number}.json"
            print(f"== round {round_number}: {layout}", flush=True)
            command = [
                python(),
                "-m",
                "bench",
                "--sizes",
                args.size,
                "--reuse",
                "--skip",
                "ws,jobs,markdown,mail",
                "--repeat",
                str(args.repeat),
                "--load-seconds",
                str(args.load_seconds),
                "--serve",
                layout,
                "--output",
                str(output),
            ]
            subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    for layout in layouts:
        for round_number in numbers:
            path = out_dir / f"{layout}-{round_number}.json"
            if path.exists():  # a round stopped early is left out, and the count says so
                runs[layout].append(json.loads(path.read_text())["runs"][args.size])
    summary = {layout: summarize(layout_runs) for layout, layout_runs in runs.items()}
    first = json.loads((out_dir / f"{layouts[0]}-{args.first_round}.json").read_text())
    document = {
        "date": first["date"],
        "commit": first["commit"],
        "dirty": first["dirty"],
        "machine": first["machine"],
        "size": args.size,
        "rounds": args.rounds,
        "options": first["options"],
        "layouts": {
            layout: {"description": parse_layout(layout).describe(), **figures}
            for layout, figures in summary.items()
        },
    }
    Path(args.output).write_text(json.dumps(document, indent=1))
    for layout, figures in summary.items():
        print(f"\n{layout}: {parse_layout(layout).describe()}; load average {figures['loadavg']}")
        print(
            "   pages, server median ms: "
            + ", ".join(f"{k} {v}" for k, v in figures["pages_median_ms"].items())
        )
        for key in ("load", "load_lists"):
            f = figures[key]
            print(
                f"   {key}: {f['requests_per_s']} req/s (each {f['each_requests_per_s']}),"
                f" p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, {f['errors']} errors"
            )
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
