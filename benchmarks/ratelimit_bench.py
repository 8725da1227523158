"""What the rate limiters cost, and how much of a shared budget several processes get.

``python benchmarks/ratelimit_bench.py`` (needs ``redis-server`` on PATH and the ``redis``
extra). Prints two Markdown tables:

1. the limiter's own cost per request, in microseconds: in-process (a rate, and budgets) and
   Redis on loopback, with the budget never the bottleneck;
2. the achieved rate against a 40 requests/s budget shared through Redis by 1, 2 and 4 worker
   processes, on one emulator in its own process that enforces the same budget.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plaid_async import Budget, Budgets, LocalRateLimiter, RateLimiter, RedisRateLimiter
from tests.redis.procs import Emulator, max_in_window, start_workers
from tests.redis.server import RedisServer

BAL = "/accounts/balance/get"
UNLIMITED = Budgets(per_client={BAL: Budget(10**9, 60)}, per_item={BAL: Budget(10**9, 60)})


async def cost_us(limiter: RateLimiter, requests: int, concurrency: int) -> float:
    """Microseconds of wall time per ``acquire``, ``concurrency`` tasks at once."""

    async def task(n: int) -> None:
        for i in range(requests // concurrency):
            await limiter.acquire(BAL, f"item-{n}-{i % 50}")

    start = time.perf_counter()
    await asyncio.gather(*(task(n) for n in range(concurrency)))
    return (time.perf_counter() - start) / requests * 1e6


async def costs(redis_url: str, requests: int, rounds: int) -> None:
    print("| limiter | µs per request, 1 task | µs per request, 32 tasks |")
    print("| --- | ---: | ---: |")
    for name, make in [
        ("LocalRateLimiter(rate)", lambda: LocalRateLimiter(10**9)),
        ("LocalRateLimiter(budgets)", lambda: LocalRateLimiter(budgets=UNLIMITED)),
        (
            "RedisRateLimiter (loopback)",
            lambda: RedisRateLimiter(redis_url, client_id="bench", budgets=UNLIMITED),
        ),
    ]:
        figures = []
        for concurrency in (1, 32):
            runs = []
            for _ in range(rounds):
                limiter = make()
                runs.append(await cost_us(limiter, requests, concurrency))
                if isinstance(limiter, RedisRateLimiter):
                    await limiter.aclose()
            figures.append(statistics.median(runs))
        print(f"| {name} | {figures[0]:.1f} | {figures[1]:.1f} |")


def shared_rates(redis_url: str, budget: int, total: int) -> None:
    print()
    print(
        "| processes | requests | budget (req/s) | achieved (req/s) | % of budget | 429s "
        "| most in any 1 s |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for processes in (1, 2, 4):
        emulator = Emulator(f"balance_per_client={budget},window=1")
        try:
            workers = start_workers(
                emulator,
                processes,
                total // processes,
                limiter="redis",
                redis_url=redis_url,
                per_client=[budget, 1.0],
                concurrency=16,
            )
            for worker in workers:
                worker.results()
        finally:
            hits = [h for h in emulator.stop() if h.path == BAL]
        times = [h.at for h in hits]
        achieved = len(hits) / (max(times) - min(times) + 1.0)
        rejected = sum(h.status == 429 for h in hits)
        print(
            f"| {processes} | {len(hits)} | {budget} | {achieved:.1f} | "
            f"{100 * achieved / budget:.0f}% | {rejected} | {max_in_window(times, 1)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6400, help="acquires per cost figure")
    parser.add_argument("--rounds", type=int, default=3, help="runs per cost figure (median)")
    parser.add_argument("--budget", type=int, default=40, help="requests a second, shared")
    parser.add_argument("--total", type=int, default=200, help="requests per rate figure")
    args = parser.parse_args()
    redis = RedisServer()
    redis.start()
    try:
        asyncio.run(costs(redis.url, args.requests, args.rounds))
        shared_rates(redis.url, args.budget, args.total)
    finally:
        redis.kill()


if __name__ == "__main__":
    main()
