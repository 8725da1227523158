"""RedisRateLimiter against a real redis-server: sharing, atomicity, waiting, cancellation,
deadlines, and Redis down (fall back or fail closed)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from plaid_async import (
    Budget,
    Budgets,
    PlaidTimeoutError,
    RateLimiterUnavailableError,
    RateLimitWaitTimeout,
    RedisRateLimiter,
    RetryPolicy,
)
from plaid_async._redact import fingerprint
from plaid_async.sandbox import SandboxServer
from tests.redis.server import RedisServer, free_port, zcard_all

GET = "/accounts/get"
BAL = "/accounts/balance/get"
CLIENT = "client-1"


def client_key(path: str = GET, client_id: str = CLIENT, environment: str = "production") -> str:
    return f"plaid-async:{{{environment}:{client_id}}}:client:{path}"


def item_key(item: str, path: str = GET) -> str:
    return f"plaid-async:{{production:{CLIENT}}}:item:{path}:{item}"


def limiter(url: str, **kwargs: Any) -> RedisRateLimiter:
    kwargs.setdefault("client_id", CLIENT)
    kwargs.setdefault("budgets", Budgets(per_client={GET: Budget(3, 30)}))
    return RedisRateLimiter(url, **kwargs)


async def test_two_limiters_share_one_budget_per_client_id(redis_url: str) -> None:
    async with limiter(redis_url) as one, limiter(redis_url) as two:
        for _ in range(3):
            await one.acquire(GET, "a")
        with pytest.raises(asyncio.TimeoutError):  # the budget is spent for 30 s
            await asyncio.wait_for(two.acquire(GET, "b"), 0.5)
        async with limiter(redis_url, client_id="client-2") as other:
            await asyncio.wait_for(other.acquire(GET, "a"), 5)  # another client's own budget
    assert await zcard_all(redis_url) == {client_key(): 3, client_key(client_id="client-2"): 1}


async def test_waiters_are_admitted_as_the_window_frees_never_faster(redis_url: str) -> None:
    budgets = Budgets(per_client={GET: Budget(2, 0.3, margin=0)})
    async with limiter(redis_url, budgets=budgets) as shared:
        start = time.monotonic()

        async def one() -> float:
            await shared.acquire(GET, "a")
            return time.monotonic() - start

        done = sorted(await asyncio.gather(*(one() for _ in range(6))))
    # request k may go no sooner than (k // 2) windows after the start
    for k, at in enumerate(done):
        assert at >= (k // 2) * 0.3 - 0.01


async def test_a_request_counts_in_all_its_budgets_or_in_none(redis_url: str) -> None:
    budgets = Budgets(per_client={GET: Budget(10, 30)}, per_item={GET: Budget(1, 30)})
    async with limiter(redis_url, budgets=budgets) as shared:
        await shared.acquire(GET, "a")
        blocked = asyncio.create_task(shared.acquire(GET, "a"))  # the Item's budget is spent
        await asyncio.sleep(0.2)
        await asyncio.wait_for(shared.acquire(GET, "b"), 5)  # not held up behind Item a
        assert not blocked.done()
        blocked.cancel()
        with pytest.raises(asyncio.CancelledError):
            await blocked
    assert await zcard_all(redis_url) == {client_key(): 2, item_key("a"): 1, item_key("b"): 1}


async def test_a_cancelled_wait_leaves_no_reservation(redis_url: str) -> None:
    async with limiter(redis_url) as shared:
        for _ in range(3):
            await shared.acquire(GET, "a")
        waiting = asyncio.create_task(shared.acquire(GET, "a"))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert await zcard_all(redis_url) == {client_key(): 3}


async def test_cancelled_while_the_script_answers_takes_its_entry_back(redis_url: str) -> None:
    shared = limiter(redis_url)
    real_script = shared._script
    counted = asyncio.Event()

    async def reply_never_read(**kwargs: Any) -> Any:
        await real_script(**kwargs)  # Redis has counted the request ...
        counted.set()
        await asyncio.Event().wait()  # ... but the answer never reaches the caller

    shared._script = reply_never_read  # type: ignore[assignment]
    task = asyncio.create_task(shared.acquire(GET, "a"))
    await counted.wait()
    assert await zcard_all(redis_url) == {client_key(): 1}
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await shared.aclose()  # waits for the take-back
    assert await zcard_all(redis_url) == {}


async def test_keys_hold_the_client_id_and_the_token_fingerprint_never_secrets(
    redis_url: str, plaid_sandbox: SandboxServer
) -> None:
    token = plaid_sandbox.token(1)
    shared = RedisRateLimiter(redis_url, client_id=plaid_sandbox.client_id, environment="sandbox")
    async with shared, plaid_sandbox.client(rate_limiter=shared) as client:
        await client.accounts_balance_get(token)
    prefix = f"plaid-async:{{sandbox:{plaid_sandbox.client_id}}}"
    assert await zcard_all(redis_url) == {
        f"{prefix}:client:{BAL}": 1,
        f"{prefix}:item:{BAL}:{fingerprint(token)}": 1,
    }
    from redis.asyncio import Redis

    parts: list[bytes] = []
    async with Redis.from_url(redis_url) as raw:
        for key in await raw.keys("*"):
            parts.append(_as_bytes(key))
            parts.extend(_as_bytes(member) for member in await raw.zrange(key, 0, -1))
    stored = b"".join(parts)
    assert token.encode() not in stored
    assert plaid_sandbox.secret.encode() not in stored


def _as_bytes(value: object) -> bytes:
    """A Redis reply item as bytes, whichever way this redis-py version types it."""
    return value if isinstance(value, bytes) else str(value).encode()


async def test_a_deadline_that_passes_while_waiting_sends_nothing(
    redis_url: str, plaid_sandbox: SandboxServer
) -> None:
    budgets = Budgets(per_client={BAL: Budget(1, 30)})
    shared = limiter(redis_url, client_id=plaid_sandbox.client_id, budgets=budgets)
    retry = RetryPolicy(deadline=0.5)
    async with shared, plaid_sandbox.client(rate_limiter=shared, retry=retry) as client:
        await client.accounts_balance_get(plaid_sandbox.token(1))
        with pytest.raises(RateLimitWaitTimeout) as info:
            await client.accounts_balance_get(plaid_sandbox.token(2))
    assert isinstance(info.value, PlaidTimeoutError)
    assert "nothing was sent" in str(info.value)
    assert plaid_sandbox.stats.requests == 1
    assert await zcard_all(redis_url) == {client_key(BAL, plaid_sandbox.client_id): 1}


async def test_unreachable_redis_falls_back_to_the_local_budget_with_one_warning(
    plaid_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    budgets = Budgets(per_client={BAL: Budget(2, 30)})
    shared = limiter(f"redis://127.0.0.1:{free_port()}/0", budgets=budgets)
    tokens = [plaid_sandbox.token(i) for i in range(5)]
    retry = RetryPolicy(deadline=0.5)
    with caplog.at_level(logging.WARNING, logger="plaid_async"):
        async with shared, plaid_sandbox.client(retry=retry) as client:
            results = [r async for r in client.accounts_balance_get_many(tokens, rate_limit=shared)]
    assert sorted(r.index for r in results) == list(range(5))
    assert sum(r.ok for r in results) == 2  # the fallback keeps the budget, in this process
    assert all(isinstance(r.error, RateLimitWaitTimeout) for r in results if not r.ok)
    assert plaid_sandbox.stats.requests == 2
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 1


async def test_unreachable_redis_fails_closed_when_asked(plaid_sandbox: SandboxServer) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    shared = limiter(f"redis://127.0.0.1:{free_port()}/0", fallback=None)
    tokens = [plaid_sandbox.token(i) for i in range(4)]
    async with shared, plaid_sandbox.client() as client:
        results = [r async for r in client.accounts_get_many(tokens, rate_limit=shared)]
    assert sorted(r.index for r in results) == list(range(4))
    for result in results:
        assert isinstance(result.error, RateLimiterUnavailableError)
        assert isinstance(result.error.__cause__, RedisConnectionError)
        assert result.attempts == 1  # not retried: failing closed means now
    assert plaid_sandbox.stats.requests == 0


async def test_the_shared_budget_comes_back_with_redis(caplog: pytest.LogCaptureFixture) -> None:
    server = RedisServer()
    shared = limiter(server.url, recheck=0.05, budgets=Budgets(per_client={GET: Budget(100, 30)}))
    with caplog.at_level(logging.INFO, logger="plaid_async"):
        await shared.acquire(GET, "a")  # Redis is not there yet: the local fallback
        server.start()
        try:
            await asyncio.sleep(0.1)
            await shared.acquire(GET, "a")
            await shared.acquire(GET, "a")
            assert await zcard_all(server.url) == {client_key(): 2}
        finally:
            await shared.aclose()
            server.kill()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis is unreachable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1


def test_a_fallback_is_local_a_limiter_or_none() -> None:
    with pytest.raises(TypeError, match="fallback must be"):
        RedisRateLimiter("redis://127.0.0.1:1/0", client_id=CLIENT, fallback="remote")  # type: ignore[arg-type]
