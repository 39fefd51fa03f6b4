"""Business-time arithmetic (tickets/business_hours.py): nights, weekends, holidays, DST, zones."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets import business_hours as bh

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NINE_TO_FIVE = ((9 * 60, 17 * 60),) * 5 + (None, None)
HOUR = 3600


def office(zone=BERLIN, holidays=()):
    return bh.Schedule(zone=zone, week=NINE_TO_FIVE, holidays=frozenset(holidays))


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def test_time_inside_one_day_is_added_as_is():
    # Wednesday 2026-01-14 10:00 Berlin + 2h = 12:00 Berlin.
    start = local(BERLIN, 2026, 1, 14, 10, 0)
    assert bh.add(office(), start, 2 * HOUR) == local(BERLIN, 2026, 1, 14, 12, 0)


def test_a_target_spans_the_night():
    start = local(BERLIN, 2026, 1, 14, 16, 0)  # one hour before closing
    assert bh.add(office(), start, 3 * HOUR) == local(BERLIN, 2026, 1, 15, 11, 0)


def test_a_target_spans_the_weekend():
    friday = local(BERLIN, 2026, 1, 16, 16, 30)
    assert bh.add(office(), friday, HOUR) == local(BERLIN, 2026, 1, 19, 9, 30)


def test_a_start_outside_hours_counts_from_the_next_opening():
    saturday = local(BERLIN, 2026, 1, 17, 12, 0)
    assert bh.add(office(), saturday, 30 * 60) == local(BERLIN, 2026, 1, 19, 9, 30)
    night = local(BERLIN, 2026, 1, 14, 3, 0)
    assert bh.add(office(), night, 0) == local(BERLIN, 2026, 1, 14, 9, 0)


def test_ending_exactly_at_closing_time_is_due_at_closing():
    start = local(BERLIN, 2026, 1, 14, 9, 0)
    assert bh.add(office(), start, 8 * HOUR) == local(BERLIN, 2026, 1, 14, 17, 0)


def test_holidays_are_skipped():
    # Thursday 2026-12-24 16:00; the 25th (Fri) is a holiday, then the weekend.
    start = local(BERLIN, 2026, 12, 24, 16, 0)
    schedule = office(holidays=[date(2026, 12, 25)])
    assert bh.add(schedule, start, 2 * HOUR) == local(BERLIN, 2026, 12, 28, 10, 0)


def test_a_holiday_on_the_start_day_moves_everything():
    schedule = office(holidays=[date(2026, 1, 14)])
    start = local(BERLIN, 2026, 1, 14, 10, 0)
    assert bh.add(schedule, start, HOUR) == local(BERLIN, 2026, 1, 15, 10, 0)


def test_the_schedule_is_read_in_its_own_zone():
    start = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # 07:00 in New York: before opening
    due = bh.add(office(NEW_YORK), start, HOUR)
    assert due == local(NEW_YORK, 2026, 1, 14, 10, 0)
    assert due.tzinfo == UTC


def test_the_answer_is_utc_whatever_the_start_zone():
    start = local(BERLIN, 2026, 1, 14, 10, 0)
    assert bh.add(office(), start, HOUR).utcoffset() == timedelta(0)


def test_spring_forward_a_full_day_is_23_hours():
    # Berlin switches to summer time on Sunday 2026-03-29 (02:00 -> 03:00).
    schedule = bh.always_open(BERLIN)
    start = local(BERLIN, 2026, 3, 29, 0, 0)
    assert bh.between(schedule, start, local(BERLIN, 2026, 3, 30, 0, 0)) == 23 * HOUR


def test_fall_back_a_full_day_is_25_hours():
    schedule = bh.always_open(BERLIN)
    start = local(BERLIN, 2026, 10, 25, 0, 0)
    assert bh.between(schedule, start, local(BERLIN, 2026, 10, 26, 0, 0)) == 25 * HOUR


def test_office_hours_keep_their_local_times_across_dst():
    # Friday 2026-03-27 16:00 CET + 2h = Monday 2026-03-30 10:00 CEST (UTC+2).
    start = local(BERLIN, 2026, 3, 27, 16, 0)
    due = bh.add(office(), start, 2 * HOUR)
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 10


def test_an_opening_time_in_the_skipped_hour_opens_after_it():
    week = ((150, 5 * 60),) * 7  # 02:30 - 05:00 every day
    schedule = bh.Schedule(zone=BERLIN, week=week)
    day = bh.period_of(schedule, date(2026, 3, 29))
    assert day[0] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 summer time
    assert day[1] == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # 05:00 summer time


def test_between_counts_only_open_time():
    friday = local(BERLIN, 2026, 1, 16, 16, 0)
    monday = local(BERLIN, 2026, 1, 19, 10, 0)
    assert bh.between(office(), friday, monday) == 2 * HOUR
    assert bh.between(office(), monday, friday) == 0


@pytest.mark.parametrize("seconds", [1, 59 * 60, 8 * HOUR, 8 * HOUR + 1, 40 * HOUR, 123_457])
def test_add_and_between_agree(seconds):
    schedule = office(holidays=[date(2026, 1, 20)])
    start = local(BERLIN, 2026, 1, 16, 15, 17)
    assert bh.between(schedule, start, bh.add(schedule, start, seconds)) == seconds


def test_a_pause_pushes_the_due_time_by_the_business_time_paused():
    schedule = office()
    created = local(BERLIN, 2026, 1, 14, 10, 0)
    paused_from, paused_to = local(BERLIN, 2026, 1, 14, 11, 0), local(BERLIN, 2026, 1, 15, 11, 0)
    paused = bh.between(schedule, paused_from, paused_to)
    assert paused == 8 * HOUR  # a night in Pending costs nothing, the business day does
    assert bh.add(schedule, created, 4 * HOUR + paused) == local(BERLIN, 2026, 1, 15, 14, 0)


def test_a_closed_schedule_is_an_error_not_a_hang():
    closed = bh.Schedule(zone=UTC, week=(None,) * 7)
    with pytest.raises(ValueError, match="no open hours"):
        bh.add(closed, datetime(2026, 1, 1, tzinfo=UTC), 60)


def test_bad_hours_are_refused():
    with pytest.raises(ValueError):
        bh.Schedule(zone=UTC, week=((600, 500),) * 7)
    with pytest.raises(ValueError):
        bh.Schedule(zone=UTC, week=((0, 60),) * 6)


def test_midnight_close_runs_to_the_end_of_the_day():
    schedule = bh.Schedule(zone=BERLIN, week=((22 * 60, 24 * 60),) * 7)
    start = local(BERLIN, 2026, 1, 14, 23, 30)
    assert bh.add(schedule, start, HOUR) == local(BERLIN, 2026, 1, 15, 22, 30)
