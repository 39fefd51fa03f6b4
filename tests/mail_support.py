"""A real SMTP server on loopback for the email tests (aiosmtpd), and what it received.

``smtp_server`` starts an aiosmtpd ``Controller`` on a free 127.0.0.1 port, points Django's
SMTP backend at it, and collects every accepted message parsed with the ``email`` package
(``email.policy.default``). Tests can make it refuse: ``server.answer("DATA", "421 ...")``
queues one answer for the next command of that kind (RCPT or DATA).
"""

import email
import socket
from collections import defaultdict, deque
from email import policy

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Collector:
    """The aiosmtpd handler: accepts mail unless an answer was queued for the command."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.answers: dict[str, deque[str]] = defaultdict(deque)
        self.commands: list[str] = []

    def answer(self, command: str, *responses: str) -> None:
        self.answers[command.upper()].extend(responses)

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m, (_, rcpts) in zip(self.messages, self.envelopes, strict=True) if address in rcpts]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.commands.append("RCPT")
        if self.answers["RCPT"]:
            return self.answers["RCPT"].popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.commands.append("DATA")
        if self.answers["DATA"]:
            return self.answers["DATA"].popleft()
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield collector
    finally:
        controller.stop()


def parts(message) -> dict[str, str]:
    """The text and HTML parts of a multipart/alternative email, by content type."""
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}
