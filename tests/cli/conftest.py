"""Fixtures for the command's tests: an emulator on its own thread, a runner, leak checks.

The command runs its own event loop (``asyncio.run``), so the emulator it talks to runs on
another thread's loop; the test reads the emulator's counters through that loop.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from plaid_async.cli.app import cli
from plaid_async.sandbox import SandboxServer, Stats

T = TypeVar("T")

PLAID_VARIABLES = (
    "PLAID_CLIENT_ID",
    "PLAID_SECRET",
    "PLAID_ENV",
    "PLAID_BASE_URL",
    "PLAID_ASYNC_REDIS_URL",
)


class ThreadedSandbox:
    """A :class:`SandboxServer` serving from a thread of its own."""

    def __init__(self, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

        async def start() -> SandboxServer:
            server = SandboxServer(**kwargs)
            await server.start()
            return server

        self.server = self.run(start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def call(self, func: Callable[[], T]) -> T:
        async def call() -> T:
            return func()

        return self.run(call())

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def stats(self) -> Stats:
        return self.call(lambda: self.server.stats)

    def close(self) -> None:
        self.run(self.server.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture(autouse=True)
def _no_plaid_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the credentials of the machine it runs on."""
    for name in PLAID_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., ThreadedSandbox]]:
    """Start emulators with the given ``SandboxServer`` arguments; all stopped after."""
    started: list[ThreadedSandbox] = []

    def start(**kwargs: Any) -> ThreadedSandbox:
        started.append(ThreadedSandbox(**kwargs))
        return started[-1]

    yield start
    for sandbox in started:
        sandbox.close()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., ThreadedSandbox]) -> ThreadedSandbox:
    """An emulator without faults."""
    return sandbox_factory(seed=1)


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """``plaid-async ARGS`` in this process, stdout and stderr apart."""
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


def refresh(sandbox: ThreadedSandbox, tokens: Path, out: Path, *args: str) -> tuple[int, str, str]:
    """``plaid-async refresh TOKENS --out OUT`` against ``sandbox``: status, stdout, stderr."""
    result = invoke("refresh", str(tokens), "--out", str(out), "--base-url", sandbox.url, *args)
    return result.exit_code, result.stdout, result.stderr


def write_tokens(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def assert_no_leak(texts: Iterable[str | bytes], secrets: Iterable[str]) -> None:
    """No token and no secret in anything the command wrote."""
    secrets = [s for s in secrets if s]
    for text in texts:
        data = text if isinstance(text, str) else text.decode("utf-8", "replace")
        for secret in secrets:
            assert secret not in data


def one_line_error(stderr: str) -> str:
    """The one ``Error:`` line of ``stderr``, which holds no traceback."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def subprocess_env() -> dict[str, str]:
    """This environment, without Plaid's variables, for the command run as a program."""
    return {k: v for k, v in os.environ.items() if k not in PLAID_VARIABLES}


def worker_process(
    base_url: str, tokens: Path, out: Path, redis_url: str, stream: str, *args: str
) -> subprocess.Popen[str]:
    """``plaid-async worker`` as a program of its own, to be signalled or killed."""
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            *("-c", "from plaid_async.cli import main; main()"),
            *("worker", str(tokens), "--out", str(out), "--redis-url", redis_url),
            *("--stream", stream, "--base-url", base_url, *args),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
