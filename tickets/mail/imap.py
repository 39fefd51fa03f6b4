"""Fetching new mail over IMAP (imaplib), idempotently.

Each mailbox remembers the folder's UIDVALIDITY and the last UID it processed. A fetch asks for
the UIDs after it and hands each message to ``ingest_email`` one at a time, moving the mark
after each: a crash in the middle of a batch starts again at the first unprocessed message, and
``ingest_email``'s Message-ID key makes a message processed but not yet marked a no-op. When the
server renumbers the folder (a new UIDVALIDITY) the mark starts over and the Message-IDs keep
the old messages from being taken twice. Messages are only read (BODY.PEEK), never deleted.
The password is unsealed for the login only and never logged.
"""

from __future__ import annotations

import imaplib
import logging
import ssl

from tickets.mail.ingest import ingest_email
from tickets.mail.models import ImapSecurity, Mailbox
from tickets.mail.secrets import unseal

logger = logging.getLogger(__name__)

BATCH = 50
TIMEOUT = 30


class FetchError(Exception):
    """The mailbox could not be read (connection, login, folder); the message names no secret."""


def _connect(mailbox: Mailbox):
    client = None
    try:
        if mailbox.imap_security == ImapSecurity.SSL:
            context = ssl.create_default_context()
            client = imaplib.IMAP4_SSL(
                mailbox.imap_host, mailbox.imap_port, ssl_context=context, timeout=TIMEOUT
            )
        else:
            client = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT)
            if mailbox.imap_security == ImapSecurity.STARTTLS:
                client.starttls(ssl_context=ssl.create_default_context())
        client.login(mailbox.imap_user, unseal(mailbox.imap_secret_sealed))
    except (OSError, imaplib.IMAP4.error) as error:
        if client is not None:
            try:
                client.shutdown()
            except OSError:
                pass
        raise FetchError(f"could not sign in to the IMAP server ({type(error).__name__})") from None
    return client


def fetch_mailbox(mailbox: Mailbox, *, limit: int = BATCH) -> list:
    """Process up to ``limit`` new messages of one mailbox; returns their ``InboundEmail`` rows."""
    client = _connect(mailbox)
    rows = []
    try:
        status, data = client.select(f'"{mailbox.imap_folder}"', readonly=True)
        if status != "OK":
            raise FetchError("the folder could not be opened")
        _status, validity = client.response("UIDVALIDITY")
        uidvalidity = int(validity[0]) if validity and validity[0] else 0
        if mailbox.imap_uidvalidity != uidvalidity:
            Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=uidvalidity, imap_last_uid=0)
            mailbox.imap_uidvalidity, mailbox.imap_last_uid = uidvalidity, 0
        status, data = client.uid("SEARCH", None, f"UID {mailbox.imap_last_uid + 1}:*")
        uids = sorted(int(uid) for uid in (data[0] or b"").split() if int(uid) > mailbox.imap_last_uid)
        for uid in uids[:limit]:
            status, parts = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((part[1] for part in parts or () if isinstance(part, tuple)), None)
            if status != "OK" or raw is None:
                raise FetchError("a message could not be read")
            rows.append(ingest_email(mailbox=mailbox, raw=raw, uidvalidity=uidvalidity, uid=uid))
            Mailbox.objects.filter(pk=mailbox.pk).update(imap_last_uid=uid)
            mailbox.imap_last_uid = uid
    except imaplib.IMAP4.error as error:
        raise FetchError(f"the IMAP server refused a command ({type(error).__name__})") from None
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return rows


def fetch_all(*, limit: int = BATCH) -> dict[int, int]:
    """Fetch every active IMAP mailbox; one failing mailbox never stops the others.
    Returns {mailbox id: messages processed (-1 on failure)}."""
    done = {}
    for mailbox in (
        Mailbox.objects.filter(is_active=True).exclude(imap_host="").select_related("workspace", "queue")
    ):
        if not mailbox.fetches_over_imap:
            continue
        try:
            done[mailbox.pk] = len(fetch_mailbox(mailbox, limit=limit))
        except FetchError as error:
            # Our own sentences: they name no password, address or message.
            logger.warning("Fetching mailbox %s failed: %s", mailbox.pk, error)
            done[mailbox.pk] = -1
        except Exception as error:  # noqa: BLE001 - logged by kind; the next mailbox still runs
            logger.warning("Fetching mailbox %s failed: %s", mailbox.pk, type(error).__name__)
            done[mailbox.pk] = -1
    return done
