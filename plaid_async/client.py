"""``PlaidClient``, the front door: checked configuration, the public methods, the lifecycle.

What one call does is :mod:`plaid_async._pipeline`'s.
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import aiohttp

from ._checks import check_instance, check_seconds, check_str
from ._config import resolve_base_url, timeouts_for
from ._observe import ObserverList
from ._pipeline import Pipeline
from .batch import BatchProgress, ItemResult
from .endpoints import ACCOUNTS_BALANCE_GET, ACCOUNTS_GET, Endpoint
from .events import Observer
from .models import (
    AccountsBalanceGetRequest,
    AccountsBalanceGetRequestOptions,
    AccountsGetRequest,
    AccountsGetRequestOptions,
    AccountsGetResponse,
)
from .policy import RetryPolicy
from .protocol import request_headers
from .ratelimit import RateLimiter, as_rate_limiter
from .transport import DEFAULT_MAX_RESPONSE_BYTES, Transport, make_transport

__all__ = ["DEFAULT_CONCURRENCY", "PlaidClient"]

DEFAULT_CONCURRENCY = 32
"""Requests in flight in a batch by default: at Plaid's p50 balance latency of 3 s, about 10 a
second, half of Plaid's production per-client balance limit (1,200 a minute), and well under
the connection pool's 100. Raise it together with ``rate_limit``."""


