"""Shared fixtures: aioresponses, Plaid's sample document, and a real redis-server (one per
session, flushed per test; or one of the test's own) for the shared rate limiter and the command."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import aioresponses.core
import pytest
from aioresponses import aioresponses as _aioresponses

from tests.redis.server import RedisServer
from tests.samples import response_doc

pytest_plugins = ("pytester",)  # the plugin and docs tests run pytest on example suites

_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters


class _CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` that aiohttp 3.14
    requires (aioresponses issue #289); give it a stand-in that reports no bytes written."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER and "stream_writer" not in kwargs:
            kwargs["stream_writer"] = SimpleNamespace(output_size=0)
        super().__init__(method, url, **kwargs)


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[_aioresponses]:
    """aioresponses, working on every aiohttp this package supports."""
    monkeypatch.setattr(aioresponses.core, "ClientResponse", _CompatResponse)
    with _aioresponses() as m:
        yield m


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of Plaid's example ``AccountsGetResponse`` document."""
    return response_doc()


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


@pytest.fixture
def locked_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own that asks for a password (``.password``, in ``.url``)."""
    server = RedisServer(password="hunter2-of-this-test-only")
    server.start()
    yield server
    server.kill()


@pytest.fixture(autouse=True)
def _observer_failures_forgotten() -> None:
    """Each test starts with no observer failure logged: the client logs a kind of observer's
    failure once in a process's life, and a test run may not be the process's first (mutmut
    runs the suite more than once in one process)."""
    from plaid_async import _observe

    _observe._failed.clear()
