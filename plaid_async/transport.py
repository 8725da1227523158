"""The transport seam, and the one module that touches the network: POST bytes, get bytes back.

:class:`Transport` is what :class:`~plaid_async.PlaidClient` sends through: any object with
``send(request)`` and ``aclose()`` (``PlaidClient(transport=...)``); :class:`AiohttpTransport`
is the default one, and :class:`plaid_async.testing.MockTransport` answers from a function.

The aiohttp transport knows nothing of Plaid. It bounds every attempt in time
(``ClientTimeout.total``, not only per read, so a server dripping a byte a second cannot hold a
call), caps the body after decompression, never follows a redirect, always verifies TLS, and
turns aiohttp's exceptions into :class:`PlaidTimeoutError`, :class:`PlaidConnectionError` and
:class:`PlaidResponseError`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp

from ._config import check_positive_int, check_seconds
from .errors import PlaidConnectionError, PlaidResponseError, PlaidTimeoutError

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "AiohttpTransport",
    "RawResponse",
    "Request",
    "Transport",
    "make_transport",
]

DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
"""4 MiB: a response with 1,000 accounts is well under 1 MiB."""

_CHUNK = 64 * 1024


class Request(NamedTuple):
    """One attempt's HTTP request: a POST of JSON ``body`` to ``url``.

    ``timeout`` is the seconds within which the whole answer must have been read (the
    attempt's timeout, already cut to the time left before the call's deadline).
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    timeout: float

    @property
    def path(self) -> str:
        """The endpoint path, e.g. ``"/accounts/get"``."""
        return urlsplit(self.url).path

    def json(self) -> Any:
        """The body, decoded."""
        return json.loads(self.body)

    def __repr__(self) -> str:  # the headers hold the secret, the body the access token
        return (
            f"Request({self.method} {self.url}, {len(self.body)} bytes, timeout={self.timeout:g})"
        )


class RawResponse(NamedTuple):
    """An answer as bytes: what a :class:`Transport` returns (a plain tuple will do too)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@runtime_checkable
class Transport(Protocol):
    """What :class:`~plaid_async.PlaidClient` sends each attempt through.

    ``send`` returns ``(status, headers, body)`` for any answer, whatever its status: what it
    means is decided by the client (:func:`plaid_async.protocol.decode_response`). A failure
    to get an answer is raised as one of the client's own errors, so that the retry policy can
    tell what happened: :class:`~plaid_async.PlaidTimeoutError` if no complete answer came
    within ``request.timeout``, :class:`~plaid_async.PlaidConnectionError` if none came at all,
    :class:`~plaid_async.PlaidResponseError` for one that is not HTTP or is too large. Anything
    else it raises reaches the caller unchanged, unretried.

    ``aclose`` is called once, when the client is closed; the client owns its transport.
    """

    async def send(self, request: Request) -> tuple[int, Mapping[str, str], bytes]: ...

    async def aclose(self) -> None: ...


@functools.cache
def _verified_context() -> ssl.SSLContext:
    """The system's CAs, certificates and host names verified; one per process.

    Passed with every request, so that a connector of the user's made with ``ssl=False`` (which
    aiohttp would fall back to for a request's ``ssl=True``) cannot turn verification off.
    """
    return ssl.create_default_context()


def _reason(message: str) -> str:
    """aiohttp's account of a malformed answer without the server's bytes, which it quotes
    (``b'...'``) and which may echo the secret back: the first line, up to any quote."""
    line = message.split("\n", 1)[0]
    for quote in (" b'", ' b"'):
        line = line.split(quote, 1)[0]
    return line.rstrip(" :")[:120] or "unreadable status line or headers"


def check_ssl_context(context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    """Accept a user's context only if it verifies: turning TLS checks off is not an option."""
    if context is None:
        return None
    if not isinstance(context, ssl.SSLContext):
        raise TypeError(
            "ssl must be an ssl.SSLContext (for a private CA: "
            "ssl.create_default_context(cafile=...)); TLS verification cannot be turned off"
        )
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise ValueError(
            "the ssl context must verify certificates and host names "
            "(verify_mode=CERT_REQUIRED, check_hostname=True)"
        )
    return context


