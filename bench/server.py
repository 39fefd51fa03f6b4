"""The servers under test, on loopback ports, in child processes: one serving layout at a time.

A layout is named ``<server>-<size>`` (``python -m bench --serve``):

- ``uvicorn-W``: the ASGI application (pages and websockets) in uvicorn with W worker processes;
- ``gunicorn-WxT``: the pages through WSGI in gunicorn, W processes of T threads (gthread), plus
  one uvicorn process for the websockets (``/ws/`` is routed to it by the proxy in production);
- ``granian-WxT``: the pages through WSGI in granian, W processes of T blocking threads, plus the
  same websocket process.

``DEFAULT_LAYOUT`` is what README "Production" runs, chosen by measurement (docs/benchmarks.md).

With a Redis (``REDIS_URL``) the servers also get what production has beside them: a Celery
broker on that Redis and one Celery worker with its beat (emails, audit sealing every 2 s). A
reply's notification emails then leave the request as a queued task, as in production, instead
of being rendered and sent inside the POST (the eager mode of the embedded default).
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass

from bench.environment import ROOT, python

ASGI_APPLICATION = "helpdesk.asgi:application"
WSGI_APPLICATION = "helpdesk.wsgi:application"
DEFAULT_LAYOUT = "gunicorn-2x4"
LAYOUT_PATTERN = re.compile(r"^(?:(uvicorn)-(\d+)|(gunicorn|granian)-(\d+)x(\d+))$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a process, from Linux's /proc."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: PTH123, SIM115
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float | None:
    """CPU time so far of a process and its live descendants (a server's workers). Unlike wall
    time it hardly moves with the load of a shared machine; None off Linux."""
    stats = (
        {int(pid): _stat(pid) for pid in os.listdir("/proc") if pid.isdigit()}
        if os.path.isdir("/proc")
        else {}
    )
    stats = {pid: stat for pid, stat in stats.items() if stat is not None}
    if root not in stats:
        return None
    tree, total, grew = {root}, 0.0, True
    while grew:
        grew = False
        for pid, (parent, _) in stats.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    for pid in tree:
        total += stats[pid][1]
    return total


@dataclass(frozen=True)
class Layout:
    name: str
    server: str
    workers: int
    threads: int  # 0: an ASGI server (sync views hop to asgiref's threads)

    @property
    def split(self) -> bool:
        """Pages and websockets in different processes (a WSGI server cannot hold a websocket)."""
        return self.server != "uvicorn"

    def describe(self) -> str:
        if not self.split:
            return f"uvicorn (ASGI), {self.workers} worker(s), pages and websockets"
        return (
            f"{self.server} (WSGI), {self.workers} worker(s) × {self.threads} threads for pages;"
            " uvicorn (ASGI), 1 worker, for websockets"
        )


def parse_layout(text: str) -> Layout:
    match = LAYOUT_PATTERN.match(text.strip())
    if not match:
        raise ValueError(
            f"unknown layout {text!r}: uvicorn-W, gunicorn-WxT or granian-WxT (e.g. {DEFAULT_LAYOUT})"
        )
    if match.group(1):
        return Layout(text.strip(), "uvicorn", int(match.group(2)), 0)
    return Layout(text.strip(), match.group(3), int(match.group(4)), int(match.group(5)))


def uvicorn_command(port: int, workers: int) -> list[str]:
    return [
        python(),
        "-m",
        "uvicorn",
        ASGI_APPLICATION,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        "--lifespan",
        "on",
    ]


def worker_command(schedule_path) -> list[str]:
    """One Celery worker process (the solo pool: its CPU is one process's) with its beat; the
    queue left by an earlier run (another size's database) is purged at start."""
    return [
        python(),
        "-m",
        "celery",
        "-A",
        "helpdesk",
        "worker",
        "--beat",
        "--schedule",
        str(schedule_path),
        "--pool",
        "solo",
        "--purge",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "warning",
    ]


def with_broker(env: dict[str, str]) -> dict[str, str]:
    """The servers' environment with the Celery broker production has, when a Redis is given."""
    redis_url = env.get("REDIS_URL")
    if not redis_url or env.get("CELERY_BROKER_URL"):
        return env
    return {**env, "CELERY_BROKER_URL": redis_url}


def pages_command(layout: Layout, port: int) -> list[str]:
    if layout.server == "uvicorn":
        return uvicorn_command(port, layout.workers)
    if layout.server == "gunicorn":
        return [
            python(),
            "-m",
            "gunicorn",
            WSGI_APPLICATION,
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(layout.workers),
            "--threads",
            str(layout.threads),
            # As many connections as threads (README "Production"): a worker whose threads are
            # all busy leaves the next connection to another worker.
            "--worker-connections",
            str(layout.threads),
            "--log-level",
            "warning",
        ]
    return [
        python(),
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(layout.workers),
        "--blocking-threads",
        str(layout.threads),
        "--no-access-log",
        "--log-level",
        "warning",
        WSGI_APPLICATION,
    ]


class _Process:
    def __init__(self, command, *, env, log_path, port=None):
        self.port = port
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                self.log.close()
                output = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the server exited at start:\n{output}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/bench/floor")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the server on port {self.port} did not answer in time")

    def stop(self) -> str:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()
        return self.log_path.read_text(errors="replace")[-5000:]


class Server:
    """``with Server(env, layout=...) as server:`` ``server.base`` serves the pages,
    ``server.ws_base`` the websockets (the same URL unless the layout splits them)."""

    def __init__(
        self, env: dict[str, str], *, log_path, layout: str = DEFAULT_LAYOUT, startup_seconds: float = 60
    ):
        self.env = with_broker(env)
        self.log_path = log_path
        self.layout = parse_layout(layout)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.base = f"http://{self.host}:{self.port}"
        self.ws_port = free_port() if self.layout.split else self.port
        self.ws_base = f"http://{self.host}:{self.ws_port}"
        self.startup_seconds = startup_seconds
        self.processes: list[_Process] = []
        self.worker: _Process | None = None

    @property
    def has_worker(self) -> bool:
        return bool(self.env.get("CELERY_BROKER_URL"))

    @property
    def process(self) -> subprocess.Popen | None:
        """The process holding the websockets (its CPU time is the fan-out's cost)."""
        return self.processes[-1].popen if self.processes else None

    def worker_cpu_seconds(self) -> float | None:
        """CPU time so far of the Celery worker (the emails a request queued), if there is one."""
        return tree_cpu_seconds(self.worker.popen.pid) if self.worker is not None else None

    def pages_cpu_seconds(self) -> float | None:
        """CPU time so far of the processes serving the pages (workers included)."""
        return tree_cpu_seconds(self.processes[0].popen.pid) if self.processes else None

    def start(self) -> Server:
        self.processes.append(
            _Process(
                pages_command(self.layout, self.port), env=self.env, log_path=self.log_path, port=self.port
            )
        )
        if self.layout.split:
            ws_log = self.log_path.with_name(self.log_path.stem + "-ws" + self.log_path.suffix)
            self.processes.append(
                _Process(uvicorn_command(self.ws_port, 1), env=self.env, log_path=ws_log, port=self.ws_port)
            )
        if self.has_worker:
            worker_log = self.log_path.with_name(self.log_path.stem + "-worker" + self.log_path.suffix)
            schedule = self.log_path.with_name(self.log_path.stem + "-beat-schedule")
            self.worker = _Process(worker_command(schedule), env=self.env, log_path=worker_log)
        deadline = time.monotonic() + self.startup_seconds
        try:
            for process in self.processes:
                process.wait_ready(deadline)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> str:
        """Stop the servers; returns the tail of their output (warnings, tracebacks)."""
        tails = [process.stop() for process in self.processes]
        if self.worker is not None:
            tails.append(self.worker.stop())
            self.worker = None
        self.processes = []
        return "\n".join(tail for tail in tails if tail)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc):
        self.stop()
