"""Page timings over real HTTP: median and p95 of server and client time, and SQL query count.

One keep-alive connection (``http.client``, a real loopback socket) asks each page in turn, round
robin, after a warm-up, so slow drift of the machine spreads over every row alike. The server
time and query count come from the ``X-Bench-*`` headers that only ``bench.settings`` adds.
"""

from __future__ import annotations

import http.client
import math
import re
import statistics
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from bench.middleware import QUERIES_HEADER, SERVER_MS_HEADER

NOT_AVAILABLE = "not available yet"
TICKET_LINK = re.compile(r'href="[^"]*/tickets/(\d+)/"')


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]
    client_ms: float
    header_list: list[tuple[str, str]] = field(default_factory=list)

    def set_cookies(self) -> list[str]:
        return [value for name, value in self.header_list if name.lower() == "set-cookie"]

    @property
    def server_ms(self) -> float | None:
        value = self.headers.get(SERVER_MS_HEADER.lower())
        return float(value) if value is not None else None

    @property
    def queries(self) -> int | None:
        value = self.headers.get(QUERIES_HEADER.lower())
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """A keep-alive HTTP/1.1 client on one socket; reconnects when the server closes it."""

    def __init__(self, base: str, *, timeout: float = 300):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, *, cookie: str = "", body: bytes | None = None, headers=None):
        all_headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "helpdesk-bench"}
        if cookie:
            all_headers["Cookie"] = cookie
        all_headers.update(headers or {})
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                raw = self.conn.getresponse()
                data = raw.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
                continue
            elapsed = (time.perf_counter() - started) * 1000
            headers_out = {k.lower(): v for k, v in raw.getheaders()}
            if headers_out.get("connection", "").lower() == "close":
                self.close()
            return Response(raw.status, data, headers_out, elapsed, raw.getheaders())
        raise AssertionError("unreachable")

    def get(self, path: str, *, cookie: str = "") -> Response:
        return self.request("GET", path, cookie=cookie)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Scenario:
    name: str
    label: str
    path: str | None
    cookie: str = ""
    note: str = ""
    detail: dict = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.path is not None


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 3),
        "p95": round(percentile(values, 95), 3),
        "min": round(min(values), 3),
        "n": len(values),
    }


SLOW_BUDGET_MS = 60_000  # per page: a page slower than this gets fewer repetitions (at least 3)
MIN_SAMPLES = 3


def measure(
    client: Client, scenarios: list[Scenario], *, repeat: int, warmup: int, budget_ms: float = SLOW_BUDGET_MS
) -> dict[str, dict]:
    """Round-robin over the available scenarios; returns stats per scenario name.

    A page whose measured requests already took ``budget_ms`` in all stops after
    ``MIN_SAMPLES`` (its row says how many it got), so one pathological page cannot hold the
    run for an hour; its warm-up shrinks to one request for the same reason.
    """
    live = [s for s in scenarios if s.available]
    samples = {s.name: {"server": [], "client": [], "queries": [], "status": set(), "bytes": 0} for s in live}
    spent = dict.fromkeys(samples, 0.0)
    for round_number in range(warmup + repeat):
        for scenario in live:
            sample = samples[scenario.name]
            if round_number < warmup and round_number > 0 and spent[scenario.name] > budget_ms / 10:
                continue
            if len(sample["client"]) >= MIN_SAMPLES and spent[scenario.name] > budget_ms:
                continue
            response = client.get(scenario.path, cookie=scenario.cookie)
            spent[scenario.name] += response.client_ms
            if round_number < warmup:
                continue
            sample["status"].add(response.status)
            sample["client"].append(response.client_ms)
            if response.server_ms is not None:
                sample["server"].append(response.server_ms)
            if response.queries is not None:
                sample["queries"].append(response.queries)
            sample["bytes"] = len(response.body)
    results = {}
    for scenario in scenarios:
        if not scenario.available:
            results[scenario.name] = {"label": scenario.label, "available": False, "note": scenario.note}
            continue
        sample = samples[scenario.name]
        results[scenario.name] = {
            "label": scenario.label,
            "available": True,
            "path": scenario.path,
            "status": sorted(sample["status"]),
            "client_ms": summarize(sample["client"]),
            "server_ms": summarize(sample["server"]) if sample["server"] else None,
            "queries": int(statistics.median(sample["queries"])) if sample["queries"] else None,
            "queries_max": max(sample["queries"]) if sample["queries"] else None,
            "bytes": sample["bytes"],
            "note": scenario.note,
            **scenario.detail,
        }
    return results


