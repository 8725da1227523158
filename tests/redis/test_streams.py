"""The Redis Streams consumer against a real redis-server and the emulator on loopback.

Small idle and backoff settings keep each test well under a second or two.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from plaid_async import ItemError, ItemResult, PlaidClient, RetryPolicy
from plaid_async.outcome import Action, DeliveryPolicy
from plaid_async.sandbox import SandboxServer
from plaid_async.streams import (
    Job,
    StreamConsumer,
    check_item,
    enqueue,
    enqueue_many,
    stream_status,
)

STREAM = "jobs"
FAST = DeliveryPolicy(max_deliveries=3, backoff_initial=0.02, backoff_max=0.05)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def client(plaid_sandbox: SandboxServer) -> AsyncIterator[PlaidClient]:
    """One attempt a call, so that each fault reaches the consumer."""
    retry = RetryPolicy(max_attempts=1, deadline=2.0)
    async with plaid_sandbox.client(retry=retry, timeouts={"/accounts/balance/get": 2.0}) as c:
        yield c


class App:
    """The application: items to tokens, and what the handler was given."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.tokens = {f"item-{n}": sandbox.token(n) for n in range(10)}
        self.tokens["relink"] = sandbox.error_token("ITEM_LOGIN_REQUIRED")
        self.handled: list[tuple[Job, ItemResult]] = []
        self.handler_fails = 0

    async def token_for(self, item: str) -> str:
        return self.tokens[item]  # KeyError for an unknown item

    async def handler(self, job: Job, result: ItemResult) -> None:
        if self.handler_fails:
            self.handler_fails -= 1
            raise RuntimeError(f"the database is down (saving {result.access_token})")
        self.handled.append((job, result))


@pytest.fixture
def app(plaid_sandbox: SandboxServer) -> App:
    return App(plaid_sandbox)


ConsumerFactory = Callable[..., StreamConsumer]


@pytest.fixture
async def make_consumer(
    redis: Redis, client: PlaidClient, app: App
) -> AsyncIterator[ConsumerFactory]:
    made: list[StreamConsumer] = []

    def make(**kwargs: Any) -> StreamConsumer:
        options: dict[str, Any] = {
            "stream": STREAM,
            "client": client,
            "token_for": app.token_for,
            "handler": app.handler,
            "policy": FAST,
            "claim_idle": 5.0,
            "read_block": 0.05,
            **kwargs,
        }
        made.append(StreamConsumer(redis, **options))
        return made[-1]

    yield make
    for consumer in made:
        await consumer.aclose()


async def drain(consumer: StreamConsumer) -> None:
    await asyncio.wait_for(consumer.run(until_empty=True), 20)


async def dead_letters(redis: Redis) -> list[dict[str, str]]:
    entries: Any = await redis.xrange(f"{STREAM}:dead")
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]


async def test_jobs_are_fetched_handled_and_acknowledged(
    redis: Redis, make_consumer: ConsumerFactory, app: App
) -> None:
    await enqueue_many(redis, STREAM, ["item-1", "item-2", "item-3"])
    await drain(make_consumer(concurrency=2))
    assert sorted(job.item for job, _ in app.handled) == ["item-1", "item-2", "item-3"]
    assert all(result.ok and job.deliveries == 1 for job, result in app.handled)
    status = await stream_status(redis, STREAM)
    assert (status.waiting, status.pending, status.done, status.dead) == (0, 0, 3, 0)