class PlaidClient:
    """An asyncio client for Plaid's Accounts API.

    One client per process (and per event loop) is the intended use: it holds a pool of
    connections. Use it as an async context manager, or call :meth:`aclose` when done.

    :param client_id: your Plaid client id.
    :param secret: the secret of ``environment``. Never logged, never in a ``repr``.
    :param environment: ``"sandbox"`` or ``"production"``.
    :param base_url: overrides ``environment`` (an emulator on loopback, a proxy). ``http://``
        is accepted for loopback hosts only.
    :param retry: the :class:`RetryPolicy`; ``RetryPolicy()`` by default.
    :param timeouts: per-attempt timeouts in seconds by endpoint path, merged over the
        defaults (``/accounts/get`` 10 s, ``/accounts/balance/get`` 60 s).
    :param max_connections: the bound on open connections.
    :param session: an ``aiohttp.ClientSession`` of yours; the client never closes it. Its
        ``raise_for_status`` is overridden per request; keep its ``auto_decompress`` on, or the
        body cap counts compressed bytes and compressed bodies do not parse.
    :param plaid_version: the ``Plaid-Version`` header.
    :param connect_timeout: seconds to establish a connection, within each attempt.
    :param max_response_bytes: the cap on a decoded response body.
    :param ssl: an ``ssl.SSLContext`` that verifies (a private CA, a client certificate).
    :param rate_limiter: waited on before every attempt of every call: requests per second in
        this process, or a limiter object (see :mod:`plaid_async.ratelimit`).
    :param transport: what requests are sent through, instead of the built-in aiohttp one: any
        :class:`~plaid_async.transport.Transport`, such as
        :class:`plaid_async.testing.MockTransport`. The client closes it in :meth:`aclose`.
        ``session``, ``max_connections``, ``connect_timeout``, ``max_response_bytes`` and
        ``ssl`` configure the built-in transport: giving one with ``transport`` is a TypeError.
    :param observers: callables told what happens to every call (see :mod:`plaid_async.events`;
        :func:`plaid_async.otel.instrument` adds OpenTelemetry's).
    """

    def __init__(
        self,
        client_id: str,
        secret: str,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 100,
        session: aiohttp.ClientSession | None = None,
        plaid_version: str = "2020-09-14",
        connect_timeout: float = 5.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        ssl: ssl.SSLContext | None = None,
        rate_limiter: float | RateLimiter | None = None,
        transport: Transport | None = None,
        observers: Iterable[Observer] = (),
    ) -> None:
        self._client_id = check_str("client_id", client_id)
        self._secret = check_str("secret", secret)
        self._base_url = resolve_base_url(environment, base_url)
        if retry is not None:
            check_instance("retry", retry, RetryPolicy)
        self._retry = retry or RetryPolicy()
        self._timeouts = timeouts_for(timeouts)
        check_str("plaid_version", plaid_version)
        limiter = as_rate_limiter(rate_limiter, "rate_limiter")
        observer_list = ObserverList(observers)
        self._pipeline = Pipeline(
            transport=make_transport(
                transport,
                session=session,
                max_connections=max_connections,
                connect_timeout=connect_timeout,
                max_response_bytes=max_response_bytes,
                ssl=ssl,
            ),
            base_url=self._base_url,
            headers=request_headers(self._client_id, self._secret, plaid_version),
            secret=self._secret,
            retry=self._retry,
            rate_limiter=limiter,
            observers=observer_list,
        )

    @classmethod
    def from_env(cls, **kwargs: Any) -> PlaidClient:
        """A client configured from ``PLAID_CLIENT_ID``, ``PLAID_SECRET``, ``PLAID_ENV``
        (default ``sandbox``, any case) and ``PLAID_BASE_URL``; ``kwargs`` go to the
        constructor."""
        missing = [name for name in ("PLAID_CLIENT_ID", "PLAID_SECRET") if not os.environ.get(name)]
        if missing:
            raise ValueError(f"set {' and '.join(missing)} in the environment")
        # Case and spaces ignored: PLAID_ENV=Production is what people write.
        kwargs.setdefault("environment", (os.environ.get("PLAID_ENV") or "sandbox").strip().lower())
        kwargs.setdefault("base_url", os.environ.get("PLAID_BASE_URL") or None)
        return cls(os.environ["PLAID_CLIENT_ID"], os.environ["PLAID_SECRET"], **kwargs)

    # ----------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    @property
    def timeouts(self) -> Mapping[str, float]:
        return dict(self._timeouts)

    @property
    def closed(self) -> bool:
        return self._pipeline.calls.closing

    @property
    def observers(self) -> tuple[Observer, ...]:
        """The observers registered on this client (not those of
        :func:`~plaid_async.events.observe`)."""
        return tuple(self._pipeline.observers)

    def add_observer(self, observer: Observer) -> None:
        """Tell ``observer`` about every call that starts from now on."""
        self._pipeline.observers.add(observer)

    def remove_observer(self, observer: Observer) -> None:
        """Stop telling ``observer`` about calls that start from now on; a ValueError if it
        was not added."""
        self._pipeline.observers.remove(observer)

    def __repr__(self) -> str:
        return (
            f"PlaidClient(client_id={self._client_id!r}, base_url={self._base_url!r}, "
            f"retry={self._retry!r})"
        )

    async def __aenter__(self) -> PlaidClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client: calls in flight end at once, each with a
        :class:`PlaidConnectionError` that says the client was closed, then the connection pool
        is closed (not a session passed in). Later calls raise RuntimeError.

        To let calls finish instead, await them before closing (``async with client:`` around
        the work does). Safe to call more than once.
        """
        await self._pipeline.aclose()

    # ----------------------------------------------------------------------------------------

    async def accounts_get(
        self,
        access_token: str,
        *,
        account_ids: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> AccountsGetResponse:
        """The Item's accounts with cached balances (``POST /accounts/get``; free, fast).

        :param account_ids: only these accounts; an id not of this Item is an
            ``InvalidInputError`` (``INVALID_ACCOUNT_ID``).
        :param timeout: this call's per-attempt timeout in seconds.
        """
        options = None if account_ids is None else AccountsGetRequestOptions(account_ids)
        return await self._pipeline.call(  # the request is the pipeline's alone: see its del
            ACCOUNTS_GET,
            AccountsGetRequest(access_token, options=options),
            access_token,
            self._attempt_timeout(ACCOUNTS_GET, timeout),
        )

    async def accounts_balance_get(
        self,
        access_token: str,
        *,
        account_ids: Iterable[str] | None = None,
        min_last_updated_datetime: dt.datetime | None = None,
        timeout: float | None = None,
    ) -> AccountsGetResponse:
        """The Item's accounts with real-time balances (``POST /accounts/balance/get``).

        Billed per successful call; p50 about 3 s, p95 about 11 s, sometimes 30 s or more.

        :param account_ids: only these accounts.
        :param min_last_updated_datetime: an aware datetime; required by Plaid only for
            Capital One non-depository accounts.
        :param timeout: this call's per-attempt timeout in seconds.
        """
        options = None
        if account_ids is not None or min_last_updated_datetime is not None:
            options = AccountsBalanceGetRequestOptions(account_ids, min_last_updated_datetime)
        return await self._pipeline.call(
            ACCOUNTS_BALANCE_GET,
            AccountsBalanceGetRequest(access_token, options=options),
            access_token,
            self._attempt_timeout(ACCOUNTS_BALANCE_GET, timeout),
        )

    def accounts_get_many(
        self,
        tokens: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        rate_limit: float | RateLimiter | None = None,
        timeout: float | None = None,
        on_progress: Callable[[BatchProgress], object] | None = None,
    ) -> AsyncGenerator[ItemResult, None]:
        """:meth:`accounts_get` for every token; see :meth:`accounts_balance_get_many`."""
        return self._pipeline.many(
            ACCOUNTS_GET,
            AccountsGetRequest,
            tokens,
            attempt_timeout=self._attempt_timeout(ACCOUNTS_GET, timeout),
            concurrency=concurrency,
            rate_limit=rate_limit,
            on_progress=on_progress,
        )

    def accounts_balance_get_many(
        self,
        tokens: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        rate_limit: float | RateLimiter | None = None,
        min_last_updated_datetime: dt.datetime | None = None,
        timeout: float | None = None,
        on_progress: Callable[[BatchProgress], object] | None = None,
    ) -> AsyncGenerator[ItemResult, None]:
        """Real-time balances for many Items, streamed as each finishes.

        Takes any iterable or async iterable of access tokens and consumes it lazily; yields
        exactly one :class:`ItemResult` per input token, in completion order, with its input
        ``index``. At most ``concurrency`` requests are in flight (and at most the client's
        ``max_connections``: raise both together); ``rate_limit`` (requests per second, or a
        limiter) bounds the whole run, retries included, on top of the client's own
        ``rate_limiter``; waiting for budget counts against each call's deadline, so keep
        ``concurrency`` under ``rate_limit`` times the deadline. ``on_progress`` is called
        with live :class:`BatchProgress` counts as calls start, and after every result and
        retry. The arguments
        are checked here, before anything is sent.

        Leaving the loop early cancels the requests in flight; use
        ``contextlib.aclosing(...)`` to have that happen before the next line runs.
        """
        options = None
        if min_last_updated_datetime is not None:
            options = AccountsBalanceGetRequestOptions(
                min_last_updated_datetime=min_last_updated_datetime
            )
        return self._pipeline.many(
            ACCOUNTS_BALANCE_GET,
            lambda token: AccountsBalanceGetRequest(token, options=options),
            tokens,
            attempt_timeout=self._attempt_timeout(ACCOUNTS_BALANCE_GET, timeout),
            concurrency=concurrency,
            rate_limit=rate_limit,
            on_progress=on_progress,
        )

    def _attempt_timeout(self, endpoint: Endpoint, timeout: float | None) -> float:
        """A call's per-attempt timeout: its own ``timeout``, else the endpoint's."""
        if timeout is None:
            return self._timeouts[endpoint.path]
        return check_seconds("timeout", timeout)
