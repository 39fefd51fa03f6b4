"""A real IMAP server for the tests: Debian's dovecot-imapd, started by the tests themselves.

``DovecotServer.start(root)`` writes a throwaway config, a passwd-file and a maildir under
``root`` (a pytest tmp_path), runs ``dovecot -F -c <conf>`` on a free loopback port and waits
until it answers; ``stop()`` ends that one process. No system service is used. As root, mail is
owned by ``nobody`` (dovecot refuses mail access as root), so the tmp path is made traversable.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
NOBODY = 65534

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def available() -> bool:
    return os.path.exists(DOVECOT)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DovecotServer:
    root: Path
    port: int
    user: str
    password: str
    process: subprocess.Popen | None = None

    @classmethod
    def start(cls, root: Path, *, user: str = "support", password: str = "imap-secret") -> DovecotServer:
        root.mkdir(parents=True, exist_ok=True)
        for name in ("run", "state", "mail"):
            (root / name).mkdir(exist_ok=True)
        uid, gid = (NOBODY, NOBODY) if os.geteuid() == 0 else (os.getuid(), os.getgid())
        if os.geteuid() == 0:
            os.chown(root / "mail", uid, gid)
            # The mail process runs as nobody: it must be able to walk down to the maildir.
            for folder in (root, *root.parents):
                mode = folder.stat().st_mode
                if not mode & 0o001:
                    folder.chmod(mode | 0o001)
        (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}:{uid}:{gid}::{root}/mail/{user}\n")
        server = cls(root=root, port=_free_port(), user=user, password=password)
        conf = root / "dovecot.conf"
        conf.write_text(CONFIG.format(root=root, port=server.port))
        server.process = subprocess.Popen(  # noqa: S603 - fixed binary, our own config
            [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        server._wait_ready()
        return server

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer within {timeout}s: {self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text()[-2000:] if path.exists() else ""

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Put messages in the mailbox as a mail server would (IMAP APPEND)."""
        client = self.client()
        try:
            for raw in messages:
                status, _ = client.append(
                    folder, None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                )
                assert status == "OK"
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
