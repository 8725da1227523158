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

Each step tells the call's observers (:mod:`plaid_async.events`) when it starts and ends,
through a :class:`~plaid_async._observe.CallReport`; with nobody listening there is none, and
each of those moments costs one ``if``. A retry is scheduled in the policy's ``before_sleep``
(``policy._before_retry``, which calls ``on_retry`` and ``on_retry_scheduled``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Mapping

from ._calls import CallTracker
from ._observe import CallReport, ObserverList
from ._redact import fingerprint
from .batch import BatchProgress, ItemResult, check_concurrency, run_many
from .deadline import Deadline
from .endpoints import Endpoint
from .errors import PlaidTimeoutError, RateLimitWaitTimeout
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
        observers: ObserverList | None = None,
    ) -> None:
        self.transport = transport
        self.base_url = base_url
        self.headers = headers
        self.secret = secret
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.observers = ObserverList() if observers is None else observers
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
        report = None
        try:
            report = call.report = self.observers.report(endpoint.path, access_token, self.base_url)
            deadline = Deadline(retry.deadline)
            try:
                response = await call.attempt(deadline)  # the first attempt: most calls' only one
            except Exception as exc:  # never BaseException: cancellation is not a failure
                if not retry.retries(exc):
                    raise
                failure = exc
            else:
                if report is not None:
                    report.call_ended(response)
                return response
            response = await retry.retry_after(  # each retry is scheduled in policy._before_retry
                failure,
                call.attempt,
                endpoint=endpoint.path,
                on_retry=on_retry,
                deadline=deadline,
                on_retry_scheduled=None if report is None else report.retry_scheduled,
            )
            if report is not None:
                report.call_ended(response)
            return response
        except asyncio.CancelledError as exc:
            closed = self.calls.closed_error(task)
            if closed is None:
                if report is not None:
                    report.call_ended(error=exc)
                raise
        except BaseException as exc:
            if report is not None:
                report.call_ended(error=exc)
            raise
        finally:
            self.calls.leave(task)  # the call ends
        if report is not None:
            report.call_ended(error=closed)
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
        "report",
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
        self.report: CallReport | None = None

    async def attempt(self, deadline: Deadline) -> AccountsGetResponse:
        """One attempt: wait for budget, send, decode."""
        report = self.report
        if self.limiters:
            if report is None:
                await wait_for_budget(self.limiters, self.endpoint.path, self.item_key, deadline)
            else:
                await self.wait_reported(report, deadline)
        timeout = deadline.attempt_timeout(self.attempt_timeout)  # raises past the deadline
        if report is not None:
            report.attempt_started(timeout)
        pipe = self.pipe
        request = Request("POST", self.url, pipe.headers, self.body, timeout)
        try:
            try:
                status, headers, body = await pipe.transport.send(request)
            except PlaidTimeoutError as exc:
                if timeout < self.attempt_timeout:  # the deadline cut this attempt short
                    raise deadline.passed(" during an attempt") from exc
                raise
            response = decode_response(
                status,
                headers,
                body,
                self.endpoint.response_type,
                secrets=(pipe.secret, self.access_token),
            )
        except BaseException as exc:  # an error answer carries its own status
            if report is not None:
                report.attempt_ended(None, error=exc)
            raise
        if report is not None:
            report.attempt_ended(status, response)
        return response

    async def wait_reported(self, report: CallReport, deadline: Deadline) -> None:
        """:func:`~plaid_async.ratelimit.wait_for_budget`, its start and end told."""
        report.wait_started()
        try:
            await wait_for_budget(self.limiters, self.endpoint.path, self.item_key, deadline)
        except RateLimitWaitTimeout:
            report.wait_ended("timeout")
            raise
        except asyncio.CancelledError:
            report.wait_ended("cancelled")
            raise
        except BaseException:
            report.wait_ended("error")
            raise
        report.wait_ended("acquired")
