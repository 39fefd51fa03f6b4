"""Where each size's data lives and the environment of the benchmark's child processes."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = Path(os.environ.get("HELPDESK_VAR_DIR") or ROOT / "var") / "bench"
SETTINGS_MODULE = "bench.settings"
# Only for the throw-away benchmark databases; a SECRET_KEY in the environment wins.
BENCH_SECRET_KEY = "bench-only-secret-key-never-used-in-production-0123456789abcdef"
FALLBACK_WARNING = (
    "WARNING: DATABASE_URL is not set: benchmarking the embedded default (SQLite under var/bench/, "
    "in-memory channel layer). Set DATABASE_URL (PostgreSQL) and REDIS_URL for production figures."
)
REDIS_WARNING = "WARNING: REDIS_URL is not set: websockets use the in-memory channel layer (one process)."


class Target:
    """The database of one size: a PostgreSQL database ``hd_bench_<label>`` or a SQLite file."""

    def __init__(self, base_url: str | None, label: str, *, suffix: str = ""):
        self.base_url = base_url
        self.label = label
        # BENCH_DB_PREFIX keeps two people's runs on one server apart (default hd_bench).
        self.name = f"{os.environ.get('BENCH_DB_PREFIX') or 'hd_bench'}_{label}{suffix}"
        self.is_postgres = bool(base_url) and urlsplit(base_url).scheme.startswith("postgres")
        if base_url and not self.is_postgres:
            raise SystemExit(
                f"DATABASE_URL scheme {urlsplit(base_url).scheme!r} is not supported by the bench"
            )

    @property
    def url(self) -> str:
        if self.is_postgres:
            parts = urlsplit(self.base_url)
            return urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", parts.query, ""))
        return f"sqlite:///{self.sqlite_path}"

    @property
    def sqlite_path(self) -> Path:
        return BENCH_VAR / f"{self.name}.sqlite3"

    def scratch(self) -> Target:
        return Target(self.base_url, self.label, suffix="_scratch")

    # Lifecycle -------------------------------------------------------------------------------

    def _admin(self):
        import psycopg

        parts = urlsplit(self.base_url)
        admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
        return psycopg.connect(admin_url, autocommit=True)

    def exists(self) -> bool:
        if not self.is_postgres:
            return self.sqlite_path.exists()
        with self._admin() as conn:
            return (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name]).fetchone()
                is not None
            )

    def drop(self) -> None:
        if not self.is_postgres:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
            return
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def stop_sessions(self) -> None:
        """End every server session on this database (PostgreSQL; SQLite has none)."""
        if not self.is_postgres:
            return
        with self._admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.name],
            )

    def create(self, *, template: Target | None = None) -> None:
        if not self.is_postgres:
            BENCH_VAR.mkdir(parents=True, exist_ok=True)
            if template is not None:
                shutil.copyfile(template.sqlite_path, self.sqlite_path)
            return
        with self._admin() as conn:
            if template is not None:
                conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{template.name}"')
            else:
                conn.execute(f'CREATE DATABASE "{self.name}"')


def child_env(database_url: str) -> dict[str, str]:
    """The environment of every child process (server, prepare, jobs) for one database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY,
            "PYTHONPATH": str(ROOT),
            "DEBUG": "0",
        }
    )
    return env


def python() -> str:
    return sys.executable
