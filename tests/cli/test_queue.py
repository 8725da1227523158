"""``plaid-async enqueue``, ``worker`` and ``status`` against a real redis-server and the emulator.

The in-process tests run the worker with ``--drain`` (it exits once the queue is empty); the
process tests start real workers and kill them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from plaid_async._redact import fingerprint
from plaid_async.sandbox import DEFAULT_SECRET, Faults
from tests.cli.conftest import (
    ThreadedSandbox,
    assert_no_leak,
    invoke,
    worker_process,
    write_tokens,
)

STREAM = "refresh"
FAST = ("--backoff", "0.02", "--max-deliveries", "3")


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a results file (none if it is missing), repeats kept."""
    if not path.exists():
        return []
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "the file ends with a cut-short line"
    return [json.loads(line) for line in data.splitlines()]


def tokens_of(sandbox: ThreadedSandbox, count: int) -> list[str]:
    return [sandbox.server.token(n) for n in range(count)]


def enqueue(tokens: Path, redis_url: str, *args: str) -> str:
    result = invoke("enqueue", str(tokens), "--redis-url", redis_url, "--stream", STREAM, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def work(
    sandbox: ThreadedSandbox, tokens: Path, out: Path, redis_url: str, *args: str
) -> tuple[int, str, str]:
    result = invoke(
        *("worker", str(tokens), "--out", str(out), "--redis-url", redis_url),
        *("--stream", STREAM, "--base-url", sandbox.url, "--drain", *FAST, *args),
    )
    return result.exit_code, result.stdout, result.stderr


def status(redis_url: str) -> dict[str, Any]:
    result = invoke("status", "--redis-url", redis_url, "--stream", STREAM, "--json")
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def dead_letters(redis_url: str) -> list[dict[str, str]]:
    with Redis.from_url(redis_url, decode_responses=True) as redis:
        return [fields for _, fields in redis.xrange(f"{STREAM}:dead")]


def test_enqueue_adds_one_job_per_token_and_nothing_twice(
    tmp_path: Path, sandbox: ThreadedSandbox, redis_url: str
) -> None:
    tokens = tokens_of(sandbox, 3)
    path = write_tokens(tmp_path / "tokens.txt", ["# Items", *tokens, tokens[0]])
    assert enqueue(path, redis_url) == (  # the repeated token counts as enqueued before
        f"enqueued 3 jobs on {STREAM} (1 enqueued before)\n"
    )
    assert enqueue(path, redis_url).startswith(f"enqueued 0 jobs on {STREAM} (4 enqueued before")
    write_tokens(path, [*tokens, sandbox.server.token(9)])
    assert enqueue(path, redis_url).startswith("enqueued 1 jobs")
    assert enqueue(path, redis_url, "--run", "2026-12-05").startswith("enqueued 4 jobs")
    with Redis.from_url(redis_url, decode_responses=True) as redis:
        items = [f["item"] for _, f in redis.xrange(STREAM)]
    assert items[0] == f"2:{fingerprint(tokens[0])}"  # line 2: the comment is line 1
    assert len(items) == 8
    assert_no_leak(items, tokens)


def test_the_worker_writes_one_line_per_token_in_refreshs_format(
    tmp_path: Path, sandbox: ThreadedSandbox, redis_url: str
) -> None:
    tokens = [*tokens_of(sandbox, 5), sandbox.server.error_token("ITEM_LOGIN_REQUIRED")]
    path = write_tokens(tmp_path / "tokens.txt", tokens)
    enqueue(path, redis_url)
    sandbox.call(lambda: sandbox.server.enqueue("503", "503", "503"))  # one job's first call
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = work(sandbox, path, out, redis_url, "--concurrency", "1")
    assert code == 0, stderr
    lines = read_lines(out)
    assert sorted(line["token_sha256"] for line in lines) == sorted(map(fingerprint, tokens))
    assert sum(not line["ok"] for line in lines) == 1
    failed = next(line for line in lines if not line["ok"])
    assert failed["error"]["code"] == "ITEM_LOGIN_REQUIRED"
    assert "6 Items" in stdout
    assert "retry         1" in stdout
    state = status(redis_url)
    assert (state["waiting"], state["pending"], state["done"], state["dead"]) == (0, 0, 6, 0)
    assert_no_leak([stdout, stderr, out.read_bytes()], [*tokens, DEFAULT_SECRET])


def test_a_token_gone_from_the_file_is_dead_lettered_after_the_delivery_limit(
    tmp_path: Path, sandbox: ThreadedSandbox, redis_url: str
) -> None:
    tokens = tokens_of(sandbox, 3)
    path = write_tokens(tmp_path / "tokens.txt", tokens)
    enqueue(path, redis_url)
    write_tokens(path, tokens[:2])  # the worker's copy lacks the third
    code, stdout, stderr = work(sandbox, path, tmp_path / "out.jsonl", redis_url)
    assert code == 0
    [letter] = dead_letters(redis_url)
    assert letter["item"] == f"3:{fingerprint(tokens[2])}"
    assert letter["deliveries"] == "3"
    assert "token_for raised LookupError: no token with SHA-256" in letter["reason"]
    assert "dead-lettered" in stderr
    assert "dead          1" in stdout
    assert len(read_lines(tmp_path / "out.jsonl")) == 2


def test_status_shows_waiting_pending_per_worker_done_and_dead(
    tmp_path: Path, sandbox: ThreadedSandbox, redis_url: str
) -> None:
    path = write_tokens(tmp_path / "tokens.txt", tokens_of(sandbox, 4))
    enqueue(path, redis_url)
    with Redis.from_url(redis_url) as redis:
        redis.xgroup_create(STREAM, "plaid-async", id="0")
        redis.xreadgroup("plaid-async", "worker-a", {STREAM: ">"}, count=1)
    result = invoke("status", "--redis-url", redis_url, "--stream", STREAM)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:6] == [
        f"stream {STREAM}, group plaid-async",
        "  waiting         3  not yet delivered",
        "  pending         1  delivered, not acknowledged",
        "  done            0",
        f"  dead            0  dead letters in {STREAM}:dead",
        "  enqueued        4  distinct jobs ever enqueued",
    ]
    assert result.stdout.splitlines()[6].startswith("  worker worker-a: 1 pending, idle ")


