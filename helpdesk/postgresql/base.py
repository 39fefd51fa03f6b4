"""Django's PostgreSQL backend, with timestamps read by psycopg's compiled loader.

Django registers its own loader for ``timestamptz`` (to attach the connection's time zone), built
on psycopg's pure-Python loader: a regular expression and a ``datetime.replace`` per value, 3.9 us
each, and an agent's list page reads about 160. Here the compiled loader (psycopg_binary's, when
installed) reads the value, 0.8 us with this wrapper, and the time zone is attached only if it is
not already the right one: the same aware datetimes as Django's.

Only when the connection's time zone is UTC (Django's default with ``USE_TZ``): the compiled
loader returns values in the session's time zone, which Django sets to UTC too. Any other
configured zone keeps Django's loader.
"""

import datetime
from functools import lru_cache

from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format

UTC = datetime.UTC
_COMPILED = adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)


class UtcTimestampLoader(Loader):
    # Django's create_cursor compares this with the connection's zone and, when they agree,
    # keeps the loader instead of registering its own on every cursor.
    timezone = UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._load = _COMPILED(oid, context).load

    def load(self, data):
        value = self._load(data)
        # Django's loader replaces the zone with its own: the same instant, the same object.
        return value if value.tzinfo is UTC else value.replace(tzinfo=UTC)


@lru_cache
def _with_utc_timestamps(template: AdaptersMap) -> AdaptersMap:
    context = AdaptersMap(template)
    context.register_loader("timestamptz", UtcTimestampLoader)
    return context


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("context") is not None and self.timezone is UTC:
            params["context"] = _with_utc_timestamps(params["context"])
        return params
