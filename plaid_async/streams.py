"""Refresh jobs from a Redis Stream consumer group: at-least-once, crash-safe, with dead letters.

A job names an Item by a reference of the application's choosing (never its access token) and
waits in a Redis Stream; each :class:`StreamConsumer` of a consumer group takes jobs, gets the
token from the application's ``token_for``, calls Plaid through one shared
:class:`~plaid_async.PlaidClient`, hands the final result to the application's handler and only
then acknowledges (``XACK``). What happens to a job is :func:`plaid_async.outcome.decide`.

The keys of a stream ``S`` (give ``S`` a hash tag, ``{refresh}``, on Redis Cluster):

- ``S``: the jobs, fields ``item`` and ``endpoint``;
- ``S:dead``: the dead letters (the job, the reason, the last error; no token);
- ``S:enqueued``: which dedupe keys were enqueued, for :func:`enqueue` to add nothing twice;
- ``S:counts``: the jobs done and dead-lettered, per group.

The ``redis`` package (extra ``redis``) is imported only when a consumer or status is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import importlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from ._checks import check_callable, check_instance, check_positive_int, check_seconds, check_str
from .batch import ItemResult
from .client import PlaidClient
from .endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH
from .outcome import Action, ApplicationError, Decision, DeliveryPolicy, decide
from .ratelimit import RateLimiter
from .redis_ratelimit import check_redis

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "ENDPOINTS",
    "ConsumerStatus",
    "Job",
    "StreamConsumer",
    "StreamStatus",
    "check_item",
    "enqueue",
    "enqueue_many",
    "stream_status",
]

log = logging.getLogger("plaid_async.streams")

ENDPOINTS = (ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH)
"""What a job may ask for; real-time balances by default."""

DEFAULT_GROUP = "plaid-async"
TOKEN_IN_MESSAGE = "a field looks like an access token (deleted from the stream)"  # noqa: S105
"""Why a message holding what looks like a token is dead-lettered; it is also deleted."""
MAX_ITEM_CHARS = 256
CLAIM_MARGIN = 15.0
"""Seconds added to the call's deadline for the default ``claim_idle``: ``token_for`` and the
handler run within it too."""

ENQUEUE_SCRIPT = """
-- KEYS[1]: the stream, KEYS[2]: its dedupe hash. ARGV[1]: the dedupe key; then the fields.
-- Adds the job unless the key was enqueued before; either way returns {added, entry id}.
local known = redis.call('HGET', KEYS[2], ARGV[1])
if known then return {0, known} end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('HSET', KEYS[2], ARGV[1], id)
return {1, id}
"""

ACK_SCRIPT = """
-- KEYS[1]: the stream, KEYS[2]: its counts. ARGV: the group, the entry id, the count's field.
-- Counts the job done only if this acknowledgement is the one that took it off the pending list.
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
return 1
"""

DEAD_LETTER_SCRIPT = """
-- KEYS[1]: the stream, KEYS[2]: its counts, KEYS[3]: its dead letters. ARGV: the group, the
-- entry id, the count's field, '1' to delete the entry, then the dead letter's fields. Writes
-- the dead letter only if the job was still pending: one dead letter per job.
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[3], '*', unpack(ARGV, 5))
if ARGV[4] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
return 1
"""


def _redis_module() -> Any:
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError:
        raise ImportError(
            "plaid_async.streams needs the redis package: pip install 'plaid-async[redis]'"
        ) from None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def check_item(item: object) -> str:
    """``item`` if it can name an Item in a job, else ``TypeError`` or ``ValueError``.

    A reference is the application's own (a database id, a line of a tokens file), short, and
    never the access token itself: a job waits in Redis, where a token must never be.
    """
    if not isinstance(item, str):
        raise TypeError(f"item must be a str, not {type(item).__name__}")
    if not item.strip():
        raise ValueError("item must not be empty")
    if len(item) > MAX_ITEM_CHARS:
        raise ValueError(f"item must be at most {MAX_ITEM_CHARS} characters")
    if _looks_like_token(item):
        raise ValueError(
            "item must name an Item, not be its access token: tokens stay out of Redis"
        )
    return item


def _looks_like_token(text: str) -> bool:
    return "access-" in text


@frozen
class Job:
    """One job as a consumer got it: the Item's reference, the endpoint, the stream entry's
    id, and how many times it has been delivered (1 the first time)."""

    item: str
    endpoint: str = ENDPOINTS[0]
    id: str = ""
    deliveries: int = 1


def _job_fields(item: str, endpoint: str) -> dict[str, str]:
    check_item(item)
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
    return {"item": item, "endpoint": endpoint}


def _parse_job(entry_id: str, fields: Mapping[Any, Any], deliveries: int) -> Job | str:
    """The job of a stream entry, or why the entry is not one (without quoting its values)."""
    values = {_text(k): _text(v) for k, v in fields.items()}
    if any(_looks_like_token(v) for v in values.values()):
        return TOKEN_IN_MESSAGE
    unknown = sorted(set(values) - {"item", "endpoint"})
    if unknown:
        return f"unknown fields {', '.join(unknown)[:100]}"
    try:
        check_item(values.get("item"))
    except (TypeError, ValueError) as exc:
        return str(exc) if "item" in values else "no item field"
    endpoint = values.get("endpoint", ENDPOINTS[0])
    if endpoint not in ENDPOINTS:
        return "unknown endpoint"
    return Job(values["item"], endpoint, entry_id, deliveries)


def _keys(stream: str) -> tuple[str, str, str]:
    """The dead-letter stream, the dedupe hash and the counts hash of ``stream``."""
    return f"{stream}:dead", f"{stream}:enqueued", f"{stream}:counts"


async def enqueue(
    redis: Redis,
    stream: str,
    item: str,
    *,
    endpoint: str = ENDPOINTS[0],
    dedupe_key: str | None = None,
) -> str | None:
    """Add a job for ``item``; its entry id, or None if ``dedupe_key`` was enqueued before.

    ``dedupe_key`` (``item`` by default) is remembered in ``STREAM:enqueued`` for good: the
    same key adds nothing again, whether its job waits, runs, is done or dead-lettered. Give a
    key per occasion to refresh again (``f"{day}:{item}"``, a webhook's event id).
    """
    fields = _job_fields(item, endpoint)
    [(added, entry_id)] = await _add(redis, stream, [(dedupe_key or item, fields)])
    return entry_id if added else None


async def enqueue_many(
    redis: Redis,
    stream: str,
    items: Iterable[str],
    *,
    endpoint: str = ENDPOINTS[0],
    dedupe_key: Callable[[str], str] | None = None,
    chunk: int = 500,
) -> tuple[int, int]:
    """:func:`enqueue` for each of ``items`` (any iterable, read lazily), ``chunk`` to a round
    trip: how many jobs were added, and how many keys were enqueued before. Each job is added
    and remembered atomically (one Lua script), so two runs at once add each job once."""
    added = known = 0
    batch: list[tuple[str, dict[str, str]]] = []
    for item in items:
        batch.append((dedupe_key(item) if dedupe_key else item, _job_fields(item, endpoint)))
        if len(batch) >= chunk:
            replies = await _add(redis, stream, batch)
            batch.clear()
            added += sum(new for new, _ in replies)
            known += sum(not new for new, _ in replies)
    if batch:
        replies = await _add(redis, stream, batch)
        added += sum(new for new, _ in replies)
        known += sum(not new for new, _ in replies)
    return added, known


async def _add(
    redis: Redis, stream: str, jobs: list[tuple[str, dict[str, str]]]
) -> list[tuple[bool, str]]:
    """Run the enqueue script for each (dedupe key, fields), in one round trip."""
    script = redis.register_script(ENQUEUE_SCRIPT)
    _, seen_key, _ = _keys(stream)
    async with redis.pipeline(transaction=False) as pipe:
        for key, fields in jobs:
            args = [key, *(x for pair in fields.items() for x in pair)]
            await script(keys=[stream, seen_key], args=args, client=pipe)
        replies = await pipe.execute()
    return [(bool(int(new)), _text(entry_id)) for new, entry_id in replies]


# --------------------------------------------------------------------------------------------
# The consumer
# --------------------------------------------------------------------------------------------

TokenFor = Callable[[str], Awaitable[str]]
Handler = Callable[[Job, ItemResult], Awaitable[object]]


@frozen
class _Delivery:
    id: str
    fields: Mapping[Any, Any] = field(repr=False)
    deliveries: int


class StreamConsumer:
    """One consumer of a Redis Stream consumer group, processing ``concurrency`` jobs at once.

    ::

        consumer = StreamConsumer(redis_url, stream="refresh", client=client,
                                  token_for=token_for, handler=handle)
        loop.add_signal_handler(signal.SIGTERM, consumer.stop)
        await consumer.run()

    :param redis: a ``redis://`` URL, or a ``redis.asyncio.Redis`` of yours (never closed here).
    :param stream: the stream's key; the group is made on it (with the stream) if missing.
    :param client: the :class:`~plaid_async.PlaidClient` every job is fetched with, under its
        retry policy, timeouts and ``rate_limiter`` (the shared budget); not closed here.
    :param token_for: ``async token_for(item) -> access token``: the application's lookup. An
        exception from it is retried later, like a transient failure (a database that blinked),
        and dead-letters the job at the delivery limit (an Item that does not exist).
    :param handler: ``async handler(job, result)``, called with each final
        :class:`~plaid_async.ItemResult` (ok, or failed for good); the job is acknowledged when
        it returns. One that raises leaves the job unacknowledged: retried after the backoff,
        dead-lettered at the limit. It may be called twice for one job (at-least-once): make
        it idempotent.
    :param group: the consumer group; one group per kind of work.
    :param consumer: this consumer's name in the group; unique per process by default.
    :param concurrency: jobs in hand at once.
    :param policy: the :class:`~plaid_async.outcome.DeliveryPolicy`: delivery limit, backoff.
    :param claim_idle: seconds after which a job pending on another consumer is taken over
        (that consumer died). It must exceed the longest a job can take: by default the
        client's ``RetryPolicy.deadline`` plus 15 s for ``token_for`` and the handler.
    :param rate_limit: a limiter every call waits on besides the client's own.
    :param read_block: seconds a read waits for new jobs; also how soon :meth:`stop` is seen.
    """

    def __init__(
        self,
        redis: str | Redis,
        *,
        stream: str,
        client: PlaidClient,
        token_for: TokenFor,
        handler: Handler,
        group: str = DEFAULT_GROUP,
        consumer: str | None = None,
        concurrency: int = 8,
        policy: DeliveryPolicy | None = None,
        claim_idle: float | None = None,
        rate_limit: RateLimiter | None = None,
        read_block: float = 1.0,
    ) -> None:
        module = _redis_module()
        check_redis("redis", redis)
        check_str("stream", stream)
        check_str("group", group)
        if consumer is not None:
            check_str("consumer", consumer)
        check_instance("client", client, PlaidClient)
        check_positive_int("concurrency", concurrency)
        check_callable("token_for", token_for)
        check_callable("handler", handler)
        if policy is not None:
            check_instance("policy", policy, DeliveryPolicy)
        if rate_limit is not None:
            check_instance("rate_limit", rate_limit, RateLimiter, "a rate limiter")
        if claim_idle is None:
            if client.retry.deadline is None:
                raise ValueError("claim_idle is needed when the client's retry has no deadline")
            claim_idle = client.retry.deadline + CLAIM_MARGIN
        check_seconds("claim_idle", claim_idle)
        check_seconds("read_block", read_block)
        self.stream = stream
        self.group = group
        self.name = consumer or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.concurrency = concurrency
        self.policy = policy or DeliveryPolicy()
        self.claim_idle = float(claim_idle)
        self._client = client
        self._token_for = token_for
        self._handler = handler
        self._rate_limit = rate_limit
        self._read_block = float(read_block)
        self._claim_every = max(0.05, min(self.claim_idle / 2, 5.0))
        self._claim_cursor = "0-0"
        self._dead, _, self._counts = _keys(stream)
        self._owns_redis = isinstance(redis, str)
        self._redis: Redis = (
            module.Redis.from_url(
                redis, socket_connect_timeout=5.0, socket_timeout=self._read_block + 30.0
            )
            if isinstance(redis, str)
            else redis
        )
        self._errors: tuple[type[BaseException], ...] = (
            importlib.import_module("redis.exceptions").RedisError,
            OSError,
        )
        self._ack = self._redis.register_script(ACK_SCRIPT)
        self._dead_letter = self._redis.register_script(DEAD_LETTER_SCRIPT)
        self._stop = asyncio.Event()
        self._retries: list[tuple[float, str, int, float]] = []  # (due, id, deliveries, wait)
        self._in_hand: set[str] = set()
        self._running: asyncio.Future[None] | None = None
        self.processed: dict[Action, int] = dict.fromkeys(Action, 0)
        """Outcomes of this consumer's deliveries so far, by action."""

    def __repr__(self) -> str:
        return f"StreamConsumer(stream={self.stream!r}, group={self.group!r}, name={self.name!r})"

    def stop(self) -> None:
        """Take no new jobs; :meth:`run` returns once the jobs in hand are finished. Safe to
        call from a signal handler (``loop.add_signal_handler``)."""
        self._stop.set()

    @property
    def in_hand(self) -> int:
        """Jobs being processed now."""
        return len(self._in_hand)

    async def aclose(self) -> None:
        """Stop, let :meth:`run` finish the jobs in hand, and close the Redis connections this
        consumer opened. Jobs waiting for a retry stay pending: another consumer takes them
        after ``claim_idle``."""
        self.stop()
        if self._running is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._running)
        if self._owns_redis:
            await self._redis.aclose()

    async def __aenter__(self) -> StreamConsumer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def ensure_group(self) -> None:
        """Make the group (and the stream) if missing, reading from the stream's start."""
        try:
            await self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except importlib.import_module("redis.exceptions").ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, *, until_empty: bool = False) -> None:
        """Take and process jobs until :meth:`stop` (or, with ``until_empty``, until no job is
        waiting or pending in the group), then finish the jobs in hand.

        Cancelling it abandons the jobs in hand: they stay pending, and another consumer
        takes them after ``claim_idle``.
        """
        if self._running is not None:
            raise RuntimeError("run() was called on this consumer before: make a new one")
        self._running = asyncio.get_running_loop().create_future()
        tasks: set[asyncio.Task[None]] = set()
        try:
            await self.ensure_group()
            await self._loop(tasks, until_empty)
            if tasks:
                await asyncio.wait(tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
            raise
        finally:
            self._running.set_result(None)

    async def _loop(self, tasks: set[asyncio.Task[None]], until_empty: bool) -> None:
        next_claim = 0.0
        while not self._stop.is_set():
            free = self.concurrency - len(tasks)
            if free <= 0:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                got = await self._due_retries(free)
                if len(got) < free and time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self._claim_every
                    got += await self._claim(free - len(got))
                if len(got) < free and not self._stop.is_set():
                    got += await self._read(free - len(got), block=not got)
            except self._errors as exc:
                log.warning("stream %s: Redis failed (%s); trying again", self.stream, exc)
                await _sleep_unless(self._stop, 1.0)
                continue
            for delivery in got:
                self._in_hand.add(delivery.id)
                task = asyncio.get_running_loop().create_task(self._process(delivery))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            idle = not got and not tasks and not self._retries
            if until_empty and idle and await self._group_pending() == 0:
                return

    # -- where deliveries come from ------------------------------------------------------------

    def _block_ms(self) -> int:
        wait = self._read_block
        if self._retries:
            wait = min(wait, max(0.0, self._retries[0][0] - time.monotonic()))
        return max(1, int(wait * 1000))

    async def _read(self, count: int, *, block: bool) -> list[_Delivery]:
        reply: Any = await self._redis.xreadgroup(
            self.group,
            self.name,
            {self.stream: ">"},
            count=count,
            block=self._block_ms() if block else None,
        )
        return [_Delivery(_text(i), f, 1) for _, entries in reply or () for i, f in entries]

    async def _due_retries(self, count: int) -> list[_Delivery]:
        """The jobs this consumer failed whose backoff has passed, claimed back to itself.

        The claim needs the job idle for the backoff: one another consumer took over in the
        meantime (and so touched) is left to it.
        """
        got: list[_Delivery] = []
        while self._retries and len(got) < count and self._retries[0][0] <= time.monotonic():
            _, entry_id, deliveries, wait = heapq.heappop(self._retries)
            claimed: Any = await self._redis.xclaim(
                self.stream, self.group, self.name, int(wait * 1000 * 0.9), [entry_id]
            )
            got += [_Delivery(_text(i), f, deliveries + 1) for i, f in claimed if f is not None]
        return got

    async def _claim(self, count: int) -> list[_Delivery]:
        """Jobs pending on another consumer for longer than ``claim_idle``: it died.

        The scan goes on from where the last one stopped (Redis looks at no more than ten
        times ``count`` entries a call), so a dead consumer's jobs behind many live pending
        ones are still found; the cursor starts over once it has gone round.
        """
        reply = await self._redis.xautoclaim(
            self.stream,
            self.group,
            self.name,
            int(self.claim_idle * 1000),
            self._claim_cursor,
            count=count,
        )
        self._claim_cursor = _text(reply[0])  # "0-0" once the whole list has been scanned
        entries = [(_text(i), f) for i, f in reply[1] if f is not None]
        entries = [(i, f) for i, f in entries if i not in self._in_hand]
        mine = {i for i, _ in entries} & {r[1] for r in self._retries}
        if mine:  # this consumer's own, waiting for a backoff longer than claim_idle: now
            self._retries = [r for r in self._retries if r[1] not in mine]
            heapq.heapify(self._retries)
        if not entries:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id, _ in entries:
                pipe.xpending_range(self.stream, self.group, entry_id, entry_id, 1)
            pending = await pipe.execute()
        got = []
        for (entry_id, fields), info in zip(entries, pending, strict=True):
            deliveries = int(info[0]["times_delivered"]) if info else 1
            got.append(_Delivery(entry_id, fields, deliveries))
        if got:
            log.info("stream %s: took over %d jobs of consumers gone quiet", self.stream, len(got))
        return got

    async def _group_pending(self) -> int:
        summary = await self._redis.xpending(self.stream, self.group)
        return int(summary["pending"])

    # -- one job -------------------------------------------------------------------------------

    async def _process(self, delivery: _Delivery) -> None:
        try:
            decision, job = await self._outcome(delivery)
            await self._act(delivery, job, decision)
        except self._errors as exc:
            # the job stays pending: retried by whoever takes it after claim_idle
            log.warning("job %s: Redis failed (%s); it stays pending", delivery.id, exc)
        finally:
            self._in_hand.discard(delivery.id)

    async def _outcome(self, delivery: _Delivery) -> tuple[Decision, Job | None]:
        job = _parse_job(delivery.id, delivery.fields, delivery.deliveries)
        if isinstance(job, str):
            return decide(None, deliveries=delivery.deliveries, bad_message=job), None
        if job.deliveries > self.policy.max_deliveries:
            reason = (
                f"delivered {job.deliveries} times, over the limit of "
                f"{self.policy.max_deliveries}: the consumers that had it stopped before an outcome"
            )
            return Decision(Action.DEAD_LETTER, reason), job
        token = ""
        retry = self._client.retry
        try:
            token = await self._token_for(job.item)
            result = await self._fetch(job, token)
            decision = decide(
                result.error, deliveries=job.deliveries, policy=self.policy, retry=retry
            )
            if decision.action is Action.DONE:
                await self._handler(job, result)
        except Exception as exc:  # never BaseException: a cancelled job stays pending
            step = "token_for" if not token else "handler"
            decision = decide(
                ApplicationError(step, exc),
                deliveries=job.deliveries,
                policy=self.policy,
                retry=retry,
                hide=(token,),
            )
        return decision, job

    async def _fetch(self, job: Job, token: str) -> ItemResult:
        client = self._client
        many = (
            client.accounts_get_many
            if job.endpoint == ACCOUNTS_GET_PATH
            else (client.accounts_balance_get_many)
        )
        async with contextlib.aclosing(
            many([token], concurrency=1, rate_limit=self._rate_limit)
        ) as results:
            async for result in results:
                return result
        raise RuntimeError("the batch gave no result for a token")  # pragma: no cover

    async def _act(self, delivery: _Delivery, job: Job | None, decision: Decision) -> None:
        self.processed[decision.action] += 1
        item = job.item if job is not None else "?"
        if decision.action is Action.DONE:
            await self._settle(
                self._ack,
                keys=[self.stream, self._counts],
                args=[self.group, delivery.id, f"{self.group}:done"],
            )
        elif decision.action is Action.RETRY:
            wait = decision.retry_in or 0.0
            log.info("job %s (item %s): %s, in %.1f s", delivery.id, item, decision.reason, wait)
            due = time.monotonic() + wait
            heapq.heappush(self._retries, (due, delivery.id, delivery.deliveries, wait))
        else:
            log.warning("job %s (item %s): dead-lettered: %s", delivery.id, item, decision.reason)
            letter = {
                "id": delivery.id,
                "reason": decision.reason,
                "deliveries": str(delivery.deliveries),
                "group": self.group,
                "consumer": self.name,
                "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            }
            if job is not None:
                letter |= {"item": job.item, "endpoint": job.endpoint}
            purge = "1" if decision.reason.endswith(TOKEN_IN_MESSAGE) else "0"
            await self._settle(
                self._dead_letter,
                keys=[self.stream, self._counts, self._dead],
                args=[self.group, delivery.id, f"{self.group}:dead", purge]
                + [x for pair in letter.items() for x in pair],
            )

    async def _settle(self, script: Any, *, keys: list[str], args: list[str]) -> None:
        """Run an acknowledging script, again and again while Redis is away (a restart) for
        up to half of ``claim_idle``: a job handled and not acknowledged is handled twice."""
        give_up = time.monotonic() + self.claim_idle / 2
        wait = 0.05
        while True:
            try:
                await script(keys=keys, args=args)
                return
            except self._errors:
                if time.monotonic() + wait > give_up:
                    raise
            await asyncio.sleep(wait)
            wait = min(wait * 2, 1.0)


async def _sleep_unless(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


@frozen
class ConsumerStatus:
    """One consumer of the group: its jobs pending (in hand, or waiting for a retry), and
    seconds since it last read or claimed."""

    name: str
    pending: int
    idle: float


@frozen
class StreamStatus:
    """The state of a stream's group: ``waiting`` jobs not yet delivered (None when Redis
    cannot tell), ``pending`` delivered and not acknowledged, ``done``, ``dead`` letters,
    ``enqueued`` dedupe keys, and each consumer."""

    stream: str
    group: str
    waiting: int | None
    pending: int
    done: int
    dead: int
    enqueued: int
    consumers: tuple[ConsumerStatus, ...]


async def stream_status(redis: Redis, stream: str, group: str = DEFAULT_GROUP) -> StreamStatus:
    """What :class:`StreamStatus` says, read from Redis (``XINFO``, ``XLEN``, ``HGET``)."""
    dead_key, seen_key, counts_key = _keys(stream)
    length = await redis.xlen(stream)
    groups = await redis.xinfo_groups(stream) if length or await redis.exists(stream) else []
    info = next((g for g in groups if _text(g["name"]) == group), None)
    consumers: tuple[ConsumerStatus, ...] = ()
    waiting: int | None = int(length)
    pending = 0
    if info is not None:
        lag = info.get("lag")
        waiting = None if lag is None else int(lag)
        pending = int(info["pending"])
        rows = await redis.xinfo_consumers(stream, group)
        consumers = tuple(
            ConsumerStatus(_text(r["name"]), int(r["pending"]), int(r["idle"]) / 1000) for r in rows
        )
    done, dead = await redis.hmget(counts_key, [f"{group}:done", f"{group}:dead"])
    return StreamStatus(
        stream,
        group,
        waiting,
        pending,
        int(done or 0),
        int(await redis.xlen(dead_key)) if dead is None else int(dead),
        int(await redis.hlen(seen_key)),
        consumers,
    )
