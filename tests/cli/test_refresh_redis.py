"""``plaid-async refresh --redis-url``: the run's budget on a real redis-server, shared with
other processes; a Redis that cannot be used stops the run before anything is sent; the URL's
password is never shown."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from plaid_async import Budget, Budgets, RedisRateLimiter
from plaid_async._redact import fingerprint
from plaid_async.cli.shared_limit import RUN_KEY_PREFIX, hide_password
from plaid_async.sandbox import DEFAULT_CLIENT_ID, Faults, SandboxServer
from tests.redis.server import RedisServer, free_port, zcard_all

from .conftest import (
    ThreadedSandbox,
    assert_no_leak,
    invoke,
    one_line_error,
    refresh,
    write_tokens,
)
from .results_file import digests, read_results

TOKENS = [SandboxServer.token(f"redis-{n}") for n in range(12)]
BAL = "/accounts/balance/get"
GET = "/accounts/get"
PASSWORD = "hunter2-not-a-real-one"


def key(scope: str, prefix: str = "plaid-async", environment: str = "sandbox") -> str:
    return f"{prefix}:{{{environment}:{DEFAULT_CLIENT_ID}}}:{scope}"


def test_the_run_counts_in_plaids_budget_under_the_keys_everyone_shares(
    tmp_path: Path, sandbox: ThreadedSandbox, redis_url: str
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:4])
    status, _, stderr = refresh(sandbox, tokens, tmp_path / "o.jsonl", "--redis-url", redis_url)
    assert status == 0
    expected = {key(f"client:{BAL}"): 4}
    expected.update({key(f"item:{BAL}:{fingerprint(t)}"): 1 for t in TOKENS[:4]})
    assert asyncio.run(zcard_all(redis_url)) == expected  # the sandbox preset, by default
    assert f"rate limit: Plaid's sandbox limits, shared through {redis_url}" in stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--rate-limit", "50", "--budgets", "production"],
            {key(f"client:{BAL}", RUN_KEY_PREFIX): 3, key(f"client:{BAL}"): 3},
        ),
        (
            ["--rate-limit", "50", "--budgets", "none", "--cached"],
            {key(f"client:{GET}", RUN_KEY_PREFIX): 3},
        ),
    ],
)
def test_rate_limit_is_a_budget_of_the_runs_own_besides_plaids(
    tmp_path: Path,
    sandbox: ThreadedSandbox,
    redis_url: str,
    args: list[str],
    expected: dict[str, int],
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:3])
    status, _, stderr = refresh(
        sandbox, tokens, tmp_path / "o.jsonl", "--redis-url", redis_url, *args
    )
    assert status == 0
    found = asyncio.run(zcard_all(redis_url))
    assert {k: v for k, v in found.items() if ":item:" not in k} == expected
    if "production" in args:  # Plaid's per-Item budgets too
        assert sum(":item:" in k for k in found) == 3
    assert "50 requests/s for this run's processes together" in stderr
    # Plaid's production limit for balances (20/s) is below 50, and the run says so; the
    # budgets none run has no Plaid limit to be held by.
    warning = (
        "warning: Plaid's production limits allow 1200 requests per 60 s on "
        "/accounts/balance/get (20/s), below --rate-limit 50"
    )
    assert (warning in stderr) is ("production" in args)


@pytest.mark.parametrize(
    ("args", "warned"),
    [
        (["--rate-limit", "5"], True),  # sandbox: 100 a minute, 1.67/s
        (["--rate-limit", "1.5"], False),
        (["--rate-limit", "5", "--cached"], False),  # sandbox accounts/get: 5,000 a minute
        ([], False),
    ],
)
def test_a_preset_below_rate_limit_is_said_in_one_line_at_the_start(
    tmp_path: Path, sandbox: ThreadedSandbox, redis_url: str, args: list[str], warned: bool
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:1])
    _, _, stderr = refresh(sandbox, tokens, tmp_path / "o.jsonl", "--redis-url", redis_url, *args)
    lines = [line for line in stderr.splitlines() if line.startswith("warning: Plaid's")]
    assert lines == (
        [
            "warning: Plaid's sandbox limits allow 100 requests per 60 s on /accounts/balance/get "
            "(1.67/s), below --rate-limit 5: the run goes at that pace (--budgets to choose "
            "another)"
        ]
        if warned
        else []
    )


def test_a_request_another_process_counted_makes_the_run_wait(
    tmp_path: Path, sandbox: ThreadedSandbox, redis_url: str
) -> None:
    # One request a second for the run's processes together; another process has just sent
    # one. In-process, the run would start at once; sharing, it waits for the window to pass.
    other = RedisRateLimiter(
        redis_url,
        client_id=DEFAULT_CLIENT_ID,
        environment="sandbox",
        budgets=Budgets(per_client={BAL: Budget.rate(1)}),
        key_prefix=RUN_KEY_PREFIX,
    )

    async def send_one() -> None:
        async with other:
            await other.acquire(BAL, "another-process")

    asyncio.run(send_one())
    start = time.monotonic()
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:1])
    args = ("--redis-url", redis_url, "--rate-limit", "1", "--budgets", "none")
    status, _, _ = refresh(sandbox, tokens, tmp_path / "o.jsonl", *args)
    assert status == 0
    # The other's request holds the budget for its window, 1.05 s from just before `start`;
    # a slow machine only makes this longer.
    assert time.monotonic() - start >= 0.9
    # the run's request, counted once the other's had left the window
    assert asyncio.run(zcard_all(redis_url)) == {key(f"client:{BAL}", RUN_KEY_PREFIX): 1}


def test_an_unreachable_redis_stops_the_run_before_anything_is_sent(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    out = tmp_path / "o.jsonl"
    status, stdout, stderr = refresh(
        sandbox, write_tokens(tmp_path / "t.txt", TOKENS[:2]), out, "--redis-url", url
    )
    assert status == 2
    line = one_line_error(stderr)
    assert "cannot use Redis (ConnectionError" in line
    assert "nothing was sent" in line
    assert f"redis://:***@127.0.0.1:{url.rsplit(':', 1)[1]}" in line
    assert_no_leak([stdout, stderr], [PASSWORD])
    assert not out.exists()  # --out is not even created
    assert sandbox.stats.requests == 0


def test_the_password_is_never_shown(
    tmp_path: Path, sandbox: ThreadedSandbox, locked_redis: RedisServer
) -> None:
    tokens = write_tokens(tmp_path / "t.txt", TOKENS[:3])
    out = tmp_path / "o.jsonl"
    # from the environment, where a password belongs (a command line is visible in ps)
    env = {"PLAID_ASYNC_REDIS_URL": locked_redis.url}
    result = invoke("refresh", str(tokens), "--out", str(out), "--base-url", sandbox.url, env=env)
    assert result.exit_code == 0
    assert "shared through redis://:***@127.0.0.1:" in result.stderr
    assert len(asyncio.run(zcard_all(locked_redis.url))) == 4  # the client's and 3 Items'
    password = locked_redis.password
    assert password
    assert_no_leak([result.stdout, result.stderr, out.read_bytes()], [password])

    wrong = locked_redis.url.replace(password, "wrong-" + password)
    status, stdout, stderr = refresh(sandbox, tokens, tmp_path / "w.jsonl", "--redis-url", wrong)
    assert status == 2
    assert "cannot use Redis (AuthenticationError" in one_line_error(stderr)
    assert_no_leak([stdout, stderr], [password])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redis-url", f"http://:{PASSWORD}@127.0.0.1:6379/0"], "--redis-url: redis must be"),
        (["--redis-url", "redis://127.0.0.1:1/0", "--budgets", "none"], "give --rate-limit R"),
        (["--budgets", "production"], "give --redis-url too"),
        (["--redis-url", "redis://127.0.0.1:1/0", "--budgets", "development"], "--budgets"),
    ],
)
def test_bad_redis_flags_are_usage_errors(
    tmp_path: Path, sandbox: ThreadedSandbox, args: list[str], message: str
) -> None:
    out = tmp_path / "o.jsonl"
    status, stdout, stderr = refresh(
        sandbox, write_tokens(tmp_path / "t.txt", TOKENS[:1]), out, *args
    )
    assert status == 2
    assert message in one_line_error(stderr)
    assert_no_leak([stdout, stderr], [PASSWORD])
    assert not out.exists()
    assert sandbox.stats.requests == 0


def test_redis_gone_mid_run_falls_back_and_every_token_gets_its_line(
    tmp_path: Path,
    sandbox_factory: Callable[..., ThreadedSandbox],
    own_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = sandbox_factory(seed=3, faults=Faults(latency=0.1))
    tokens = write_tokens(tmp_path / "t.txt", TOKENS)
    out = tmp_path / "o.jsonl"

    def kill_after_three_lines() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 3:
                break
            time.sleep(0.005)
        own_redis.kill()

    killer = threading.Thread(target=kill_after_three_lines)
    killer.start()
    args = ("--redis-url", own_redis.url, "--rate-limit", "200", "--concurrency", "2")
    with caplog.at_level(logging.WARNING, logger="plaid_async"):
        status, _, _ = refresh(sandbox, tokens, out, *args)
    killer.join()
    assert status == 0
    assert set(read_results(out)) == digests(TOKENS)
    assert sandbox.stats.requests == len(TOKENS)
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 2  # once for each budget: the run's own and Plaid's


@pytest.mark.parametrize(
    ("url", "password"),
    [
        (f"redis://:{PASSWORD}@host:6379/0", PASSWORD),
        (f"redis://user:{PASSWORD}@host/0", PASSWORD),
        (f"rediss://host:6379/0?password={PASSWORD}&db=1", PASSWORD),
        ("redis://:hunter2%2Fnot%40real@host/0", "hunter2/not@real"),  # and decoded
        ("redis://:hunter2/not@real@host/0", "hunter2/not@real"),  # not even a valid URL
    ],
)
def test_hide_password(url: str, password: str) -> None:
    shown = hide_password(f"cannot use {url}: {password} refused", url)
    assert "hunter2" not in shown
    assert shown.count("***") == 2
    assert "host" in shown


def test_without_the_redis_package_the_error_says_what_to_install(
    tmp_path: Path, sandbox: ThreadedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import plaid_async.redis_ratelimit

    def missing() -> None:
        raise ImportError(
            "RedisRateLimiter needs the redis package: pip install 'plaid-async[redis]'"
        )

    monkeypatch.setattr(plaid_async.redis_ratelimit, "_redis_module", missing)
    out = tmp_path / "o.jsonl"
    tokens = write_tokens(tmp_path / "t.txt", TOKENS[:1])
    status, _, stderr = refresh(sandbox, tokens, out, "--redis-url", "redis://127.0.0.1:1/0")
    assert status == 2
    assert "pip install 'plaid-async[redis]'" in one_line_error(stderr)
    assert not out.exists()
