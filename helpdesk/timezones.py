"""Times in the reader's zone: pages (``TimeZoneMiddleware``), live fragments and emails
(``override_for``) show every time in the zone the person saved on their account page.

Times are stored in UTC (``USE_TZ``); only the display changes. A zone that no longer exists in
the system's tz database (renamed, or a hand-edited row) falls back to UTC instead of failing.
"""

import zoneinfo
from contextlib import contextmanager
from datetime import tzinfo
from functools import lru_cache

from django.utils import timezone

from helpdesk import languages


@lru_cache(maxsize=512)
def _zone(name: str) -> tzinfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def zone_of(user) -> tzinfo | None:
    """The saved zone of ``user`` (an account, anonymous or None), or None for the default."""
    name = getattr(user, "time_zone", "") or ""
    if not name or not getattr(user, "is_authenticated", False):
        return None
    return _zone(name)


@contextmanager
def override_for(user):
    """Render with ``user``'s zone active (the default zone when they have none), in their
    language (helpdesk/languages.py): live fragments and emails are read by ``user``."""
    zone = zone_of(user)
    with timezone.override(zone), languages.override_for(user):
        yield


class TimeZoneMiddleware:
    """Activates the signed-in person's zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with override_for(getattr(request, "user", None)):
            return self.get_response(request)
