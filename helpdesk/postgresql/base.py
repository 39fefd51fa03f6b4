"""Django's PostgreSQL backend, with timestamps read by psycopg's compiled loader and a pool that
hands out the connection returned last.

Django registers its own loader for ``timestamptz`` (to attach the connection's time zone), built
on psycopg's pure-Python loader: a regular expression and a ``datetime.replace`` per value, 3.9 us
each, and an agent's list page reads about 160. Here the compiled loader (psycopg_binary's, when
installed) reads the value, 0.8 us with this wrapper, and the time zone is attached only if it is
not already the right one: the same aware datetimes as Django's.

Only when the connection's time zone is UTC (Django's default with ``USE_TZ``): the compiled
loader returns values in the session's time zone, which Django sets to UTC too. Any other
configured zone keeps Django's loader.

psycopg's pool is a queue: each request takes the connection idle the longest, so sequential
requests go round every pooled connection. PostgreSQL keeps a statement's plan per connection,
and a prepared statement is planned anew on its first five runs there (psycopg prepares it on its
fifth): each connection plans a page's statements about ten times before it runs them from kept
plans. Served round a pool of three, the ticket page took 33 views to get from 12.5 ms to 8.5 ms
(planning the ticket's statement alone is 1.7 ms). Taken most recently used first, as a stack, the
connections a quiet server uses stay the ones that keep its plans, and those left at the bottom
are the ones the pool closes when it shrinks (``max_idle``).
"""

import datetime
from functools import lru_cache

from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.adapt import AdaptersMap, Loader
from psycopg.pq import Format
from psycopg_pool import ConnectionPool

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
    @property
    def pool(self):
        pool = super().pool
        # Django makes a psycopg ConnectionPool (closed until its first connection); the same
        # pool, served most recently used first.
        if pool is not None and type(pool) is ConnectionPool:
            pool.__class__ = RecentFirstPool
        return pool

    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("context") is not None and self.timezone is UTC:
            params["context"] = _with_utc_timestamps(params["context"])
        return params


class RecentFirstPool(ConnectionPool):
    """psycopg's pool, handing out the connection returned most recently (see the module's text)."""

    def _get_ready_connection(self, timeout):
        # Called under the pool's lock; the pool takes from the left and puts back on the right.
        # The connection put back last is moved to the left to be taken, the others keep their
        # order: the one idle longest stays the first that shrinking closes.
        self._pool.rotate(1)
        return super()._get_ready_connection(timeout)
