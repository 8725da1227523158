"""Unit-test your code that uses :class:`~plaid_async.PlaidClient` without a server.

``MockTransport`` is in the spirit of ``httpx.MockTransport``: a function of yours receives
each request and returns the answer, and the client does everything else as it would against
Plaid (retries, the deadline, decoding, typed errors)::

    def handler(request: Request) -> tuple[int, dict[str, str], object]:
        return 200, {}, {"accounts": [], "item": {"item_id": "i"}, "request_id": "r"}

    client = PlaidClient(client_id, secret, transport=MockTransport(handler))

See the testing guide for when to use it, and when the emulator.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._compat import within
from .errors import PlaidTimeoutError
from .transport import RawResponse, Request

__all__ = ["Answer", "Handler", "MockTransport", "Request"]

Answer = tuple[int, Mapping[str, str], Any]
"""``(status, headers, body)``: ``body`` is ``bytes`` or ``str`` as sent, anything else is
encoded as JSON."""

Handler = Callable[[Request], Answer | Awaitable[Answer]]
"""A function, plain or async, from a request to its answer; it may raise
:class:`~plaid_async.PlaidConnectionError` or :class:`~plaid_async.PlaidTimeoutError` to act
out a failure."""


class MockTransport:
    """A :class:`~plaid_async.transport.Transport` that answers every request with
    ``handler(request)``.

    An async handler still running when the request's timeout is up is cancelled and the
    attempt fails with :class:`~plaid_async.PlaidTimeoutError`, as a slow server's would.
    ``requests`` lists every request received, in order.
    """

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {type(handler).__name__}")
        self.handler = handler
        self.requests: list[Request] = []
        self.closed = False

    async def send(self, request: Request) -> RawResponse:
        if self.closed:
            raise RuntimeError("this MockTransport is closed")
        self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answered: list[Answer] = []
            if not await within(_into(answered, answer), request.timeout):
                raise PlaidTimeoutError(
                    f"no complete answer within {request.timeout:g} s", timeout=request.timeout
                )
            answer = answered[0]
        status, headers, body = answer
        return RawResponse(status, dict(headers), _as_bytes(body))

    async def aclose(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return f"MockTransport({getattr(self.handler, '__name__', self.handler)!r})"


async def _into(answered: list[Answer], pending: Awaitable[Answer]) -> None:
    answered.append(await pending)


def _as_bytes(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")
