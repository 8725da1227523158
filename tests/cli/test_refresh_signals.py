"""A refresh stopped by a real signal, then resumed: every token once, nothing fetched twice.

The command runs as a program (``python -m plaid_async.cli``) against an emulator on a thread
of the test; the emulator's request count is what proves that nothing was fetched twice.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from plaid_async.sandbox import Faults, SandboxServer

from .conftest import ThreadedSandbox, assert_no_leak, subprocess_env, write_tokens
from .results_file import digests, read_results

TOKENS = [SandboxServer.token(f"signal-{n}") for n in range(24)]


def start_refresh(sandbox: ThreadedSandbox, tokens: Path, out: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "plaid_async.cli", "refresh", str(tokens), "--out", str(out)]
    command += ["--base-url", sandbox.url, "--concurrency", "4"]
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env()
    )


def wait_for_lines(out: Path, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"no {count} lines in {out} in time (exit status {process.poll()})")


def finish(process: subprocess.Popen[bytes]) -> tuple[int, bytes, bytes]:
    stdout, stderr = process.communicate(timeout=60)
    assert b"Traceback" not in stderr, stderr.decode()
    return process.returncode, stdout, stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stopped_by_a_signal_then_resumed(
    tmp_path: Path, sandbox_factory: Callable[..., ThreadedSandbox], signum: signal.Signals
) -> None:
    sandbox = sandbox_factory(seed=2, faults=Faults(latency=0.2))
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS)
    out = tmp_path / "results.jsonl"

    process = start_refresh(sandbox, tokens, out)
    wait_for_lines(out, 6, process)
    process.send_signal(signum)
    status, stdout, stderr = finish(process)

    assert status == 128 + signum
    assert f"stopped by {signum.name}".encode() in stderr
    stopped = read_results(out)  # whole lines only
    assert 6 <= len(stopped) < len(TOKENS)
    # The requests in flight at the signal were let finish, and written: one line per request.
    assert sandbox.stats.requests == len(stopped)
    assert sandbox.stats.in_flight == 0

    status, stdout2, stderr2 = finish(start_refresh(sandbox, tokens, out))

    assert status == 0
    assert set(read_results(out)) == digests(TOKENS)
    assert sandbox.stats.requests == len(TOKENS)  # none fetched twice
    assert_no_leak([stdout, stderr, stdout2, stderr2, out.read_bytes()], TOKENS)


def test_a_second_signal_abandons_the_requests_in_flight(
    tmp_path: Path, sandbox_factory: Callable[..., ThreadedSandbox]
) -> None:
    sandbox = sandbox_factory(seed=3, faults=Faults(latency=0.5))
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:16])
    out = tmp_path / "results.jsonl"

    process = start_refresh(sandbox, tokens, out)
    wait_for_lines(out, 4, process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    status, _, stderr = finish(process)

    assert status == 130
    assert b"abandoned in flight" in stderr
    written = read_results(out)
    assert len(written) < sandbox.stats.requests  # what was in flight has no line

    assert finish(start_refresh(sandbox, tokens, out))[0] == 0
    assert set(read_results(out)) == digests(TOKENS[:16])


def test_killed_outright_then_resumed(
    tmp_path: Path, sandbox_factory: Callable[..., ThreadedSandbox]
) -> None:
    sandbox = sandbox_factory(seed=4, faults=Faults(latency=0.1))
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS)
    out = tmp_path / "results.jsonl"

    process = start_refresh(sandbox, tokens, out)
    wait_for_lines(out, 5, process)
    process.kill()
    process.communicate(timeout=30)

    assert finish(start_refresh(sandbox, tokens, out))[0] == 0
    assert set(read_results(out)) == digests(TOKENS)
