"""What ``enqueue``, ``worker`` and ``status`` share: where the queue is, and a checked Redis."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .output import SetupError
from .shared_limit import hide_password

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["checked_redis", "group_option", "queue_options"]

F = TypeVar("F", bound=Callable[..., Any])


def queue_options(func: F) -> F:
    """``--redis-url`` (required) and ``--stream``."""
    for option in reversed(
        (
            click.option(
                "--redis-url",
                required=True,
                metavar="URL",
                envvar="PLAID_ASYNC_REDIS_URL",
                show_envvar=True,
                help="The Redis of the queue (and of the shared rate limit). A URL with a "
                "password belongs in the environment variable, not on the command line.",
            ),
            click.option(
                "--stream",
                required=True,
                metavar="NAME",
                help="The Redis Stream of the jobs; NAME:dead holds the dead letters.",
            ),
        )
    ):
        func = option(func)
    return func


def group_option(func: F) -> F:
    """``--group``: the consumer group."""
    return click.option(
        "--group",
        default="plaid-async",
        show_default=True,
        metavar="NAME",
        help="The consumer group: every worker of one queue gives the same.",
    )(func)


@contextlib.asynccontextmanager
async def checked_redis(url: str) -> AsyncIterator[Redis]:
    """A Redis client for ``url`` that answered a PING; a :class:`SetupError` (without the
    URL's password) if there is none."""
    try:
        module = importlib.import_module("redis.asyncio")
    except ImportError:
        raise SetupError(
            "--redis-url needs the redis package: pip install 'plaid-async[redis]'"
        ) from None
    errors = (importlib.import_module("redis.exceptions").RedisError, OSError, ValueError)
    try:
        # a read blocks 1 s at most: a socket silent for 30 s is a Redis gone without a word
        redis: Redis = module.Redis.from_url(url, socket_connect_timeout=5.0, socket_timeout=30.0)
        await redis.ping()
    except errors as exc:
        reason = hide_password(f"{type(exc).__name__}: {exc}", url)
        raise SetupError(
            f"--redis-url {hide_password(url, url)}: cannot use Redis ({reason})"
        ) from None
    try:
        yield redis
    finally:
        await redis.aclose()
