"""Real processes for the shared-budget tests and the benchmark: the emulator as
``plaid-async sandbox serve`` and worker processes (``tests/redis/worker.py``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from attrs import frozen

from plaid_async.sandbox import DEFAULT_CLIENT_ID, DEFAULT_SECRET, sandbox_token

ROOT = Path(__file__).resolve().parents[2]
_ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) POST (\S+) -> (\d{3}) ")


@frozen
class Hit:
    """One request as the emulator saw it: when (seconds), where, and what it answered."""

    at: float
    path: str
    status: int


class Emulator:
    """``plaid-async sandbox serve --port 0 -v --rate-limits SPEC`` in its own process."""

    def __init__(self, rate_limits: str = "off", *options: str) -> None:
        self._log: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [
                sys.executable,
                *("-c", "from plaid_async.cli import main; main()"),
                *("sandbox", "serve", "--port", "0", "-v", "--rate-limits", rate_limits),
                *options,
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=_ENV,
        )
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if "listening on" in line:
                self.url = line.split("listening on", 1)[1].strip()
                break
        else:
            raise RuntimeError("the emulator did not start")

    def stop(self) -> list[Hit]:
        """Stop it (SIGTERM) and read back every request it answered."""
        self._process.send_signal(signal.SIGTERM)
        self._process.communicate(timeout=30)
        self._log.seek(0)
        hits = []
        self.lines = self._log.readlines()
        """The emulator's log, one line per request."""
        for line in self.lines:
            match = _LINE.match(line)
            if match:
                when = dt.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                hits.append(Hit(when, match[2], int(match[3])))
        self._log.close()
        return hits


class Worker:
    """One ``tests.redis.worker`` process; :meth:`go` starts it, :meth:`results` waits."""

    def __init__(self, emulator: Emulator, tokens: Sequence[str], **config: Any) -> None:
        config = {
            "base_url": emulator.url,
            "client_id": DEFAULT_CLIENT_ID,
            "secret": DEFAULT_SECRET,
            "tokens": list(tokens),
            **config,
        }
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "tests.redis.worker", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=_ENV,
        )
        assert self._process.stdout is not None
        ready = self._process.stdout.readline()
        if ready.strip() != "ready":
            raise RuntimeError(f"a worker did not start: {ready!r} {self._process.stderr}")

    def go(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write("go\n")
        self._process.stdin.flush()

    def results(self, timeout: float = 120) -> tuple[list[dict[str, Any]], str]:
        """The worker's results and its stderr (its log lines), once it has finished."""
        out, err = self._process.communicate(timeout=timeout)
        if self._process.returncode:
            raise RuntimeError(f"a worker failed:\n{err}")
        return [json.loads(line) for line in out.splitlines()], err


def start_workers(
    emulator: Emulator, count: int, tokens_each: int | Sequence[str], **config: Any
) -> list[Worker]:
    """``count`` workers, each with its own tokens (or the same list), started together."""
    workers = []
    for n in range(count):
        if isinstance(tokens_each, int):
            tokens: Sequence[str] = [sandbox_token(f"{n}-{i}") for i in range(tokens_each)]
        else:
            tokens = tokens_each
        workers.append(Worker(emulator, tokens, **config))
    for worker in workers:
        worker.go()
    return workers


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most of ``times`` inside any window of ``window`` seconds."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        most = max(most, end - start + 1)
    return most
