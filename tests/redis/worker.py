"""One worker process of the multi-process tests and the benchmark.

``python -m tests.redis.worker CONFIG_JSON``: builds a client and a limiter (shared on Redis,
or in-process), prints ``ready``, waits for a line on stdin, runs
``accounts_balance_get_many`` over its tokens, and prints one JSON line per result.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

from plaid_async import (
    Budget,
    Budgets,
    LocalRateLimiter,
    PlaidClient,
    RateLimiter,
    RedisRateLimiter,
    RetryPolicy,
)

BAL = "/accounts/balance/get"


def budget(spec: list[Any]) -> Budget:
    """``[limit, per]`` or ``[limit, per, margin]``."""
    return Budget(spec[0], spec[1], margin=spec[2] if len(spec) > 2 else None)


def budgets(config: dict[str, Any]) -> Budgets:
    per_client = {BAL: budget(config["per_client"])} if config.get("per_client") else {}
    per_item = {BAL: budget(config["per_item"])} if config.get("per_item") else {}
    return Budgets(per_client=per_client, per_item=per_item)


def make_limiter(config: dict[str, Any]) -> RateLimiter:
    if config["limiter"] == "local":
        return LocalRateLimiter(budgets=budgets(config))
    fallback = (
        None if config.get("fallback") == "none" else LocalRateLimiter(budgets=budgets(config))
    )
    return RedisRateLimiter(
        config["redis_url"],
        client_id=config["client_id"],
        budgets=budgets(config),
        fallback=fallback,
        recheck=60.0,
    )


async def run(config: dict[str, Any]) -> None:
    limiter = make_limiter(config)
    retry = RetryPolicy(max_attempts=2, wait_initial=0.05, wait_max=0.2, deadline=30.0)
    async with PlaidClient(
        config["client_id"], config["secret"], base_url=config["base_url"], retry=retry
    ) as client:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        results = client.accounts_balance_get_many(
            config["tokens"], concurrency=config.get("concurrency", 8), rate_limit=limiter
        )
        async for result in results:
            error = None if result.error is None else type(result.error).__name__
            line = {"index": result.index, "ok": result.ok, "error": error}
            print(json.dumps({**line, "attempts": result.attempts}), flush=True)
    if isinstance(limiter, RedisRateLimiter):
        await limiter.aclose()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    asyncio.run(run(json.loads(sys.argv[1])))


if __name__ == "__main__":
    main()
