import os

import pytest

from tests.mail import dovecot


@pytest.fixture
def imap_server(tmp_path):
    """A real dovecot IMAP server on a free loopback port, for this test only."""
    if not dovecot.available():
        if os.environ.get("CI"):
            pytest.fail("dovecot is not installed: .ci/run installs dovecot-imapd")
        pytest.skip("dovecot-imapd is not installed (apt-get install dovecot-imapd)")
    server = dovecot.DovecotServer.start(tmp_path / "dovecot")
    yield server
    server.stop()