async def test_a_transient_failure_is_retried_on_a_later_delivery(
    redis: Redis, make_consumer: ConsumerFactory, app: App, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.enqueue("503")
    await enqueue(redis, STREAM, "item-1")
    await drain(make_consumer())
    [(job, result)] = app.handled
    assert result.ok
    assert job.deliveries == 2
    assert (await stream_status(redis, STREAM)).done == 1


async def test_a_failure_that_stays_transient_is_dead_lettered_at_the_limit(
    redis: Redis, make_consumer: ConsumerFactory, app: App, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.enqueue("503", "500", "503")
    await enqueue(redis, STREAM, "item-1")
    await drain(make_consumer())
    assert app.handled == []
    [letter] = await dead_letters(redis)
    assert letter["item"] == "item-1"
    assert letter["deliveries"] == "3"
    assert "delivered 3 times, the limit" in letter["reason"]
    assert "HTTP 503" in letter["reason"]
    status = await stream_status(redis, STREAM)
    assert (status.pending, status.done, status.dead) == (0, 0, 1)


async def test_an_item_that_needs_its_user_is_done_at_once(
    redis: Redis, make_consumer: ConsumerFactory, app: App, plaid_sandbox: SandboxServer
) -> None:
    await enqueue(redis, STREAM, "relink")
    await drain(make_consumer())
    [(job, result)] = app.handled
    assert isinstance(result.error, ItemError)
    assert result.error.error_code == "ITEM_LOGIN_REQUIRED"
    assert job.deliveries == 1
    assert plaid_sandbox.stats.requests == 1
    assert (await stream_status(redis, STREAM)).done == 1


async def test_a_bad_message_is_dead_lettered_without_its_values(
    redis: Redis, make_consumer: ConsumerFactory, app: App, plaid_sandbox: SandboxServer
) -> None:
    token = plaid_sandbox.token(3)
    await redis.xadd(STREAM, {"colour": "blue"})
    await redis.xadd(STREAM, {"item": "item-1", "endpoint": "/transactions/get"})
    entry: Any = await redis.xadd(STREAM, {"access_token": token})
    carrying = entry.decode()
    await drain(make_consumer())
    letters = await dead_letters(redis)
    assert [letter["reason"].split(":")[0] for letter in letters] == ["bad message"] * 3
    reasons = {letter["id"]: letter["reason"] for letter in letters}
    assert "looks like an access token (deleted" in reasons[carrying]
    assert await redis.xlen(STREAM) == 2
    assert token not in repr(letters)
    assert app.handled == []
    assert plaid_sandbox.stats.requests == 0


async def test_a_handler_that_raises_leaves_the_job_to_be_retried(
    redis: Redis, make_consumer: ConsumerFactory, app: App
) -> None:
    app.handler_fails = 1
    await enqueue(redis, STREAM, "item-1")
    await drain(make_consumer())
    [(job, _)] = app.handled
    assert job.deliveries == 2


async def test_a_handler_that_keeps_raising_dead_letters_the_job_without_the_token(
    redis: Redis, make_consumer: ConsumerFactory, app: App
) -> None:
    app.handler_fails = 10
    await enqueue(redis, STREAM, "item-1")
    await drain(make_consumer())
    [letter] = await dead_letters(redis)
    assert "handler raised RuntimeError: the database is down" in letter["reason"]
    assert app.tokens["item-1"] not in letter["reason"]
    assert "[redacted]" in letter["reason"]


async def test_an_unknown_item_is_a_poison_job_dead_lettered_at_the_limit(
    redis: Redis, make_consumer: ConsumerFactory, app: App, plaid_sandbox: SandboxServer
) -> None:
    await enqueue(redis, STREAM, "no-such-item")
    await drain(make_consumer())
    [letter] = await dead_letters(redis)
    assert letter["deliveries"] == "3"
    assert "token_for raised KeyError" in letter["reason"]
    assert plaid_sandbox.stats.requests == 0


async def test_jobs_of_a_consumer_that_died_are_taken_over(
    redis: Redis, make_consumer: ConsumerFactory, app: App
) -> None:
    await enqueue_many(redis, STREAM, ["item-1", "item-2"])
    await make_consumer().ensure_group()
    # a consumer reads both jobs and dies before acknowledging them
    await redis.xreadgroup("plaid-async", "dead-one", {STREAM: ">"}, count=2)
    survivor = make_consumer(claim_idle=0.2)
    await drain(survivor)
    assert sorted(job.item for job, _ in app.handled) == ["item-1", "item-2"]
    assert {job.deliveries for job, _ in app.handled} == {2}
    status = await stream_status(redis, STREAM)
    assert status.pending == 0
    assert status.done == 2
    assert {c.name: c.pending for c in status.consumers}["dead-one"] == 0


async def test_a_dead_consumers_job_behind_many_live_pending_ones_is_taken_over(
    redis: Redis, make_consumer: ConsumerFactory, app: App
) -> None:
    """Redis's XAUTOCLAIM looks at no more than ten times COUNT entries a call: the scan must
    go on from where it stopped, or thirty jobs in the hands of a live worker hide a dead
    worker's job from a consumer taking one job at a time."""
    live = [f"live-{n}" for n in range(30)]
    await enqueue_many(redis, STREAM, live)
    await make_consumer().ensure_group()
    await redis.xreadgroup("plaid-async", "busy-one", {STREAM: ">"}, count=30)
    pending = await redis.xpending_range(STREAM, "plaid-async", "-", "+", 30)
    live_ids: list[Any] = [entry["message_id"] for entry in pending]
    await enqueue(redis, STREAM, "item-1")
    await redis.xreadgroup("plaid-async", "dead-one", {STREAM: ">"}, count=1)

    async def keep_busy() -> None:  # the live worker's jobs stay fresh: never idle
        while True:
            await redis.xclaim(STREAM, "plaid-async", "busy-one", 0, live_ids, justid=True)
            await asyncio.sleep(0.02)

    busy = asyncio.create_task(keep_busy())
    survivor = make_consumer(claim_idle=0.2, concurrency=1)
    task = asyncio.create_task(survivor.run())
    try:
        for _ in range(250):
            if app.handled:
                break
            await asyncio.sleep(0.02)
    finally:
        survivor.stop()
        await task
        busy.cancel()
    assert [job.item for job, _ in app.handled] == ["item-1"]


async def test_a_job_pending_on_a_live_consumer_is_not_taken_before_claim_idle(
    redis: Redis, make_consumer: ConsumerFactory, app: App
) -> None:
    await enqueue(redis, STREAM, "item-1")
    await make_consumer().ensure_group()
    await redis.xreadgroup("plaid-async", "busy-one", {STREAM: ">"}, count=1)
    other = make_consumer(claim_idle=30.0)
    task = asyncio.create_task(other.run())
    await asyncio.sleep(0.3)
    other.stop()
    await task
    assert app.handled == []
    assert (await stream_status(redis, STREAM)).pending == 1


async def test_stop_finishes_the_jobs_in_hand_and_acknowledges_them(
    redis: Redis, make_consumer: ConsumerFactory, app: App
) -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow_handler(job: Job, result: ItemResult) -> None:
        started.set()
        await release.wait()
        app.handled.append((job, result))

    await enqueue_many(redis, STREAM, ["item-1", "item-2", "item-3"])
    consumer = make_consumer(handler=slow_handler, concurrency=1)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(started.wait(), 5)
    closing = asyncio.create_task(consumer.aclose())  # what SIGTERM does in the command
    await asyncio.sleep(0.2)
    assert not closing.done()  # waiting for the job in hand
    release.set()
    await asyncio.wait_for(closing, 5)
    await task
    assert [job.item for job, _ in app.handled] == ["item-1"]
    status = await stream_status(redis, STREAM)
    assert (status.done, status.pending, status.waiting) == (1, 0, 2)


async def test_cancelling_the_run_leaves_the_jobs_in_hand_pending(
    redis: Redis, make_consumer: ConsumerFactory, app: App
) -> None:
    started = asyncio.Event()

    async def stuck_handler(job: Job, result: ItemResult) -> None:
        started.set()
        await asyncio.Event().wait()

    await enqueue(redis, STREAM, "item-1")
    task = asyncio.create_task(make_consumer(handler=stuck_handler).run())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    status = await stream_status(redis, STREAM)
    assert (status.pending, status.done) == (1, 0)


async def test_enqueue_adds_nothing_twice(redis: Redis) -> None:
    assert await enqueue_many(redis, STREAM, ["a", "b", "c"], chunk=2) == (3, 0)
    assert await enqueue_many(redis, STREAM, ["a", "b", "c", "d"], chunk=2) == (1, 3)
    assert await enqueue(redis, STREAM, "a") is None
    assert await enqueue(redis, STREAM, "a", dedupe_key="2026-12-05:a") is not None
    assert await redis.xlen(STREAM) == 5
    status = await stream_status(redis, STREAM)
    assert status.waiting == 5
    assert status.enqueued == 5


async def test_two_enqueues_at_once_add_each_job_once(redis_url: str) -> None:
    clients = [Redis.from_url(redis_url) for _ in range(2)]
    items = [f"item-{n}" for n in range(300)]
    results = await asyncio.gather(*(enqueue_many(c, STREAM, items, chunk=50) for c in clients))
    assert sum(added for added, _ in results) == 300
    assert await clients[0].xlen(STREAM) == 300
    for c in clients:
        await c.aclose()


@pytest.mark.parametrize(
    ("item", "error"),
    [
        (5, TypeError),
        ("", ValueError),
        ("x" * 257, ValueError),
        ("access-sandbox-1234", ValueError),
    ],
)
def test_check_item_refuses_what_cannot_name_an_item(item: object, error: type) -> None:
    with pytest.raises(error, match="item"):
        check_item(item)


async def test_enqueue_refuses_an_access_token_before_anything_is_sent(
    redis: Redis, plaid_sandbox: SandboxServer
) -> None:
    with pytest.raises(ValueError, match="not be its access token"):
        await enqueue(redis, STREAM, plaid_sandbox.token(1))
    assert await redis.exists(STREAM) == 0


async def test_no_token_anywhere_in_redis_logs_or_errors_after_every_kind_of_outcome(
    redis: Redis,
    make_consumer: ConsumerFactory,
    app: App,
    plaid_sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    plaid_sandbox.enqueue("503", "500", "503", "503")
    app.handler_fails = 4
    await enqueue_many(redis, STREAM, [*app.tokens, "no-such-item"])
    await redis.xadd(STREAM, {"access_token": app.tokens["item-9"]})
    consumer = make_consumer(concurrency=4)
    await drain(consumer)
    # leave one job pending, as a killed consumer would
    await enqueue(redis, STREAM, "item-0", dedupe_key="again")
    await redis.xreadgroup("plaid-async", "killed", {STREAM: ">"}, count=1)
    assert len(await dead_letters(redis)) == 2  # the bad message and the unknown item
    everything = await dump_redis(redis)
    everything += caplog.text + repr(consumer) + repr(await stream_status(redis, STREAM))
    everything += repr(app.handled)
    for token in app.tokens.values():
        assert token not in everything
    assert "item-0" in everything  # the dump did see the jobs


async def dump_redis(redis: Redis) -> str:
    """Every key and value in Redis as text, pending entries included."""
    parts: list[str] = []
    async for key in redis.scan_iter():
        kind = (await redis.type(key)).decode()  # type: ignore[union-attr]
        reads: dict[str, Callable[[Any], Awaitable[Any]]] = {
            "stream": redis.xrange,
            "hash": redis.hgetall,
            "string": redis.get,
            "zset": lambda k: redis.zrange(k, 0, -1),
        }
        parts += [repr(key), repr(await reads[kind](key))]
        if kind == "stream":
            for group in await redis.xinfo_groups(key):
                parts.append(repr(group))
                parts.append(repr(await redis.xpending_range(key, group["name"], "-", "+", 1000)))
                parts.append(repr(await redis.xinfo_consumers(key, group["name"])))
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"concurrency": 0}, ValueError, "concurrency"),
        ({"concurrency": 2.0}, TypeError, "concurrency"),
        ({"claim_idle": -1.0}, ValueError, "claim_idle"),
        ({"read_block": "1"}, TypeError, "read_block"),
        ({"stream": ""}, ValueError, "stream"),
        ({"handler": None}, TypeError, "handler"),
    ],
)
async def test_the_consumer_refuses_bad_arguments(
    make_consumer: ConsumerFactory, kwargs: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        make_consumer(**kwargs)


async def test_claim_idle_defaults_to_the_deadline_plus_a_margin(
    make_consumer: ConsumerFactory, plaid_sandbox: SandboxServer
) -> None:
    assert make_consumer(claim_idle=None).claim_idle == 2.0 + 15.0
    async with plaid_sandbox.client(retry=RetryPolicy(deadline=None)) as no_deadline:
        with pytest.raises(ValueError, match="claim_idle is needed"):
            make_consumer(claim_idle=None, client=no_deadline)


async def test_a_consumer_runs_once(redis: Redis, make_consumer: ConsumerFactory) -> None:
    consumer = make_consumer()
    await drain(consumer)
    with pytest.raises(RuntimeError, match="make a new one"):
        await consumer.run()


async def test_a_job_taken_over_during_its_backoff_is_left_to_the_consumer_that_took_it(
    redis: Redis, make_consumer: ConsumerFactory, app: App, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.enqueue("503")
    await enqueue(redis, STREAM, "item-1")
    waits_long = DeliveryPolicy(max_deliveries=3, backoff_initial=1.0, backoff_max=1.0)
    first = make_consumer(policy=waits_long, claim_idle=30.0)

    async def slow_handler(job: Job, result: ItemResult) -> None:
        await asyncio.sleep(1.5)  # still in hand when the first one's backoff ends
        app.handled.append((job, result))

    second = make_consumer(handler=slow_handler, claim_idle=0.2)
    runs = [asyncio.create_task(first.run())]
    deadline = asyncio.get_running_loop().time() + 5
    while first.processed[Action.RETRY] == 0:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    runs.append(asyncio.create_task(second.run()))
    await asyncio.sleep(2.5)
    first.stop()
    second.stop()
    await asyncio.gather(*runs)
    [(job, _)] = app.handled
    assert job.deliveries == 2
    assert first.processed[Action.DONE] == 0
