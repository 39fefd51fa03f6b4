"""Addresses mail to which fails for good: never written to again.

The interface the rest of the channel uses: ``address_is_failing(address)`` before sending,
``address_mark_failing(address, reason=...)`` when a hard bounce or a permanent SMTP refusal
says the mailbox does not take mail, ``address_clear_failing(address)`` when the person proves it
works again (a new address, or mail that arrived from it).

Addresses are kept as a keyed hash (HMAC-SHA256 of the lower-cased address under the project's
secret), so the table alone names nobody; account erasure removes the person's row by hashing
their address again.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tickets.mail.models import FailingAddress

_SALT = "tickets.mail.failing-address"


def address_digest(address: str) -> str:
    return salted_hmac(_SALT, (address or "").strip().lower(), algorithm="sha256").hexdigest()


def address_is_failing(address: str) -> bool:
    if not address:
        return False
    return FailingAddress.objects.filter(digest=address_digest(address)).exists()


@transaction.atomic
def address_mark_failing(address: str, *, reason: str) -> None:
    """Record a permanent failure (``reason``: a short code such as ``smtp_550`` or ``bounce``)."""
    digest = address_digest(address)
    now = timezone.now()
    updated = FailingAddress.objects.filter(digest=digest).update(
        failures=F("failures") + 1, last_failed_at=now, reason=reason[:32]
    )
    if not updated:
        FailingAddress.objects.get_or_create(
            digest=digest, defaults={"reason": reason[:32], "first_failed_at": now, "last_failed_at": now}
        )


def address_clear_failing(address: str) -> int:
    return FailingAddress.objects.filter(digest=address_digest(address)).delete()[0]