# Finding the pages -----------------------------------------------------------------------------


class _Links(HTMLParser):
    """Collects anchors (href, rel, text) of a page."""

    def __init__(self):
        super().__init__()
        self.anchors: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            attributes = dict(attrs)
            self._current = {
                "href": attributes.get("href") or "",
                "rel": attributes.get("rel") or "",
                "text": "",
            }
            self.anchors.append(self._current)
        elif tag == "link":
            attributes = dict(attrs)
            if attributes.get("rel") in ("next", "prev"):
                self.anchors.append(
                    {"href": attributes.get("href") or "", "rel": attributes["rel"], "text": ""}
                )

    def handle_endtag(self, tag):
        if tag == "a":
            self._current = None

    def handle_data(self, data):
        if self._current is not None:
            self._current["text"] += data


def older_link(html: str, current_path: str) -> str | None:
    """The keyset "older" (next page) link of a ticket list page, as an absolute path."""
    parser = _Links()
    parser.feed(html)
    for anchor in parser.anchors:
        rel = anchor["rel"].split()
        text = anchor["text"].strip().lower()
        if anchor["href"] and ("next" in rel or text.startswith("older") or text.startswith("next")):
            return _absolute(anchor["href"], current_path)
    return None


def _absolute(href: str, current_path: str) -> str:
    href = href.replace("&amp;", "&")
    if href.startswith("/"):
        return href
    base = current_path.split("?")[0]
    if href.startswith("?"):
        return base + href
    return base.rsplit("/", 1)[0] + "/" + href


def ticket_numbers(html: str) -> set[int]:
    return {int(n) for n in TICKET_LINK.findall(html)}


