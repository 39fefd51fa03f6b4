"""Business-time arithmetic for service levels: pure functions, no database, no settings.

A ``Schedule`` is a week of opening hours (one period per weekday, in minutes from local
midnight), a set of holidays (local dates, closed all day) and the time zone both are read in.
``add`` finds the instant a number of business seconds after a start; ``between`` counts the
business seconds of an interval. Both work on aware datetimes and answer in UTC.

Periods are turned into instants day by day through the zone, so a DST change needs no special
case: a 09:00-17:00 day is 8 hours on either side of a change, and a 00:00-24:00 day is 23 or 25
hours on the day the clocks move. An opening time that falls in the hour skipped in spring is
read with the offset before the change (02:30 becomes 03:30 summer time); an ambiguous one in
autumn is its first occurrence.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

MINUTES_PER_DAY = 24 * 60
# A schedule with no open day within this many days (all closed, or holidays everywhere) is an
# error, never an endless loop.
HORIZON_DAYS = 366 * 5

NO_OPEN_PERIOD = "The schedule has no open hours in the next five years."


@dataclass(frozen=True)
class Schedule:
    zone: tzinfo
    # Monday first; each day (open minute, close minute) with 0 <= open < close <= 1440, or None
    # for a closed day.
    week: tuple[tuple[int, int] | None, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self):
        if len(self.week) != 7:
            raise ValueError("A week has 7 days.")
        for day in self.week:
            if day is not None and not 0 <= day[0] < day[1] <= MINUTES_PER_DAY:
                raise ValueError(f"Bad opening hours {day!r}.")


def always_open(zone: tzinfo = UTC) -> Schedule:
    return Schedule(zone=zone, week=((0, MINUTES_PER_DAY),) * 7)


def _local_instant(day: date, minute: int, zone: tzinfo) -> datetime:
    days, minute = divmod(minute, MINUTES_PER_DAY)
    hour, minute = divmod(minute, 60)
    local = datetime.combine(day + timedelta(days=days), time(hour, minute), tzinfo=zone)
    return local.astimezone(UTC)


def period_of(schedule: Schedule, day: date) -> tuple[datetime, datetime] | None:
    """The open period of a local ``day`` as UTC instants, or None when closed."""
    if day in schedule.holidays:
        return None
    hours = schedule.week[day.weekday()]
    if hours is None:
        return None
    return _local_instant(day, hours[0], schedule.zone), _local_instant(day, hours[1], schedule.zone)


def periods_from(schedule: Schedule, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open periods from ``start`` on (the first clipped to it), in order; raises ValueError
    when none comes within ``HORIZON_DAYS``."""
    start = start.astimezone(UTC)
    # A period closes at local midnight at the latest, so none of an earlier day reaches start.
    day = start.astimezone(schedule.zone).date()
    idle = 0
    while True:
        period = period_of(schedule, day)
        day += timedelta(days=1)
        if period is None or period[1] <= start:
            idle += 1
            if idle > HORIZON_DAYS:
                raise ValueError(NO_OPEN_PERIOD)
            continue
        idle = 0
        yield max(period[0], start), period[1]


def add(schedule: Schedule, start: datetime, seconds: float) -> datetime:
    """The instant ``seconds`` of business time after ``start`` (UTC). Zero seconds from a
    closed time is the next opening."""
    if seconds < 0:
        raise ValueError("Business time to add must not be negative.")
    left = timedelta(seconds=seconds)
    for opens, closes in periods_from(schedule, start):
        length = closes - opens
        if left <= length:
            return opens + left
        left -= length
    raise AssertionError("unreachable")  # pragma: no cover - periods_from never ends


def between(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Whole business seconds from ``start`` to ``end`` (0 when end is not after start)."""
    if end <= start:
        return 0
    total = timedelta(0)
    end = end.astimezone(UTC)
    for opens, closes in periods_from(schedule, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return int(total.total_seconds())
