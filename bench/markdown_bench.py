"""The render budget of one message body (part ``markdown`` of ``make bench``).

Renders every pathological body of tests/markdown_corpus.py at the longest length a message may
have (``MESSAGE_BODY_MAX_LENGTH``) and at a quarter of it, the best of ``repeat`` runs each, in CPU
time of the rendering thread with the garbage collector paused (the machine is shared: wall time
would measure the other processes). A body
over ``BUDGET_MS`` fails the bench, and so does one whose time grows more than ``GROWTH_LIMIT``-fold
when its length grows 4-fold (linear is about 4×, a parser gone quadratic about 16×, whatever the
machine's speed). Bodies are rendered once, when written (``Message.body_html``); this budget is what one
hostile post can cost the worker that stores it, never a page view.

No database: ``python -m bench --markdown-only`` (or ``python -m bench.markdown_bench``); the
bench runs it in a child process of its own, as it does bench.prepare.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

# CPU time for one body at the edge limit (20,000 characters), about 25 µs a character.
# markdown-it-py is pure Python: its worst case here (a run of "![") takes about 0.35 s.
BUDGET_MS = 500.0
GROWTH_LIMIT = 8.0


def _best_ms(body: str, repeat: int) -> tuple[float, str]:
    from helpdesk.markdown import render_markdown

    best, html = float("inf"), ""
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.thread_time()
            html = str(render_markdown(body))
            best = min(best, (time.thread_time() - started) * 1000)
    finally:
        gc.enable()
    return best, html


def run(*, repeat: int = 5, budget_ms: float = BUDGET_MS, log=print) -> dict:
    from helpdesk.markdown import MAX_SOURCE_CHARS
    from tests.markdown_corpus import corpus, inert_problems
    from tickets.models import MESSAGE_BODY_MAX_LENGTH

    length = MESSAGE_BODY_MAX_LENGTH
    quarter = dict(corpus(length // 4))
    cases, over, superlinear, unsafe = [], [], [], []
    for name, body in corpus(length):
        ms, html = _best_ms(body, repeat)
        quarter_ms, _ = _best_ms(quarter[name], repeat)
        # Below a few milliseconds the ratio is noise, not growth.
        growth = round(ms / quarter_ms, 2) if quarter_ms >= 2.0 else None
        problems = inert_problems(html)
        row = {"name": name, "chars": len(body), "ms": round(ms, 1), "quarter_ms": round(quarter_ms, 1)}
        row |= {"growth": growth, "html_chars": len(html), "problems": problems[:3]}
        cases.append(row)
        flags = []
        if ms > budget_ms:
            over.append(name)
            flags.append(f"OVER BUDGET ({budget_ms:.0f} ms)")
        if growth is not None and growth > GROWTH_LIMIT:
            superlinear.append(name)
            flags.append(f"SUPERLINEAR (×{growth} for ×4 length)")
        if problems:
            unsafe.append(name)
            flags.append(f"UNSAFE OUTPUT {problems[:2]}")
        growth_text = f"×{growth:.2f}" if growth is not None else "  -  "
        log(f"    {name:22} {ms:8.1f} ms  (¼ length {quarter_ms:6.1f} ms, {growth_text})  {' '.join(flags)}")
    # A caller other than the forms (an email of a longer text) gets the plain-text fallback.
    beyond = "[" * (MAX_SOURCE_CHARS + 1)
    beyond_ms, _ = _best_ms(beyond, repeat)
    log(f"    {'beyond the limit':22} {beyond_ms:8.1f} ms  ({len(beyond):,} chars, shown as plain text)")
    worst = max(cases, key=lambda c: c["ms"])
    result = {
        "budget_ms": budget_ms,
        "length": length,
        "repeat": repeat,
        "cases": cases,
        "worst": {"name": worst["name"], "ms": worst["ms"]},
        "beyond_limit_ms": round(beyond_ms, 1),
        "over_budget": over,
        "superlinear": superlinear,
        "unsafe": unsafe,
        "ok": not (over or superlinear or unsafe),
    }
    if result["ok"]:
        log(f"  markdown: every body within {budget_ms:.0f} ms (worst {worst['name']!r}: {worst['ms']} ms)")
    else:
        log("  !!! MARKDOWN RENDER BUDGET FAILED !!!")
        for label, names in (("over budget", over), ("superlinear", superlinear), ("unsafe", unsafe)):
            if names:
                log(f"  !!! {label}: {', '.join(names)}")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.markdown_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--budget-ms", type=float, default=BUDGET_MS)
    parser.add_argument("--output", help="write the result as JSON to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    # With DATABASE_URL set (a PostgreSQL bench) DEBUG is off and settings want a key; no
    # database is used here, so the bench's own key is enough (as bench.mail_bench does).
    from bench.environment import BENCH_SECRET_KEY

    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    import django

    django.setup()
    result = run(repeat=args.repeat, budget_ms=args.budget_ms, log=lambda text: print(text, flush=True))
    if args.output:
        with open(args.output, "w") as out:
            json.dump(result, out, indent=1)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
