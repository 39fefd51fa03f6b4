"""The Redis cache, with its connections kept for the life of the process.

Django keeps one cache object per async context, so under ASGI every request gets a new one; the
stock ``RedisCache`` builds its connection pool with it, so every request opened a new TCP
connection to Redis (with redis-py's handshake: ``CLIENT SETINFO``, ``SELECT``) and dropped it,
and built a new ``redis.Redis`` object (and its table of reply parsers) for each command. Here
the client, its pools and its ``redis.Redis`` objects are shared per process by location and
options. redis-py's pool and client are thread-safe and reset themselves in a forked child.
"""

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple, "SharedRedisCacheClient"] = {}
_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._redis_by_pool: dict[int, object] = {}

    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        pool = self._pools.get(index)
        if pool is None:
            with _lock:
                pool = self._pools.get(index)
                if pool is None:
                    pool = self._pool_class.from_url(self._servers[index], **self._pool_options)
                    self._pools[index] = pool
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._redis_by_pool.get(id(pool))
        if client is None:
            client = self._redis_by_pool.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class SharedRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with one client per process."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedRedisCacheClient

    @cached_property
    def _cache(self):
        identity = (tuple(self._servers), repr(sorted(self._options.items())))
        client = _clients.get(identity)
        if client is None:
            with _lock:
                client = _clients.get(identity)
                if client is None:
                    client = _clients[identity] = self._class(self._servers, **self._options)
        return client
