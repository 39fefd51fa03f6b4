"""Websocket fan-out: time from an agent's reply POST to its arrival at N connected clients.

N clients (half the measured agent's sessions, half the ticket's requester's; each its own
session cookie) open ``ws/w/<slug>/tickets/<number>/`` on the server under test. The agent then
posts a public reply through the ticket page's own form (with its CSRF token), and every client
notes when the ``message`` frame arrives. The clock starts just before the POST is sent, so the
figure includes the request, the commit, the channel layer (Redis with REDIS_URL) and the
per-client re-read and render in the consumer.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

from bench.measure_http import NOT_AVAILABLE, Client, percentile

REPLY_TEXT = "Benchmark reply {k}: thanks, we are on it."
CONNECT_TIMEOUT = 30
ARRIVAL_TIMEOUT = 30


class _Forms(HTMLParser):
    """The POST forms of a page with their fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {
                "action": a.get("action") or "",
                "method": (a.get("method") or "get").lower(),
                "fields": [],
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select", "button"):
            self._form["fields"].append(
                {
                    "tag": tag,
                    "name": a.get("name"),
                    "type": (a.get("type") or "").lower(),
                    "value": a.get("value"),
                }
            )

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def reply_form(html: str, page_path: str) -> tuple[str, list[tuple[str, str]], str] | None:
    """(action path, fixed fields, name of the text field) of the page's reply form, or None."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if form["method"] != "post":
            continue
        textareas = [f for f in form["fields"] if f["tag"] == "textarea" and f["name"]]
        if not textareas:
            continue
        text_field = next((f["name"] for f in textareas if f["name"] in ("body", "text", "message")), None)
        if text_field is None:
            continue
        fields, kinds = [], {}
        for f in form["fields"]:
            if not f["name"] or f["tag"] == "textarea":
                continue
            if f["type"] == "radio" or (f["tag"] == "button" and f["type"] in ("", "submit")):
                kinds.setdefault(f["name"], []).append(f["value"])
            elif f["type"] in ("hidden", "text", "") and f["tag"] == "input":
                fields.append((f["name"], f["value"] or ""))
            elif f["tag"] == "select" and f["name"] == "kind":
                kinds.setdefault("kind", []).append("reply")
        for name, values in kinds.items():
            fields.append((name, "reply" if "reply" in values else values[0]))
        action = form["action"] or page_path
        if not action.startswith("/"):
            action = page_path.rsplit("/", 1)[0] + "/" + action
        return action, fields, text_field
    return None


def _cookie_value(set_cookie_headers: list[str], name: str) -> str | None:
    for header in set_cookie_headers:
        first = header.split(";", 1)[0]
        if first.startswith(f"{name}="):
            return first.split("=", 1)[1]
    return None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of process ``pid`` so far (Linux /proc), None when unknown. Unlike
    wall-clock times it hardly moves with the load of a shared machine."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _fan_out(base, ws_path, cookies, post_reply, *, rounds, log, server_pid=None):
    from websockets.asyncio.client import connect

    ws_base = base.replace("http://", "ws://")
    origin = base
    sockets = []
    try:
        for cookie in cookies:
            sockets.append(
                await asyncio.wait_for(
                    connect(
                        ws_base + ws_path,
                        additional_headers={"Cookie": cookie},
                        origin=origin,
                        open_timeout=CONNECT_TIMEOUT,
                        max_queue=None,
                    ),
                    CONNECT_TIMEOUT,
                )
            )
        latencies, lasts, spreads, cpu, missing = [], [], [], [], 0
        for k in range(rounds + 1):  # round 0 warms up
            cpu_before = cpu_seconds(server_pid)
            started = time.perf_counter()
            arrivals = [_arrival(sock) for sock in sockets]
            tasks = [asyncio.ensure_future(a) for a in arrivals]
            await asyncio.sleep(0)
            status = await asyncio.to_thread(post_reply, k)
            done = await asyncio.gather(*tasks)
            cpu_after = cpu_seconds(server_pid)
            times = [(t - started) * 1000 for t in done if t is not None]
            if status not in (200, 201, 204, 302, 303):
                raise RuntimeError(f"the reply POST answered HTTP {status}")
            if k == 0:
                continue
            missing += len(done) - len(times)
            latencies.extend(times)
            if times:
                lasts.append(max(times))
                spreads.append(max(times) - min(times))
            if cpu_before is not None and cpu_after is not None:
                cpu.append((cpu_after - cpu_before) * 1000)
        return latencies, lasts, spreads, cpu, missing
    finally:
        for sock in sockets:
            await sock.close()


async def _arrival(sock) -> float | None:
    deadline = time.monotonic() + ARRIVAL_TIMEOUT
    while time.monotonic() < deadline:
        try:
            raw = await asyncio.wait_for(sock.recv(), max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return None
        arrived = time.perf_counter()
        try:
            frame = json.loads(raw)
        except ValueError:
            continue
        if frame.get("type") == "message":
            return arrived
    return None


def run(base: str, fixture: dict, *, clients: int, rounds: int, log=print, server_pid=None) -> dict:
    slug, number = fixture["slug"], fixture["big_number"]
    page_path = f"/w/{slug}/tickets/{number}/"
    agent_cookie = fixture["cookies"]["agent0"]
    http = Client(base)
    page = http.get(page_path, cookie=agent_cookie)
    if page.status != 200:
        return {"available": False, "note": f"{NOT_AVAILABLE} (ticket page HTTP {page.status})"}
    form = reply_form(page.text, page_path)
    if form is None:
        return {"available": False, "note": f"{NOT_AVAILABLE} (no reply form on the ticket page)"}
    action, fields, text_field = form
    csrf = _cookie_value(page.set_cookies(), "csrftoken")
    cookie = agent_cookie + (f"; csrftoken={csrf}" if csrf else "")

    def post_reply(k: int) -> int:
        body = urlencode([*fields, (text_field, REPLY_TEXT.format(k=k))]).encode()
        response = http.request(
            "POST",
            action,
            cookie=cookie,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": base,
                "Referer": base + page_path,
            },
        )
        return response.status

    cookies = fixture["ws_cookies"][:clients]
    try:
        latencies, lasts, spreads, cpu, missing = asyncio.run(
            _fan_out(
                base, f"/ws{page_path}", cookies, post_reply, rounds=rounds, log=log, server_pid=server_pid
            )
        )
    except Exception as error:  # noqa: BLE001 - reported as the row's note, the run goes on
        return {"available": False, "note": f"failed: {type(error).__name__}: {error}"[:300]}
    finally:
        http.close()
    if not latencies:
        return {"available": False, "note": "no client received the reply"}
    return {
        "available": True,
        "clients": len(cookies),
        "rounds": rounds,
        "median_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        # The figure: when the reply reached the LAST client, per round.
        "last_client_median_ms": round(statistics.median(lasts), 2),
        "last_client_p95_ms": round(percentile(lasts, 95), 2),
        "last_client_max_ms": round(max(lasts), 2),
        # First to last client: the fan-out alone, without the POST (which a loaded machine
        # slows down as much as everything else).
        "spread_median_ms": round(statistics.median(spreads), 2),
        "spread_p95_ms": round(percentile(spreads, 95), 2),
        # The server's CPU time per round (the POST and the fan-out; clock ticks of 10 ms).
        "server_cpu_ms_median": round(statistics.median(cpu), 1) if cpu else None,
        "missing": missing,
    }


def run_counts(
    base: str, fixture: dict, *, counts: list[int], rounds: int, log=print, server_pid=None
) -> dict:
    """``run`` for each client count (1, 10, 100, 1,000 by default), with the load average
    before each: the machine may be shared, and a busy neighbour shows in the figures."""
    results = {}
    for clients in counts:
        if clients > len(fixture["ws_cookies"]):
            sessions = len(fixture["ws_cookies"])
            results[str(clients)] = {"available": False, "note": f"only {sessions} sessions"}
            continue
        loadavg = [round(x, 2) for x in os.getloadavg()]
        log(f"    {clients} clients (load average {loadavg[0]:.2f}) ...")
        result = run(base, fixture, clients=clients, rounds=rounds, log=log, server_pid=server_pid)
        result["loadavg"] = loadavg
        results[str(clients)] = result
        if result.get("available"):
            log(
                f"      last client: p50 {result['last_client_median_ms']:.0f} ms,"
                f" p95 {result['last_client_p95_ms']:.0f} ms, max {result['last_client_max_ms']:.0f} ms"
                f"; first to last client: p50 {result['spread_median_ms']:.0f} ms,"
                f" p95 {result['spread_p95_ms']:.0f} ms; server CPU per round"
                f" {result['server_cpu_ms_median']} ms"
            )
        else:
            log(f"      {result.get('note')}")
    return results
