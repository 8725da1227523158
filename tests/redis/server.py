"""A real ``redis-server`` on a free loopback port, persistence off, for the limiter's tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time

import pytest

SKIP_ENV = "PLAID_ASYNC_SKIP_REDIS"
"""Set to 1 to skip the Redis tests where redis-server is not installed (they fail otherwise)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """The path of ``redis-server``; fails the test (or skips it, if asked to) without one."""
    path = shutil.which("redis-server")
    if path:
        return path
    message = (
        "redis-server is not installed: apt-get install redis-server (.ci/run does it), "
        f"or set {SKIP_ENV}=1 to skip the tests of the shared rate limiter"
    )
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


class RedisServer:
    """One ``redis-server`` process: :meth:`start`, :meth:`kill` (as a crash would), again."""

    def __init__(
        self, port: int | None = None, password: str | None = None, aof_dir: str | None = None
    ) -> None:
        self.port = port or free_port()
        self.password = password
        self.aof_dir = aof_dir
        """Append-only persistence, every write synced, in this directory, if given: a
        restart after :meth:`kill` finds every acknowledged write."""
        """Required of clients (``requirepass``) if given; then in :attr:`url`."""
        self._binary = redis_server_binary()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                self._binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--daemonize", "no"),
                *(
                    ("--appendonly", "yes", "--appendfsync", "always", "--dir", self.aof_dir)
                    if self.aof_dir
                    else ("--appendonly", "no")
                ),
                *("--loglevel", "warning"),
                *(("--requirepass", self.password) if self.password else ()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    auth = f"AUTH {self.password}\r\n".encode() if self.password else b""
                    sock.sendall(auth + b"PING\r\n")
                    if _answers_pong(sock):
                        return
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        """SIGKILL, and wait: the port is then free and refuses connections."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def _answers_pong(sock: socket.socket) -> bool:
    """Whether the replies on ``sock`` come to a PONG (after the ``+OK`` to an AUTH)."""
    reply = b""
    while b"+PONG\r\n" not in reply:
        data = sock.recv(64)  # no more replies: a socket timeout, an OSError
        if not data:
            return False
        reply += data
    return True


async def zcard_all(url: str, pattern: str = "*") -> dict[str, int]:
    """Every key matching ``pattern`` and its sorted set's size."""
    from redis.asyncio import Redis

    client = Redis.from_url(url, decode_responses=True)
    try:
        keys = [str(key) for key in await client.keys(pattern)]  # str: decode_responses
        sizes = await asyncio.gather(*(client.zcard(key) for key in keys))
        return dict(zip(keys, sizes, strict=True))
    finally:
        await client.aclose()