def test_a_redis_that_does_not_answer_is_a_usage_error_without_the_password(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    path = write_tokens(tmp_path / "tokens.txt", tokens_of(sandbox, 1))
    url = "redis://:s3cret-pw@127.0.0.1:1/0"
    result = invoke("enqueue", str(path), "--redis-url", url, "--stream", STREAM)
    assert result.exit_code == 2
    assert "cannot use Redis" in result.stderr
    assert "s3cret-pw" not in result.output


@pytest.mark.parametrize("content", ["", "\n\n", "# tokens exported 2026-12-04\n\n"])
def test_a_tokens_file_without_tokens_is_a_usage_error_and_nothing_is_enqueued(
    tmp_path: Path, sandbox: ThreadedSandbox, redis_url: str, content: str
) -> None:
    """As for refresh: an empty export must not look green in cron."""
    path = tmp_path / "tokens.txt"
    path.write_text(content)
    result = invoke("enqueue", str(path), "--redis-url", redis_url, "--stream", STREAM)
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        f"Error: no tokens in {path}: nothing was enqueued",
    )
    with Redis.from_url(redis_url) as client:
        assert client.keys("*") == []
    result = invoke(
        *("worker", str(path), "--out", str(tmp_path / "out.jsonl"), "--redis-url", redis_url),
        *("--stream", STREAM, "--base-url", sandbox.url, "--drain"),
    )
    assert result.exit_code == 2
    assert f"no tokens in {path}" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


