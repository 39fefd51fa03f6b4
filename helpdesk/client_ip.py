"""The one answer to "which address did this request come from", and how logs may show it.

Behind ``PROXY_COUNT`` reverse proxies, each appends the address it received the request from to
``X-Forwarded-For``; the client is therefore the ``PROXY_COUNT``-th entry from the right (entries
further left are whatever the client sent, and can be forged). With ``PROXY_COUNT=0`` (no proxy)
the socket's address is used and the header ignored. django-axes (``AXES_CLIENT_IP_CALLABLE``),
the audit log, rate limits and the sessions list all use ``client_ip_address``.

``log_address`` is what the application's request log writes (``LOG_CLIENT_IP``): ``truncate``
(the default: IPv4 to its /24, IPv6 to its /48), ``hash`` (a keyed hash: the same address gives
the same token for a day, so bursts can be told apart, but the address cannot be read back),
``full`` or ``none``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging

from django.conf import settings
from django.utils import timezone

TRUNCATE, HASH, FULL, NONE = "truncate", "hash", "full", "none"


def proxy_count() -> int:
    return max(0, int(getattr(settings, "PROXY_COUNT", 0) or 0))


def client_ip_address(request) -> str | None:
    meta = getattr(request, "META", None) or {}
    count = proxy_count()
    if count:
        forwarded = [p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if forwarded:
            # Fewer entries than proxies: a proxy did not append; the leftmost is the best guess.
            return forwarded[-count] if len(forwarded) >= count else forwarded[0]
    return meta.get("REMOTE_ADDR") or None


def _parse(value: str):
    """An address from "203.0.113.9", "203.0.113.9:5123", "[2001:db8::1]:5123" or daphne's
    "2001:db8::1:5123" (no brackets); None when it is none of these."""
    candidates = [value]
    if value.startswith("["):
        candidates.append(value[1:].partition("]")[0])
    if ":" in value:
        candidates.append(value.rsplit(":", 1)[0])
    for candidate in candidates:
        try:
            return ipaddress.ip_address(candidate)
        except ValueError:
            continue
    return None


def log_address(value, mode: str | None = None) -> str:
    """The address as the request log may write it (see the module doc)."""
    mode = (mode or getattr(settings, "LOG_CLIENT_IP", TRUNCATE) or TRUNCATE).lower()
    if isinstance(value, (list, tuple)):
        value = str(value[0]) if value else ""
    text = str(value or "")
    if mode == FULL or not text:
        return text
    if mode == NONE:
        return "-"
    ip = _parse(text)
    if ip is None:
        return "-"
    if mode == HASH:
        day = timezone.now().date().isoformat()
        key = f"{settings.SECRET_KEY}:log-ip:{day}".encode()
        return "ip-" + hmac.new(key, ip.packed, hashlib.sha256).hexdigest()[:12]
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class ClientAddressFilter(logging.Filter):
    """Rewrites the client address of request-log records (daphne's and runserver's
    ``%(client)s``, a ``client_ip`` extra) before any handler writes them."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict) and "client" in args:
            record.args = {**args, "client": log_address(args["client"])}
        if hasattr(record, "client_ip"):
            record.client_ip = log_address(record.client_ip)
        return True
