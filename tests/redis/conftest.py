"""Fixtures: a real redis-server (one per session, flushed per test; or one of the test's own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis.server import RedisServer


@pytest.fixture(scope="session")
def _shared_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def redis_url(_shared_redis: RedisServer) -> str:
    """The URL of an empty Redis database on loopback."""
    from redis import Redis

    with Redis.from_url(_shared_redis.url) as client:
        client.flushall()
    return _shared_redis.url


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own, to kill."""
    server = RedisServer()
    server.start()
    yield server
    server.kill()
