"""``RedisRateLimiter``: one Plaid budget per ``client_id``, shared by every process on Redis.

Each budget is a sliding-window log in a Redis sorted set, checked and taken by one Lua script
that runs atomically on the server: a request is counted in its client budget and its Item
budget together or in neither, against Redis's clock (so the machines' clocks do not matter),
and a refusal comes back with the time until a slot frees, which is what the caller sleeps.
The ``redis`` package (extra ``redis``) is imported only when a limiter is made.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any, Literal

from ._checks import check_instance, check_seconds, check_str
from .budgets import Budget, Budgets
from .errors import RateLimiterUnavailableError
from .ratelimit import LocalRateLimiter, RateLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["ACQUIRE_SCRIPT", "RedisRateLimiter"]

log = logging.getLogger("plaid_async")

ACQUIRE_SCRIPT = """
-- KEYS: one sorted set per budget. ARGV[1]: this request's member; then, per key, its limit
-- and its window in ms. Either every budget has room and the request is counted in all of
-- them ({"0", 0}), or none is touched and the answer is {ms to wait, index of the fullest}.
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local wait, blocked = 0, 0
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local w = tonumber(entry[2]) + window - now
    if w > wait then wait, blocked = w, i end
  end
end
if blocked > 0 then return {tostring(wait), blocked} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 * i + 1])))
end
return {'0', 0}
"""


_URL_SCHEMES = ("redis://", "rediss://", "unix://")


def check_redis(name: str, value: object) -> None:
    """A Redis URL (checked by its scheme, never quoted: it may hold a password) or a
    ``redis.asyncio.Redis`` (anything with its ``register_script``)."""
    if isinstance(value, str):
        if not value.startswith(_URL_SCHEMES):
            raise ValueError(f"{name} must be a Redis URL starting {', '.join(_URL_SCHEMES)}")
    elif not callable(getattr(value, "register_script", None)):
        raise TypeError(
            f"{name} must be a redis:// URL or a redis.asyncio.Redis, not {type(value).__name__}"
        )


def _redis_module() -> Any:
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError:
        raise ImportError(
            "RedisRateLimiter needs the redis package: pip install 'plaid-async[redis]'"
        ) from None


class RedisRateLimiter:
    """Plaid's budgets for one ``client_id``, shared through Redis by every process and machine.

    ::

        limiter = RedisRateLimiter("redis://localhost:6379/0", client_id=client_id)
        async with PlaidClient(client_id, secret, rate_limiter=limiter) as client:
            ...

    :param redis: a ``redis://`` or ``rediss://`` URL, or a ``redis.asyncio.Redis`` of yours
        (the limiter then never closes it).
    :param client_id: the Plaid client id the budget belongs to; part of every key. The secret
        is never needed, nor sent to Redis.
    :param environment: ``"production"`` or ``"sandbox"``: Plaid counts them apart, so they
        have separate keys, and it picks the preset when ``budgets`` is not given.
    :param budgets: the :class:`~plaid_async.Budgets`; Plaid's published limits for
        ``environment`` by default.
    :param fallback: what to wait on while Redis cannot be reached: ``"local"`` (the default),
        an in-process :class:`~plaid_async.LocalRateLimiter` with the same budgets (one WARNING
        when Redis goes, one INFO when it is back); another limiter; or None to fail closed
        with :class:`~plaid_async.RateLimiterUnavailableError` and send nothing.
    :param timeout: seconds to connect to Redis and for each command, before it counts as down.
    :param recheck: seconds between two attempts to reach Redis again while it is down.
    :param key_prefix: the start of every key.

    Like the client, a limiter belongs to the event loop it is first used on.
    """

    def __init__(
        self,
        redis: str | Redis,
        *,
        client_id: str,
        environment: str = "production",
        budgets: Budgets | None = None,
        fallback: RateLimiter | Literal["local"] | None = "local",
        timeout: float = 0.5,
        recheck: float = 5.0,
        key_prefix: str = "plaid-async",
    ) -> None:
        check_redis("redis", redis)
        check_str("client_id", client_id)
        check_str("environment", environment)
        if budgets is None:
            budgets = Budgets.for_environment(environment)
        else:
            check_instance("budgets", budgets, Budgets)
        if fallback == "local":
            fallback = LocalRateLimiter(budgets=budgets)
        elif fallback is not None and not isinstance(fallback, RateLimiter):
            raise TypeError(f"fallback must be 'local', a rate limiter or None, not {fallback!r}")
        check_seconds("timeout", timeout)
        self._recheck = check_seconds("recheck", recheck, allow_zero=True)
        check_instance("key_prefix", key_prefix, str)
        module = _redis_module()
        self.budgets = budgets
        self.client_id = client_id
        self.environment = environment
        self._fallback = fallback
        self._prefix = f"{key_prefix}:{{{environment}:{client_id}}}:"
        self._owns_client = isinstance(redis, str)
        if isinstance(redis, str):
            retry = importlib.import_module("redis.asyncio.retry")
            backoff = importlib.import_module("redis.backoff")
            client: Redis = module.Redis.from_url(
                redis,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=retry.Retry(backoff.NoBackoff(), 0),  # down is down: the fallback decides
            )
        else:
            client = redis
        self._redis = client
        self._script = client.register_script(ACQUIRE_SCRIPT)
        self._errors: tuple[type[BaseException], ...] = (
            importlib.import_module("redis.exceptions").RedisError,
            OSError,
        )
        self._locks: dict[str, asyncio.Lock] = {}
        self._down_until: float | None = None  # while Redis is down: when to try it again
        self._releases: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter(client_id={self.client_id!r}, environment={self.environment!r}, "
            f"budgets={self.budgets!r})"
        )

    def key(self, scope: str) -> str:
        """The Redis key of a budget's scope (``client:<path>`` or ``item:<path>:<sha256>``)."""
        return self._prefix + check_instance("scope", scope, str)

    async def ping(self) -> None:
        """Check that Redis answers, whatever ``fallback`` says: what a batch job does before
        it starts, so that a wrong URL stops it instead of leaving each process on its own
        budget. A :class:`~plaid_async.RateLimiterUnavailableError` if Redis cannot be reached."""
        try:
            await self._redis.ping()
        except self._errors as exc:
            raise RateLimiterUnavailableError(
                f"the shared rate limiter cannot reach Redis ({type(exc).__name__})"
            ) from exc

    async def aclose(self) -> None:
        """Close the connections this limiter opened (not a client passed in)."""
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        if self._owns_client:
            await self._redis.aclose()

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ----------------------------------------------------------------------------------------

    async def acquire(self, path: str, item_key: str) -> None:
        rules = self.budgets.rules(path, item_key)
        if not rules:
            return None
        if self._down_until is not None:  # only ever set with a fallback
            if time.monotonic() < self._down_until:
                return await self._fall_back(path, item_key)
            self._down_until = time.monotonic() + self._recheck  # this call probes; others wait
        try:
            await self._acquire_shared(path, rules)
        except self._errors as exc:
            return await self._redis_down(exc, path, item_key)
        if self._down_until is not None:
            self._down_until = None
            log.info("Redis is reachable again: the shared rate limit is back in force")
        return None

    async def _acquire_shared(self, path: str, rules: list[tuple[str, Budget]]) -> None:
        """Try until admitted, sleeping as long as the script says between tries.

        The tasks of this process queue on a lock per endpoint while the client budget is
        full, so one of them asks Redis at a time instead of all of them at every slot; a task
        held up by its Item's budget only lets go of the lock and sleeps.
        """
        keys = [self.key(scope) for scope, _ in rules]
        args: list[str | int | float] = [secrets.token_hex(8)]
        for _, budget in rules:
            args += [budget.limit, budget.window * 1000]
        lock = self._locks.setdefault(path, asyncio.Lock())
        held = False
        try:
            while True:
                if not held:
                    await lock.acquire()
                    held = True
                wait, blocked = await self._try(keys, args)
                if not wait:
                    return
                if rules[blocked - 1][0].startswith("item:"):
                    lock.release()
                    held = False
                await asyncio.sleep(wait + 0.001)
        finally:
            if held:
                lock.release()

    async def _try(self, keys: list[str], args: list[str | int | float]) -> tuple[float, int]:
        try:
            reply = await self._script(keys=keys, args=args)
        except asyncio.CancelledError:
            # The script may have run and counted us: take the entry back, in the background.
            task = asyncio.get_running_loop().create_task(self._release(keys, str(args[0])))
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)
            raise
        return float(reply[0]) / 1000, int(reply[1])

    async def _release(self, keys: list[str], member: str) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zrem(key, member)
                await pipe.execute()
        except self._errors:
            log.debug("could not take back a cancelled rate-limit entry; it expires on its own")

    async def _redis_down(self, exc: BaseException, path: str, item_key: str) -> None:
        if self._fallback is None:
            raise RateLimiterUnavailableError(
                f"the shared rate limiter cannot reach Redis ({type(exc).__name__}); "
                "nothing was sent"
            ) from exc
        if self._down_until is None:
            log.warning(
                "Redis is unreachable (%s): falling back to this process's own rate limit, "
                "which does not see other processes; trying Redis again every %g s",
                type(exc).__name__,
                self._recheck,
            )
        self._down_until = time.monotonic() + self._recheck
        await self._fall_back(path, item_key)

    async def _fall_back(self, path: str, item_key: str) -> None:
        assert self._fallback is not None
        await self._fallback.acquire(path, item_key)
