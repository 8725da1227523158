"""One call, as a short sequence of named steps.

A call (:meth:`Pipeline.call`) registers with the client, fixes its :class:`Deadline`, runs
its first attempt, and hands a failure that may be retried to the retry policy
(:meth:`~plaid_async.RetryPolicy.retry_after`, which runs the further attempts through
tenacity). Each attempt (:meth:`_Call.attempt`) is three steps, each owned by its own module:

1. wait for rate-limit budget within the deadline
   (:func:`~plaid_async.ratelimit.wait_for_budget`);
2. send one request through the transport, its timeout cut to the time left
   (:meth:`~plaid_async.deadline.Deadline.attempt_timeout`,
   :class:`~plaid_async.transport.Transport`);
3. decode the answer into a response or a typed error
   (:func:`~plaid_async.protocol.decode_response`).

The moments an observer would want (a call started and ended, an attempt started and ended, a
rate-limit wait started and ended) are each one line here, marked by a comment; a retry is
scheduled in the policy's ``before_sleep`` (``policy._before_retry``, which calls ``on_retry``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Mapping

from ._calls import CallTracker
from ._redact import fingerprint
from .batch import BatchProgress, ItemResult, check_concurrency, run_many
from .deadline import Deadline
from .endpoints import Endpoint
from .errors import PlaidTimeoutError
from .models import AccountsBalanceGetRequest, AccountsGetRequest, AccountsGetResponse
from .policy import RetryPolicy
from .protocol import decode_response, encode_request
from .ratelimit import RateLimiter, as_rate_limiter, wait_for_budget
from .transport import Request, Transport

__all__ = ["Pipeline"]

_Answer = tuple[int, Mapping[str, str], bytes]


class Pipeline:
    """What every call of one client shares: where and how to send, the policy, the limiter."""

    def __init__(
        self,
        *,
        transport: Transport,
        base_url: str,
        headers: Mapping[str, str],
        secret: str,
        retry: RetryPolicy,
        rate_limiter: RateLimiter | None,
    ) -> None:
        self.transport = transport
        self.base_url = base_url
        self.headers = headers
        self.secret = secret
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.calls = CallTracker()

    async def call(
        self,
        endpoint: Endpoint,
        request: AccountsGetRequest | AccountsBalanceGetRequest,
        access_token: str,
        attempt_timeout: float,
        *,
        extra_limiter: RateLimiter | None = None,
        on_retry: Callable[[], object] | None = None,
    ) -> AccountsGetResponse:
        """One call: the first attempt, then retries as the policy says, until one settles it.

        ``attempt_timeout`` is this call's per-attempt timeout, already checked;
        ``extra_limiter`` a batch's own ``rate_limit``, waited on besides the client's.
        """
        call = _Call(self, endpoint, request, access_token, attempt_timeout, extra_limiter)
        del request  # encoded: not kept alive for the call's length
        retry = self.retry
        task = self.calls.enter()  # the call starts
        try:
            deadline = Deadline(retry.deadline)
            try:
                return await call.attempt(deadline)  # the first attempt: most calls' only one
            except Exception as exc:  # never BaseException: cancellation is not a failure
                if not retry.retries(exc):
                    raise
                failure = exc
            return await retry.retry_after(  # each retry is scheduled in policy._before_retry
                failure, call.attempt, endpoint=endpoint.path, on_retry=on_retry, deadline=deadline
            )
        except asyncio.CancelledError:
            closed = self.calls.closed_error(task)
            if closed is None:
                raise
        finally:
            self.calls.leave(task)  # the call ends
        raise closed  # outside the ``except``: the cancellation is not this error's context

    def many(
        self,
        endpoint: Endpoint,
        make_request: Callable[[str], AccountsGetRequest | AccountsBalanceGetRequest],
        tokens: Iterable[str] | AsyncIterable[str],
        *,
        attempt_timeout: float,
        concurrency: int,
        rate_limit: float | RateLimiter | None,
        on_progress: Callable[[BatchProgress], object] | None,
    ) -> AsyncGenerator[ItemResult, None]:
        """The batch runner making :meth:`call` for each token; every argument is checked
        here, before it starts."""
        check_concurrency(concurrency)
        batch_limiter = as_rate_limiter(rate_limit, "rate_limit")

        def call(token: str, on_retry: Callable[[], None]) -> Awaitable[AccountsGetResponse]:
            return self.call(
                endpoint,
                make_request(token),  # a bad token raises here, before anything is sent
                token,
                attempt_timeout,
                extra_limiter=batch_limiter,
                on_retry=on_retry,
            )

        return run_many(call, tokens, concurrency=concurrency, on_progress=on_progress)

    async def aclose(self) -> None:
        """End the calls in flight, then close the transport."""
        await self.calls.close()
        await self.transport.aclose()


class _Call:
    """One call's fixed parts, computed once for all its attempts."""

    __slots__ = (
        "access_token",
        "attempt_timeout",
        "body",
        "endpoint",
        "item_key",
        "limiters",
        "pipe",
        "url",
    )

    def __init__(
        self,
        pipe: Pipeline,
        endpoint: Endpoint,
        request: AccountsGetRequest | AccountsBalanceGetRequest,
        access_token: str,
        attempt_timeout: float,
        extra_limiter: RateLimiter | None,
    ) -> None:
        self.pipe = pipe
        self.endpoint = endpoint
        self.url = pipe.base_url + endpoint.path
        self.body = encode_request(request)
        self.access_token = access_token
        self.attempt_timeout = attempt_timeout
        limiters = tuple(x for x in (pipe.rate_limiter, extra_limiter) if x is not None)
        self.limiters = limiters
        self.item_key = fingerprint(access_token) if limiters else ""

    async def attempt(self, deadline: Deadline) -> AccountsGetResponse:
        """One attempt: wait for budget, send, decode."""
        if self.limiters:  # the rate-limit wait starts, and ends on the next line
            await wait_for_budget(self.limiters, self.endpoint.path, self.item_key, deadline)
        timeout = deadline.attempt_timeout(self.attempt_timeout)  # raises past the deadline
        pipe = self.pipe
        request = Request("POST", self.url, pipe.headers, self.body, timeout)
        try:  # the attempt starts
            status, headers, body = await pipe.transport.send(request)
        except PlaidTimeoutError as exc:
            if timeout < self.attempt_timeout:  # the deadline cut this attempt short
                raise deadline.passed(" during an attempt") from exc
            raise  # (the attempt ends, in failure)
        # the attempt ends: an answer came
        return decode_response(
            status,
            headers,
            body,
            self.endpoint.response_type,
            secrets=(pipe.secret, self.access_token),
        )
