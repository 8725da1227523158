"""Two ``plaid-async refresh`` processes on two shards of one file, one budget on a real Redis,
against an emulator (its own process) enforcing that budget as Plaid would. Slow (seconds):
``pytest -m slow``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plaid_async.sandbox import sandbox_token
from tests.redis.procs import Emulator, Hit, max_in_window
from tests.redis.server import RedisServer

from .conftest import assert_no_leak, subprocess_env, write_tokens
from .results_file import digests, read_results

pytestmark = pytest.mark.slow

BUDGET = 10  # requests a second: the emulator's per-client limit and the run's --rate-limit
TOKENS = [sandbox_token(f"shared-{n}") for n in range(40)]  # 4 s at the budget


def run_two_shards(tmp_path: Path, *extra: str) -> tuple[list[Hit], list[Path], list[bytes]]:
    """Both shards at once; the emulator's requests, the two results files, what they wrote."""
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS)
    emulator = Emulator(f"balance_per_client={BUDGET},window=1")
    outs = [tmp_path / f"shard-{k}.jsonl" for k in (1, 2)]
    written: list[bytes] = []
    try:
        processes = [
            subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                [
                    *(sys.executable, "-m", "plaid_async.cli", "refresh", str(tokens)),
                    *("--out", str(out), "--shard", f"{k}/2", "--base-url", emulator.url),
                    *("--rate-limit", str(BUDGET), *extra),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=subprocess_env(),
            )
            for k, out in enumerate(outs, 1)
        ]
        for process in processes:
            stdout, stderr = process.communicate(timeout=120)
            assert b"Traceback" not in stderr, stderr.decode()
            assert process.returncode in (0, 1), stderr.decode()
            written += [stdout, stderr]
    finally:
        hits = [hit for hit in emulator.stop() if hit.path == "/accounts/balance/get"]
    one, two = (set(read_results(out)) for out in outs)
    assert one | two == digests(TOKENS)  # every token once, in one shard's file only
    assert not one & two
    assert one
    assert two
    return hits, outs, written


def test_two_shards_share_one_budget_through_redis(
    tmp_path: Path, locked_redis: RedisServer
) -> None:
    hits, outs, written = run_two_shards(tmp_path, "--redis-url", locked_redis.url)
    assert len(hits) == len(TOKENS)  # one request a token: nothing was refused and retried
    assert {hit.status for hit in hits} == {200}  # not one 429
    times = [hit.at for hit in hits]
    assert max_in_window(times, 1) <= BUDGET * 1.1  # the emulator's log has millisecond times
    # 40 requests, 10 a window of 1.05 s: the two processes together took three windows at least
    assert max(times) - min(times) >= 3.0
    assert_no_leak(
        [*written, *(out.read_bytes() for out in outs)], [locked_redis.password or "", *TOKENS]
    )


def test_without_redis_the_same_two_shards_overrun_the_budget(tmp_path: Path) -> None:
    hits, _, _ = run_two_shards(tmp_path)  # each process with its own --rate-limit
    assert sum(hit.status == 429 for hit in hits) > 0
