"""Which Plaid to call and with which keys: the environment, or ``--base-url``.

Keys come only from ``PLAID_CLIENT_ID`` and ``PLAID_SECRET`` (never a flag: a secret on a command
line is visible to every user of the machine in ``ps``). With ``--base-url`` on loopback and
neither variable set, the emulator's fixed test keys are used, so ``plaid-async sandbox serve``
in one terminal and ``plaid-async accounts ... --base-url http://127.0.0.1:8765`` in another
just work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click
from attrs import field, frozen

from plaid_async import PlaidClient
from plaid_async._config import _is_loopback
from plaid_async.sandbox import DEFAULT_CLIENT_ID, DEFAULT_SECRET

from .output import SetupError

__all__ = ["Connection", "base_url_option", "make_client"]

F = TypeVar("F", bound=Callable[..., Any])

_KEYS = ("PLAID_CLIENT_ID", "PLAID_SECRET")


def base_url_option(func: F) -> F:
    """``--base-url URL``: where calls go, over ``PLAID_ENV`` and ``PLAID_BASE_URL``."""
    return click.option(
        "--base-url",
        metavar="URL",
        help="Call this URL instead of PLAID_ENV's host (e.g. the emulator of "
        "'plaid-async sandbox serve'); http:// only on loopback.",
    )(func)


@frozen
class Connection:
    """A client, and the secret it sends (to keep out of what the command writes); its
    client id and environment, which a shared rate limit is kept under."""

    client: PlaidClient
    secret: str = field(repr=False)
    client_id: str = DEFAULT_CLIENT_ID
    environment: str = "sandbox"


def make_client(base_url: str | None, **kwargs: Any) -> Connection:
    """A client from the environment and ``base_url``; a :class:`SetupError` saying what to
    fix if that is not enough."""
    if base_url is not None:
        kwargs["base_url"] = base_url
        if not any(os.environ.get(name) for name in _KEYS) and _is_loopback_url(base_url):
            client = _checked(lambda: PlaidClient(DEFAULT_CLIENT_ID, DEFAULT_SECRET, **kwargs))
            return Connection(client, DEFAULT_SECRET)
    client = _checked(lambda: PlaidClient.from_env(**kwargs))
    environment = (os.environ.get("PLAID_ENV") or "sandbox").strip().lower()  # as from_env
    return Connection(
        client, os.environ["PLAID_SECRET"], os.environ["PLAID_CLIENT_ID"], environment
    )


def _checked(build: Callable[[], PlaidClient]) -> PlaidClient:
    try:
        return build()
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if message.startswith("set PLAID_"):
            message += " (or use --base-url with the emulator)"
        raise SetupError(message) from None


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname
    return host is not None and _is_loopback(host)