def discover(client: Client, fixture: dict, *, deep_pages: int) -> list[Scenario]:
    """The scenarios of the issue, with paths checked against the running server.

    A page the product does not serve yet (404, 5xx, a filter that changes nothing) becomes a
    "not available yet" row instead of a number that would mean something else.
    """
    slug = fixture["slug"]
    agent, requester = fixture["cookies"]["agent0"], fixture["cookies"]["requester0"]
    base = f"/w/{slug}/tickets/"
    # The floor carries the agent's cookie, as every page does: the same session and user reads
    # by the same middleware, so a page's ratio to it is what the page itself adds.
    scenarios = [
        Scenario("floor", "reference: bare view returning a constant, signed in", "/bench/floor", agent)
    ]

    first = client.get(base, cookie=agent)
    first_ok = first.status == 200
    first_numbers = ticket_numbers(first.text) if first_ok else set()
    scenarios.append(
        Scenario(
            "list_first",
            'agent ticket list, landing page ("My open", with the 6 built-in views\' counts)',
            base if first_ok else None,
            agent,
            note="" if first_ok else f"{NOT_AVAILABLE} (HTTP {first.status})",
            detail={"rows": len(first_numbers)},
        )
    )

    def variant(name, label, path, *, must_differ=True):
        response = client.get(path, cookie=agent)
        numbers = ticket_numbers(response.text) if response.status == 200 else set()
        if response.status != 200:
            note = f"{NOT_AVAILABLE} (HTTP {response.status})"
        elif must_differ and first_ok and numbers == first_numbers:
            note = f"{NOT_AVAILABLE} (the list ignores the parameters)"
        else:
            note = ""
        scenarios.append(
            Scenario(name, label, None if note else path, agent, note=note, detail={"rows": len(numbers)})
        )

    queue_id = fixture["agent_queue_ids"][0]
    variant(
        "list_filtered",
        "agent ticket list, filtered (open, one queue)",
        f"{base}?status=open&queue={queue_id}",
    )

    # Deep page: follow the keyset "older" link.
    path, depth, response = base, 0, first
    while first_ok and depth < deep_pages:
        link = older_link(response.text, path)
        if link is None:
            break
        response = client.get(link, cookie=agent)
        if response.status != 200:
            break
        path, depth = link, depth + 1
    if depth == 0:
        scenarios.append(
            Scenario(
                "list_deep",
                "agent ticket list, deep page",
                None,
                agent,
                note=f"{NOT_AVAILABLE} (no older-page link on the list)",
            )
        )
    else:
        scenarios.append(
            Scenario(
                "list_deep",
                f"agent ticket list, deep page ({depth} pages in)",
                path,
                agent,
                detail={"depth_pages": depth, "rows": len(ticket_numbers(response.text))},
            )
        )

    saved_cookie = fixture["cookies"].get(fixture.get("saved_views_agent", ""))
    saved = client.get(base, cookie=saved_cookie) if saved_cookie else None
    saved_ok = saved is not None and saved.status == 200 and "Bench view 0" in saved.text
    scenarios.append(
        Scenario(
            "list_saved_views",
            f"agent ticket list, landing page with {fixture.get('saved_views', 0)} saved views, counted",
            base if saved_ok else None,
            saved_cookie or "",
            note="" if saved_ok else f"{NOT_AVAILABLE} (no saved views on the list)",
            detail={"rows": len(ticket_numbers(saved.text)) if saved_ok else 0},
        )
    )
    # What that page fetches once loaded: every view's count, the saved search's included.
    counts = client.get(f"{base}counts/", cookie=saved_cookie) if saved_ok else None
    counts_ok = counts is not None and counts.status == 200
    scenarios.append(
        Scenario(
            "view_counts",
            "view counts the list fetches once loaded (10 saved views, one a search)",
            f"{base}counts/" if counts_ok else None,
            saved_cookie or "",
            note="" if counts_ok else f"{NOT_AVAILABLE} (no counts endpoint)",
        )
    )

    variant("search", "agent ticket list, search for a rare word", f"{base}?q={fixture['search_term']}")
    variant(
        "search_common",
        "agent ticket list, search for a word in half the messages",
        f"{base}?q={fixture.get('common_term', 'refund')}",
    )

    ticket_path = f"{base}{fixture['big_number']}/"
    page = client.get(ticket_path, cookie=agent)
    scenarios.append(
        Scenario(
            "ticket_page",
            "ticket page, 50 messages (agent)",
            ticket_path if page.status == 200 else None,
            agent,
            note="" if page.status == 200 else f"{NOT_AVAILABLE} (HTTP {page.status})",
        )
    )

    scenarios += report_scenarios(client, fixture)

    mine = client.get(base, cookie=requester)
    mine_numbers = ticket_numbers(mine.text) if mine.status == 200 else set()
    scenarios.append(
        Scenario(
            "my_tickets",
            f'requester "my tickets" ({fixture.get("requester_ticket_count", 0):,} tickets)',
            base if mine.status == 200 else None,
            requester,
            note="" if mine.status == 200 else f"{NOT_AVAILABLE} (HTTP {mine.status})",
            detail={"rows": len(mine_numbers)},
        )
    )
    return scenarios


def run(base: str, fixture: dict, *, repeat: int, warmup: int, deep_pages: int, log=print) -> dict:
    client = Client(base)
    try:
        scenarios = discover(client, fixture, deep_pages=deep_pages)
        for scenario in scenarios:
            if not scenario.available:
                log(f"    {scenario.label}: {scenario.note}")
        return measure(client, scenarios, repeat=repeat, warmup=warmup)
    finally:
        client.close()


# The seeded tickets end at bench.seed.ANCHOR: the dashboard is measured for the 90 days before it,
# so the rows in the period are the same whatever day the bench runs.
REPORT_QUERY = "period=90&end=2026-10-31"


def report_scenarios(client: Client, fixture: dict) -> list[Scenario]:
    """The reports dashboard (tickets/reports.py) of an admin (every queue) and of the measured
    agent (their 4 queues), for 90 days; and one of its CSV downloads."""
    path = f"/w/{fixture['slug']}/reports/?{REPORT_QUERY}"
    csv_path = f"/w/{fixture['slug']}/reports/daily.csv?{REPORT_QUERY}"
    rows = []
    for name, label, url, who in (
        ("reports_admin", "reports dashboard, 90 days, every queue (admin)", path, "admin0"),
        ("reports_agent", "reports dashboard, 90 days, 4 queues (agent)", path, "agent0"),
        ("reports_csv", "reports CSV download, per day, 90 days (admin)", csv_path, "admin0"),
    ):
        cookie = fixture["cookies"].get(who, "")
        response = client.get(url, cookie=cookie)
        ok = response.status == 200
        rows.append(
            Scenario(
                name,
                label,
                url if ok else None,
                cookie,
                note="" if ok else f"{NOT_AVAILABLE} (HTTP {response.status})",
            )
        )
    return rows
