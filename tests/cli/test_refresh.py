"""``plaid-async refresh`` against the emulator: one line per token, resumes, errors, leaks."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from plaid_async._redact import fingerprint
from plaid_async.cli.results import _HEAD
from plaid_async.sandbox import Faults, SandboxServer

from .conftest import (
    ThreadedSandbox,
    assert_no_leak,
    invoke,
    one_line_error,
    refresh,
    write_tokens,
)
from .results_file import digests, read_results

TOKENS = [SandboxServer.token(f"refresh-{n}") for n in range(24)]
ERROR_TOKEN = SandboxServer.error_token("ITEM_LOGIN_REQUIRED", "refresh")


def money(accounts: Any) -> list[tuple[object, ...]]:
    """The balances of ``accounts``, as numbers (Decimal or int, never str or float)."""
    fields = ("current", "available", "limit")
    values = [tuple(account["balances"][name] for name in fields) for account in accounts]
    assert all(isinstance(v, Decimal | int) for row in values for v in row if v is not None)
    return values


def test_one_line_per_distinct_token_despite_faults(
    tmp_path: Path, sandbox_factory: Callable[..., ThreadedSandbox]
) -> None:
    faults = Faults(rate_500=0.1, rate_503=0.05, rate_429=0.05, rate_reset=0.05)
    sandbox = sandbox_factory(seed=5, faults=faults)
    lines = ["# nightly tokens", "", *TOKENS[:12], f"  {TOKENS[0]}  ", ERROR_TOKEN, *TOKENS[12:]]
    tokens = write_tokens(tmp_path / "tokens.txt", lines)
    out = tmp_path / "results.jsonl"

    status, stdout, stderr = refresh(sandbox, tokens, out, "--concurrency", "6")

    assert status == 1  # the Item that needs its user
    results = read_results(out)
    assert set(results) == digests([*TOKENS, ERROR_TOKEN])
    failed = results[fingerprint(ERROR_TOKEN)]
    assert failed["ok"] is False
    assert set(failed["error"]) == {"type", "code", "message", "request_id", "status", "transient"}
    assert (failed["error"]["status"], failed["error"]["transient"]) == (400, False)
    assert (failed["error"]["type"], failed["error"]["code"]) == (
        "ITEM_ERROR",
        "ITEM_LOGIN_REQUIRED",
    )
    assert failed["error"]["request_id"]
    for token in TOKENS:
        record = results[fingerprint(token)]
        if not record["ok"]:  # three faults in a row (a few percent of tokens): given up
            assert record["attempts"] == 3, record
            continue
        served = SandboxServer.item(token)
        assert record["response"]["item"]["item_id"] == served.item["item_id"]
        assert money(record["response"]["accounts"]) == money(served.accounts)
    assert sum(record["ok"] for record in results.values()) >= len(TOKENS) * 3 // 4
    # Every request the emulator saw is an attempt recorded in the file: nothing else sent.
    stats = sandbox.stats
    assert sum(faults for faults in stats.faults.values()) > 0
    assert stats.requests == sum(record["attempts"] for record in results.values())
    assert stats.by_path == {"/accounts/balance/get": stats.requests}
    assert "1 duplicate line\n" in stdout
    assert "ITEM_LOGIN_REQUIRED 1" in stdout  # the Item's own error, once: never retried
    assert failed["attempts"] == 1
    assert_no_leak(
        [stdout, stderr, out.read_bytes()], [*TOKENS, ERROR_TOKEN, sandbox.server.secret]
    )


def test_lines_start_with_the_digest_and_the_outcome(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", [TOKENS[0], ERROR_TOKEN])
    out = tmp_path / "results.jsonl"
    refresh(sandbox, tokens, out)
    for line in out.read_bytes().splitlines(keepends=True):
        assert _HEAD.match(line), line[:80]


def test_exit_status_0_when_all_ok(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:3])
    status, stdout, _ = refresh(sandbox, tokens, tmp_path / "out.jsonl")
    assert status == 0
    assert "3 Items in" in stdout


def test_a_second_run_fetches_only_what_is_missing(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    out = tmp_path / "out.jsonl"
    first = write_tokens(tmp_path / "first.txt", TOKENS[:10])
    assert refresh(sandbox, first, out)[0] == 0
    assert sandbox.stats.requests == 10

    everything = write_tokens(tmp_path / "all.txt", [ERROR_TOKEN, *TOKENS])
    status, stdout, _ = refresh(sandbox, everything, out)

    assert status == 1
    assert sandbox.stats.requests == 10 + 15  # the 14 new tokens and the error token
    assert set(read_results(out)) == digests([*TOKENS, ERROR_TOKEN])
    assert "10  already in the results: all ok\n" in stdout

    # Nothing left to do; the earlier failure still sets the exit status.
    status, stdout, _ = refresh(sandbox, everything, out)
    assert (status, sandbox.stats.requests) == (1, 25)
    assert "Nothing fetched" in stdout


def test_a_cut_short_last_line_is_dropped_and_fetched_again(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:5])
    out = tmp_path / "out.jsonl"
    refresh(sandbox, tokens, out)
    data = out.read_bytes()
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[1]
    out.write_bytes(data[: len(data) - len(last) // 2])  # as a SIGKILL mid-write leaves it

    status, _, stderr = refresh(sandbox, tokens, out)

    assert status == 0
    assert "dropped a cut-short last line" in stderr
    assert sandbox.stats.requests == 5 + 1
    assert set(read_results(out)) == digests(TOKENS[:5])


def test_a_whole_last_line_without_its_newline_is_kept(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:3])
    out = tmp_path / "out.jsonl"
    refresh(sandbox, tokens, out)
    out.write_bytes(out.read_bytes().rstrip(b"\n"))

    status, _, stderr = refresh(sandbox, tokens, out)

    assert status == 0
    assert "completed a last line" in stderr
    assert sandbox.stats.requests == 3
    assert set(read_results(out)) == digests(TOKENS[:3])


def test_cached_reads_accounts_get(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:4])
    status, _, stderr = refresh(sandbox, tokens, tmp_path / "out.jsonl", "--cached")
    assert status == 0
    assert sandbox.stats.by_path == {"/accounts/get": 4}
    assert "from /accounts/get" in stderr


def test_rate_limit_paces_the_requests(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:12])
    start = time.monotonic()
    status, _, _ = refresh(sandbox, tokens, tmp_path / "out.jsonl", "--rate-limit", "20")
    # 12 requests at 20 a second, 2 of them in the first burst: at least half a second,
    # where unpaced they take milliseconds. A slow machine only makes it longer.
    assert status == 0
    assert time.monotonic() - start >= 0.4


def test_credentials_from_the_environment_never_leak(
    tmp_path: Path, sandbox_factory: Callable[..., ThreadedSandbox]
) -> None:
    secret = "s3cret-for-this-test-only"
    sandbox = sandbox_factory(client_id="my-client", secret=secret)
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:3])
    out = tmp_path / "out.jsonl"
    env = {"PLAID_CLIENT_ID": "my-client", "PLAID_SECRET": secret}
    result = invoke("refresh", str(tokens), "--out", str(out), "--base-url", sandbox.url, env=env)
    assert result.exit_code == 0
    assert_no_leak([result.stdout, result.stderr, out.read_bytes()], [*TOKENS[:3], secret])

    wrong = {"PLAID_CLIENT_ID": "my-client", "PLAID_SECRET": "not-the-secret-at-all"}
    out2 = tmp_path / "wrong.jsonl"
    result = invoke(
        "refresh", str(tokens), "--out", str(out2), "--base-url", sandbox.url, env=wrong
    )
    assert result.exit_code == 1
    assert {r["error"]["code"] for r in read_results(out2).values()} == {"INVALID_API_KEYS"}
    assert_no_leak(
        [result.stdout, result.stderr, out2.read_bytes()],
        [*TOKENS[:3], secret, wrong["PLAID_SECRET"]],
    )


def test_results_file_is_private(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    out = tmp_path / "out.jsonl"
    refresh(sandbox, write_tokens(tmp_path / "t.txt", TOKENS[:1]), out)
    assert out.stat().st_mode & 0o077 == 0


# -- usage errors: one line, exit status 2, nothing sent ------------------------------------


def test_missing_credentials(tmp_path: Path) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:1])
    result = invoke("refresh", str(tokens), "--out", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2
    assert "PLAID_CLIENT_ID and PLAID_SECRET" in one_line_error(result.stderr)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.txt", "does not exist"),
        (lambda p: p, "is a directory"),
        (
            lambda p: (p / "bad.txt", (p / "bad.txt").write_bytes(b"access-sandbox-1\n\xff\xfe\n"))[
                0
            ],
            "line 2 is not UTF-8",
        ),
    ],
)
def test_unreadable_tokens_file(
    tmp_path: Path, sandbox: ThreadedSandbox, make: Callable[[Path], Path], message: str
) -> None:
    status, _, stderr = refresh(sandbox, make(tmp_path), tmp_path / "out.jsonl")
    assert status == 2
    assert message in one_line_error(stderr)
    assert sandbox.stats.requests == 0


def test_out_that_is_not_a_results_file_is_left_alone(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    out = tmp_path / "notes.txt"
    out.write_text("my notes\n")
    status, _, stderr = refresh(sandbox, write_tokens(tmp_path / "t.txt", TOKENS[:2]), out)
    assert status == 2
    assert "line 1 is not a result" in one_line_error(stderr)
    assert out.read_text() == "my notes\n"
    assert sandbox.stats.requests == 0


def test_out_in_use_by_another_run(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    out = tmp_path / "out.jsonl"
    fd = os.open(out, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        status, _, stderr = refresh(sandbox, write_tokens(tmp_path / "t.txt", TOKENS[:2]), out)
    finally:
        os.close(fd)
    assert status == 2
    assert "in use by another run" in one_line_error(stderr)


@pytest.mark.parametrize(
    "args",
    [["--concurrency", "0"], ["--rate-limit", "0"], ["--rate-limit", "fast"], ["--bogus"]],
)
def test_bad_flags(tmp_path: Path, sandbox: ThreadedSandbox, args: list[str]) -> None:
    status, _, stderr = refresh(
        sandbox, write_tokens(tmp_path / "t.txt", TOKENS[:1]), tmp_path / "o", *args
    )
    assert status == 2
    one_line_error(stderr)


def test_out_is_not_the_tokens_file(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    tokens = write_tokens(tmp_path / "t.txt", TOKENS[:1])
    status, _, stderr = refresh(sandbox, tokens, tmp_path / "." / "t.txt")
    assert status == 2
    assert "must not be the tokens file" in one_line_error(stderr)
    assert tokens.read_text() == f"{TOKENS[0]}\n"


def test_http_base_url_off_loopback_is_refused(tmp_path: Path) -> None:
    tokens = write_tokens(tmp_path / "t.txt", TOKENS[:1])
    env = {"PLAID_CLIENT_ID": "id", "PLAID_SECRET": "secret"}
    result = invoke(
        "refresh",
        str(tokens),
        "--out",
        str(tmp_path / "o"),
        "--base-url",
        "http://example.com",
        env=env,
    )
    assert result.exit_code == 2
    assert "loopback" in one_line_error(result.stderr)
