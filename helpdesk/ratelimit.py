"""How often a person, an address or a network may do something costly: counters in Django's cache.

Each action (``"password_reset"``, ``"signup"``...) has rules in ``settings.RATE_LIMITS``:
``{action: {scope: (attempts, seconds)}}``, where a scope names what is counted (``"address"``
for a typed email address, ``"ip"`` for a network address, ``"account"`` for a signed-in person).
A caller passes the values it knows, ``ratelimit_hit("signup", address=email, ip=ip)``, and gets
``None`` (go ahead; the attempt is counted) or a ``Refusal`` that says which limit was hit and for
how long. A refused attempt is not counted, so waiting is always enough.

Counters live in fixed windows (``seconds`` long, aligned to the clock), so the cache's own expiry
cleans up and one atomic ``incr`` per scope is all a request costs. Values are keyed by an HMAC,
so the cache never holds an email address. With Redis (``REDIS_URL``) every web process shares the
counters; the embedded default's in-memory cache counts per process.

If the cache cannot be reached the attempt is allowed (and logged): an outage of Redis must not
stop people from resetting their password. Auditing a refusal is the caller's business: this
module sits below the audit log.
"""

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

KEY_SALT = "helpdesk.ratelimit"


@dataclass(frozen=True)
class Rule:
    scope: str
    attempts: int
    seconds: int


@dataclass(frozen=True)
class Refusal:
    """``action`` was refused because the ``scope`` limit is reached; ``retry_after`` seconds."""

    action: str
    scope: str
    retry_after: int

    @property
    def wait(self) -> str:
        return wait_text(self.retry_after)


def wait_text(seconds: float) -> str:
    """``"in 1 minute"``, ``"in 12 minutes"``, ``"in 2 hours"``: when to try again, in words."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 90:
        return ngettext("in %(count)d minute", "in %(count)d minutes", minutes) % {"count": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("in %(count)d hour", "in %(count)d hours", hours) % {"count": hours}


def rules_for(action: str) -> list[Rule]:
    configured = settings.RATE_LIMITS.get(action)
    if configured is None:
        raise ValueError(f"No rate limit is configured for {action!r} (settings.RATE_LIMITS).")
    return [Rule(scope, int(attempts), int(seconds)) for scope, (attempts, seconds) in configured.items()]


def _digest(value: str) -> str:
    return salted_hmac(KEY_SALT, value.strip().lower()).hexdigest()[:32]


def _counters(action: str, values: dict[str, str | None], now: float) -> list[tuple[Rule, str, float]]:
    """(rule, cache key, seconds left in its window) for each rule whose value was given."""
    counters = []
    for rule in rules_for(action):
        value = values.get(rule.scope)
        if not value:
            continue
        window = int(now // rule.seconds)
        key = f"ratelimit:{action}:{rule.scope}:{_digest(str(value))}:{window}"
        counters.append((rule, key, (window + 1) * rule.seconds - now))
    return counters


def _refusal(action: str, over: Iterable[tuple[Rule, float]]) -> Refusal | None:
    over = list(over)
    if not over:
        return None
    # The person can act again only when every limit they hit has reset.
    rule, left = max(over, key=lambda item: item[1])
    return Refusal(action=action, scope=rule.scope, retry_after=max(1, math.ceil(left)))


def ratelimit_check(action: str, **values: str | None) -> Refusal | None:
    """Would ``action`` be refused now? Counts nothing."""
    counters = _counters(action, values, time.time())
    try:
        counts = cache.get_many([key for _, key, _ in counters])
    except Exception:  # noqa: BLE001 - any cache failure: allow, see the module docstring
        logger.warning("Rate limit store unavailable; %s allowed unchecked", action)
        return None
    return _refusal(
        action, ((rule, left) for rule, key, left in counters if counts.get(key, 0) >= rule.attempts)
    )


def ratelimit_count(action: str, **values: str | None) -> Refusal | None:
    """Count one attempt of ``action``. Returns a Refusal when this attempt went over a limit
    (two requests racing for the last allowed attempt: one of them gets it)."""
    over = []
    for rule, key, left in _counters(action, values, time.time()):
        try:
            # The window's key expires with the window (plus a second for clock skew).
            cache.add(key, 0, timeout=math.ceil(left) + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=math.ceil(left) + 1)
                count = 1
        except Exception:  # noqa: BLE001 - any cache failure: allow, see the module docstring
            logger.warning("Rate limit store unavailable; %s allowed uncounted", action)
            return None
        if count > rule.attempts:
            over.append((rule, left))
    return _refusal(action, over)


def ratelimit_hit(action: str, **values: str | None) -> Refusal | None:
    """Check, then count one attempt: ``None`` means go ahead, a Refusal says why not and until when."""
    return ratelimit_check(action, **values) or ratelimit_count(action, **values)
