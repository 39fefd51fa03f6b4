"""Helpers of the email-channel tests: the corpus, messages made to measure, a mailbox."""

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from tickets.mail.models import Mailbox

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def make_mailbox(workspace, queue, address="support@acme.test", **kwargs) -> Mailbox:
    return Mailbox.objects.create(workspace=workspace, queue=queue, address=address, **kwargs)


def email_bytes(
    *,
    sender: str,
    to: str = "support@acme.test",
    subject: str = "Help please",
    body: str = "Something is broken.",
    headers: dict | None = None,
    attachments=(),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, maintype, subtype, data in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()