class AiohttpTransport:
    """One aiohttp session with a bounded connector, created on first use.

    A session passed in is used as it is and never closed here: its owner closes it.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 100,
        connect_timeout: float = 5.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._max_response_bytes = max_response_bytes
        # Made here, not on the first call: loading the system's CAs takes tens of milliseconds,
        # which on the first call would land between a rate limiter's grant and the send.
        self._ssl: ssl.SSLContext = check_ssl_context(ssl_context) or _verified_context()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    @property
    def closed(self) -> bool:
        return self._closed

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this PlaidClient is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError(
                "this PlaidClient is bound to the event loop it first ran on; "
                "create one client per event loop"
            )
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections, limit_per_host=self._max_connections
                ),
                # Per-call timeouts are passed with each request; no session-wide default.
                timeout=aiohttp.ClientTimeout(total=None),
                # No cookie jar: Plaid sets none, and nothing should persist between calls.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def send(self, request: Request) -> RawResponse:
        """POST the request's body and read the whole answer within its timeout."""
        timeout = request.timeout
        session = self._get_session()
        client_timeout = self._timeouts.get(timeout) or self._client_timeout(timeout)
        try:
            async with session.post(
                request.url,
                data=request.body,
                headers=request.headers,
                timeout=client_timeout,
                allow_redirects=False,
                raise_for_status=False,  # a session of the user's may say otherwise
                ssl=self._ssl,
            ) as resp:
                length = resp.content_length
                if length is None or "Content-Encoding" in resp.headers:
                    content = await self._read_capped(resp)
                elif length > self._max_response_bytes:
                    raise self._too_large(resp.status)
                else:  # the parser reads exactly ``length`` bytes, none decompressed
                    content = await resp.read()
                return RawResponse(resp.status, resp.headers, content)
        except aiohttp.ClientConnectorCertificateError as exc:
            # It will not verify on the next try either: not retried.
            raise PlaidConnectionError(
                f"the server's TLS certificate did not verify: {exc.certificate_error}",
                transient=False,
            ) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            # Nothing reached the server: safe to retry even with retry_timeouts off.
            raise PlaidConnectionError(
                f"could not connect within {self._connect_timeout:g} s"
            ) from exc
        except asyncio.TimeoutError as exc:  # total, or aiohttp's SocketTimeoutError
            raise PlaidTimeoutError(
                f"no complete answer within {timeout:g} s", timeout=timeout
            ) from exc
        except aiohttp.ClientResponseError as exc:  # a malformed status line or headers
            malformed = _reason(exc.message)
        except (aiohttp.ClientError, OSError) as exc:
            raise PlaidConnectionError(f"connection failed: {type(exc).__name__}: {exc}") from exc
        # aiohttp's exception quotes the server's bytes, which may echo the secret: it must not
        # be kept as ``__context__``. Raising outside the ``except`` is not enough on Python
        # 3.10, where an exception aiohttp handled inside the task can still be the one "being
        # handled" here, so the context is cleared as the error leaves.
        error = PlaidResponseError(f"malformed HTTP answer: {malformed}", status=0, transient=False)
        try:
            raise error
        finally:
            error.__context__ = None

    def _client_timeout(self, timeout: float) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts of an attempt: ``timeout`` in all, and the connect timeout within
        it. Kept for the few values that recur (each endpoint's timeout): making one per
        request is a frozen dataclass built through ``object.__setattr__``."""
        client_timeout = aiohttp.ClientTimeout(
            total=timeout, sock_connect=min(self._connect_timeout, timeout)
        )
        if len(self._timeouts) < 16:
            self._timeouts[timeout] = client_timeout
        return client_timeout

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        """A body of unknown decoded size (compressed, or chunked), read up to the cap: a
        :class:`PlaidResponseError` once it passes."""
        cap = self._max_response_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise self._too_large(resp.status)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, status: int) -> PlaidResponseError:
        return PlaidResponseError(
            f"HTTP {status}: the body is larger than the {self._max_response_bytes} byte cap",
            status=status,
            transient=False,
        )

    async def aclose(self) -> None:
        """Close the session if it is ours. Safe to call more than once."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()


def make_transport(
    transport: Transport | None,
    *,
    session: aiohttp.ClientSession | None = None,
    max_connections: int = 100,
    connect_timeout: float = 5.0,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ssl: ssl.SSLContext | None = None,
) -> Transport:
    """The client's transport: ``transport`` if given, else an :class:`AiohttpTransport` of
    the other options. The options configure only the latter: one given with ``transport``
    (that is, not left at its default) is a TypeError rather than silently ignored."""
    if transport is not None:
        defaults = {
            "session": session is None,
            "max_connections": max_connections == 100,
            "connect_timeout": connect_timeout == 5.0,
            "max_response_bytes": max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES,
            "ssl": ssl is None,
        }
        given = [name for name, unchanged in defaults.items() if not unchanged]
        if given:
            raise TypeError(
                f"{', '.join(given)} configure the built-in aiohttp transport and cannot be "
                "combined with transport=; configure your transport instead"
            )
        if not isinstance(transport, Transport):
            raise TypeError(
                "transport must have async send(request) and aclose(), "
                f"not {type(transport).__name__}"
            )
        return transport
    check_positive_int("max_connections", max_connections)
    check_positive_int("max_response_bytes", max_response_bytes)
    if session is not None and not isinstance(session, aiohttp.ClientSession):
        raise TypeError("session must be an aiohttp.ClientSession")
    return AiohttpTransport(
        session=session,
        max_connections=max_connections,
        connect_timeout=check_seconds("connect_timeout", connect_timeout),
        max_response_bytes=max_response_bytes,
        ssl_context=ssl,
    )