# --------------------------------------------------------------------------------------------
# Real processes
# --------------------------------------------------------------------------------------------


def start_worker(
    sandbox: ThreadedSandbox, tokens: Path, out: Path, redis_url: str, *args: str
) -> subprocess.Popen[str]:
    return worker_process(sandbox.url, tokens, out, redis_url, STREAM, *FAST, *args)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_worker_killed_with_sigkill_loses_nothing(
    tmp_path: Path, sandbox_factory: Callable[..., ThreadedSandbox], redis_url: str
) -> None:
    sandbox = sandbox_factory(seed=5, faults=Faults(latency=0.3))
    tokens = tokens_of(sandbox, 24)
    path = write_tokens(tmp_path / "tokens.txt", tokens)
    enqueue(path, redis_url)
    victim = start_worker(sandbox, path, tmp_path / "a.jsonl", redis_url, "--concurrency", "4")
    wait_for(lambda: status(redis_url)["pending"] > 0 and (tmp_path / "a.jsonl").exists())
    time.sleep(0.4)
    victim.kill()  # SIGKILL: its jobs in hand stay pending on it
    victim.communicate(timeout=10)
    left = status(redis_url)
    assert left["pending"] > 0  # the dead worker's jobs
    survivor = start_worker(
        sandbox, path, tmp_path / "b.jsonl", redis_url, "--drain", "--claim-idle", "0.5"
    )
    stdout, stderr = survivor.communicate(timeout=60)
    assert survivor.returncode == 0, stderr
    lines = read_lines(tmp_path / "a.jsonl") + read_lines(tmp_path / "b.jsonl")
    counts = Counter(line["token_sha256"] for line in lines)
    assert set(counts) == set(map(fingerprint, tokens))  # nothing lost
    assert set(counts.values()) == {1}  # and nothing twice
    state = status(redis_url)
    assert (state["pending"], state["done"], state["dead"]) == (0, 24, 0)
    assert_no_leak([stdout, stderr], [*tokens, DEFAULT_SECRET])


def test_sigterm_finishes_the_jobs_in_hand_acknowledges_them_and_exits_0(
    tmp_path: Path, sandbox_factory: Callable[..., ThreadedSandbox], redis_url: str
) -> None:
    sandbox = sandbox_factory(seed=6, faults=Faults(latency=0.5))
    tokens = tokens_of(sandbox, 20)
    path = write_tokens(tmp_path / "tokens.txt", tokens)
    enqueue(path, redis_url)
    out = tmp_path / "out.jsonl"
    worker = start_worker(sandbox, path, out, redis_url, "--concurrency", "4")
    wait_for(lambda: status(redis_url)["pending"] == 4)
    worker.send_signal(signal.SIGTERM)
    _stdout, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr
    assert "SIGTERM: taking no new jobs, finishing the 4 in hand" in stderr
    state = status(redis_url)
    assert state["pending"] == 0  # every job it took was finished and acknowledged
    assert state["done"] == len(read_lines(out)) >= 4
    assert state["waiting"] == 20 - state["done"]


def test_a_second_sigterm_abandons_the_jobs_in_hand_to_another_worker(
    tmp_path: Path, sandbox_factory: Callable[..., ThreadedSandbox], redis_url: str
) -> None:
    sandbox = sandbox_factory(seed=7, faults=Faults(latency=5.0))
    path = write_tokens(tmp_path / "tokens.txt", tokens_of(sandbox, 3))
    enqueue(path, redis_url)
    worker = start_worker(sandbox, path, tmp_path / "out.jsonl", redis_url, "--concurrency", "2")
    wait_for(lambda: status(redis_url)["pending"] == 2)
    worker.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=10)
    assert worker.returncode == 128 + signal.SIGTERM, stderr
    state = status(redis_url)
    assert (state["pending"], state["done"], state["waiting"]) == (2, 0, 1)
