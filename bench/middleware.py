"""Per-request SQL query count and server time, as response headers. Bench settings only.

Counting works through a database execute-wrapper installed on every connection when the
middleware loads, writing into a context variable that the middleware sets per request; context
variables follow the request through asgiref's thread hops, so the count includes queries run by
the sync view in its worker thread.
"""

import contextvars
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db.backends.signals import connection_created

QUERIES_HEADER = "X-Bench-Queries"
SERVER_MS_HEADER = "X-Bench-Server-Ms"

_counter: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("bench_queries", default=None)


def _count(execute, sql, params, many, context):
    counter = _counter.get()
    if counter is not None:
        counter[0] += 1
    return execute(sql, params, many, context)


def _install(sender=None, connection=None, **kwargs):
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


class QueryCountMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        if not getattr(settings, "BENCH_QUERY_COUNT", False):
            raise MiddlewareNotUsed
        from django.db import connections

        connection_created.connect(_install, dispatch_uid="bench-query-count")
        for connection in connections.all(initialized_only=True):
            _install(connection=connection)
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        counter = [0]
        token = _counter.set(counter)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            _counter.reset(token)
        return self._stamp(response, counter, started)

    async def _acall(self, request):
        counter = [0]
        token = _counter.set(counter)
        started = time.perf_counter()
        try:
            response = await self.get_response(request)
        finally:
            _counter.reset(token)
        return self._stamp(response, counter, started)

    @staticmethod
    def _stamp(response, counter, started):
        response[SERVER_MS_HEADER] = f"{(time.perf_counter() - started) * 1000:.3f}"
        response[QUERIES_HEADER] = str(counter[0])
        return response
