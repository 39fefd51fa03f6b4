"""The ASGI server under test: uvicorn, one worker, on a loopback port, in a child process."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time

from bench.environment import ROOT, python

APPLICATION = "helpdesk.asgi:application"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``with Server(env) as server: server.base`` -> ``http://127.0.0.1:<port>``."""

    def __init__(self, env: dict[str, str], *, log_path, startup_seconds: float = 60):
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.host = "127.0.0.1"
        self.base = f"http://{self.host}:{self.port}"
        self.startup_seconds = startup_seconds
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        command = [
            python(),
            "-m",
            "uvicorn",
            APPLICATION,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
            "--lifespan",
            "off",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                output = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the server exited at start:\n{output}")
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
                conn.request("GET", "/bench/floor")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {self.startup_seconds:.0f} seconds")

    def stop(self) -> str:
        """Stop the server; returns the tail of its output (warnings, tracebacks)."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        self.process = None
        return self.log_path.read_text(errors="replace")[-5000:]

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc):
        self.stop()
