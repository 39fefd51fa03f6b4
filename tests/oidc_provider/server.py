"""Start and stop the test identity provider, and seed it.

``oidc_provider`` (a session fixture, exposed in tests/conftest.py) runs ``serve.py`` in a
subprocess on a free loopback port, with a fresh SQLite file in a temporary directory, and
waits until its discovery document answers (polling, no fixed sleep). Tests add accounts and
clients with ``add_user`` / ``add_client``; every client gets a fresh id, so tests never share
one.
"""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ProviderClient:
    client_id: str
    client_secret: str


class OIDCProvider:
    def __init__(self, base_url: str, seed_token: str):
        self.base_url = base_url
        self.issuer = f"{base_url}/openid"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self._seed_token = seed_token

    def _seed(self, path: str, payload: dict) -> None:
        response = httpx.post(
            f"{self.base_url}{path}", json=payload, headers={"X-Seed-Token": self._seed_token}, timeout=10
        )
        response.raise_for_status()

    def add_user(self, *, username: str, password: str, email: str, email_verified: bool = True) -> None:
        self._seed(
            "/seed/users/",
            {"username": username, "password": password, "email": email, "email_verified": email_verified},
        )

    def add_client(
        self, *, redirect_uris: list[str], require_consent: bool = False, mode: str = ""
    ) -> ProviderClient:
        """``mode``: how this client's ID tokens go wrong on purpose (tests/oidc_provider/misbehave.py)."""
        client = ProviderClient(
            client_id=f"rp-{secrets.token_hex(6)}", client_secret=secrets.token_urlsafe(24)
        )
        self._seed(
            "/seed/clients/",
            {
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "redirect_uris": redirect_uris,
                "require_consent": require_consent,
                "mode": mode,
            },
        )
        return client


def _wait_until_ready(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The test identity provider exited with code {process.returncode}.")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        # Connection refused comes back at once; a short pause keeps the poll from spinning.
        time.sleep(0.05)
    raise RuntimeError(f"The test identity provider did not answer {url} within {START_TIMEOUT:.0f} s.")


@pytest.fixture(scope="session")
def oidc_provider():
    with tempfile.TemporaryDirectory(prefix="oidc-provider-") as tmp:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        seed_token = secrets.token_urlsafe(24)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "OIDC_PROVIDER_SITE_URL": base_url,
            "OIDC_PROVIDER_DB": os.path.join(tmp, "provider.sqlite3"),
            "OIDC_PROVIDER_SECRET_KEY": secrets.token_urlsafe(40),
            "OIDC_PROVIDER_SEED_TOKEN": seed_token,
        }
        log = open(os.path.join(tmp, "provider.log"), "wb")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider.serve", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        provider = OIDCProvider(base_url, seed_token)
        try:
            try:
                _wait_until_ready(process, provider.discovery_url)
            except RuntimeError as error:
                log.flush()
                raise RuntimeError(f"{error}\n{Path(log.name).read_text()[-4000:]}") from None
            yield provider
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
