"""One budget across real processes: four workers, one emulator enforcing the budget as Plaid
would, one real redis-server. Slow (seconds each): ``pytest -m slow``."""

from __future__ import annotations

import time

import pytest

from plaid_async.sandbox import sandbox_token
from tests.redis.procs import Emulator, Hit, max_in_window, start_workers
from tests.redis.server import RedisServer

pytestmark = pytest.mark.slow

BUDGET = 40  # requests a second: the emulator's per-client limit and the limiters' budget
WORKERS = 4
PER_WORKER = 50  # 200 requests: 5 s at the budget


def balance_hits(hits: list[Hit]) -> list[Hit]:
    return [hit for hit in hits if hit.path == "/accounts/balance/get"]


def run(redis_url: str, limiter: str) -> list[Hit]:
    emulator = Emulator(f"balance_per_client={BUDGET},window=1")
    try:
        workers = start_workers(
            emulator,
            WORKERS,
            PER_WORKER,
            limiter=limiter,
            redis_url=redis_url,
            per_client=[BUDGET, 1.0],
        )
        for worker in workers:
            results, _ = worker.results()
            assert sorted(r["index"] for r in results) == list(range(PER_WORKER))
    finally:
        hits = balance_hits(emulator.stop())
    return hits


def test_four_workers_on_the_shared_budget_stay_within_it_and_use_it(redis_url: str) -> None:
    hits = run(redis_url, "redis")
    assert len(hits) == WORKERS * PER_WORKER  # one request per token: nothing was retried
    assert {hit.status for hit in hits} == {200}  # not one 429
    times = [hit.at for hit in hits]
    for seconds in (1, 2, 3):
        assert max_in_window(times, seconds) <= BUDGET * seconds * 1.1
    # each request holds its slot for one window: the run lasts its span plus one window
    achieved = len(hits) / (max(times) - min(times) + 1.0)
    assert achieved >= 0.9 * BUDGET


def test_in_process_limiters_in_four_workers_overrun_the_same_budget(redis_url: str) -> None:
    hits = run(redis_url, "local")
    assert sum(hit.status == 429 for hit in hits) > 0
    assert max_in_window([hit.at for hit in hits], 2) > BUDGET * 2 * 1.1


def test_one_items_budget_holds_across_workers(redis_url: str) -> None:
    emulator = Emulator("balance_per_item=5,window=0.5")
    token = sandbox_token("hot")
    try:
        workers = start_workers(
            emulator, WORKERS, [token] * 5, limiter="redis", redis_url=redis_url, per_item=[5, 0.5]
        )
        for worker in workers:
            results, _ = worker.results()
            assert [r["ok"] for r in results] == [True] * 5
    finally:
        hits = balance_hits(emulator.stop())
    assert len(hits) == WORKERS * 5
    assert {hit.status for hit in hits} == {200}
    times = [hit.at for hit in hits]
    assert max_in_window(times, 0.5) <= 5
    assert max(times) - min(times) >= 3 * 0.5  # 20 calls, 5 a window: four windows at least


@pytest.mark.parametrize("fallback", ["local", "none"])
def test_redis_killed_mid_run(own_redis: RedisServer, fallback: str) -> None:
    emulator = Emulator("off")
    try:
        workers = start_workers(
            emulator,
            WORKERS,
            60,
            limiter="redis",
            redis_url=own_redis.url,
            fallback=fallback,
            per_client=[BUDGET, 1.0],
        )
        time.sleep(1.5)  # about a quarter of the run
        own_redis.kill()
        outcomes = [worker.results() for worker in workers]
    finally:
        emulator.stop()
    for results, log in outcomes:
        assert sorted(r["index"] for r in results) == list(range(60))  # one result per token
        errors = {r["error"] for r in results if not r["ok"]}
        if fallback == "local":
            assert errors == set()
            assert log.count("Redis is unreachable") == 1
        else:
            assert errors == {"RateLimiterUnavailableError"}
            assert 0 < sum(r["ok"] for r in results) < 60
