"""Timestamps read from PostgreSQL are the same aware datetimes Django's own loader gives.

helpdesk.postgresql reads ``timestamptz`` with psycopg's compiled loader instead of Django's
pure-Python one (a regular expression per value). Whatever the stored offset or precision, each
value must be the same instant in ``datetime.timezone.utc``, as Django returns it; a connection
configured for another zone keeps Django's loader.
"""

import copy
import datetime

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

from helpdesk.postgresql.base import DatabaseWrapper, UtcTimestampLoader
from tests.factories import TicketFactory

pytestmark = pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="a loader of PostgreSQL's timestamps (SQLite stores text); CI runs this on PostgreSQL",
)

UTC = datetime.UTC
VALUES = [
    "2026-12-06 04:16:22+00",
    "2026-12-06 04:16:22.5+00",
    "2026-12-06 04:16:22.123456+00",
    "2026-03-29 02:30:00+05:30",
    "1999-12-31 23:59:59.999999-08",
    "2024-02-29 12:00:00+14",
    "0001-01-02 00:00:00+00",
    "9999-12-30 23:59:59+00",
]
SELECT = "SELECT " + ", ".join(["%s::timestamptz"] * len(VALUES))


def _read_with(wrapper_class):
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict["OPTIONS"].pop("pool", None)  # a connection of its own, not the pool's
    wrapper = wrapper_class(settings_dict)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute(SELECT, VALUES)
            return cursor.fetchone()
    finally:
        wrapper.close()


@pytest.mark.django_db
def test_the_project_s_connections_read_timestamps_as_django_does():
    ours, django_s = _read_with(DatabaseWrapper), _read_with(DjangoWrapper)

    assert ours == django_s
    assert all(value.tzinfo is UTC for value in ours)
    assert [value.isoformat() for value in ours] == [value.isoformat() for value in django_s]
    assert ours[3] == datetime.datetime(2026, 3, 28, 21, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_a_ticket_s_times_come_back_through_the_compiled_loader():
    ticket = TicketFactory()
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(cursor.cursor.adapters.types["timestamptz"].oid, 0)
    assert loader is UtcTimestampLoader

    ticket.refresh_from_db()
    assert ticket.created_at.tzinfo is UTC
    assert abs(ticket.created_at - datetime.datetime.now(UTC)) < datetime.timedelta(minutes=5)


def test_a_connection_in_another_zone_keeps_django_s_loader():
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict["OPTIONS"].pop("pool", None)
    settings_dict["TIME_ZONE"] = "Europe/Paris"
    params = DatabaseWrapper(settings_dict).get_connection_params()

    loader = params["context"].get_loader(params["context"].types["timestamptz"].oid, 0)
    assert loader is not UtcTimestampLoader
    assert loader.timezone.key == "Europe/Paris"
