"""helpdesk/cache.py: the Redis cache keeps its connections for the life of the process."""

import os

import pytest

from helpdesk.cache import SharedRedisCache

LOCATION = "redis://127.0.0.1:6379/15"


def test_every_cache_object_of_a_location_shares_one_client_and_its_pool():
    # Django builds a new cache object per async context (per request under ASGI).
    first = SharedRedisCache(LOCATION, {"KEY_PREFIX": "a"})
    second = SharedRedisCache(LOCATION, {"KEY_PREFIX": "b"})
    assert first._cache is second._cache
    assert first._cache.get_client() is second._cache.get_client(write=True)
    assert first._cache.get_client().connection_pool is second._cache._get_connection_pool(write=False)


def test_another_location_or_other_options_get_their_own_client():
    plain = SharedRedisCache(LOCATION, {})
    other_db = SharedRedisCache("redis://127.0.0.1:6379/14", {})
    other_options = SharedRedisCache(LOCATION, {"OPTIONS": {"socket_timeout": 3}})
    assert len({id(plain._cache), id(other_db._cache), id(other_options._cache)}) == 3


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis server of REDIS_URL")
def test_it_is_still_django_s_redis_cache_against_a_server():
    cache = SharedRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": f"test-shared-{os.getpid()}"})
    try:
        assert cache.add("marker", 1, 60) is True
        assert cache.add("marker", 2, 60) is False
        assert cache.get_many(["marker", "missing"]) == {"marker": 1}
        connections = cache._cache.get_client().connection_pool._created_connections
        for _ in range(5):
            SharedRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "x"}).get("anything")
        assert cache._cache.get_client().connection_pool._created_connections == connections
    finally:
        cache.delete("marker")
