"""What happens to each call, told as it happens to the observers you register: the event API.

An observer is any callable that takes one event. Register it on a client
(``PlaidClient(observers=[...])``, :meth:`~plaid_async.PlaidClient.add_observer`) to see every
call of that client, or for a block of code with :func:`observe`, which sees only the calls made
in that block (and in tasks it starts): how a caller learns what happened to its own call.

A call reports, in this order::

    CallStarted
      (RateLimitWaitStarted, RateLimitWaitEnded)   when a rate limiter is set, before each attempt
      AttemptStarted, AttemptEnded                 each request sent
      RetryScheduled                               between a failed attempt and the next
      ...
    CallEnded                                      always last, also when the call is cancelled

Every event carries the call's ``call_id`` (unique in the process, to tell concurrent calls
apart), its ``endpoint`` path and its ``item``: the SHA-256 hex digest of the access token,
never the token. No event holds the secret, the token or a response body. Observers run in the
calling task, synchronously, so keep them quick; one that raises is logged once and skipped,
and never breaks the call.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Literal, TypeVar

from attrs import define, field, frozen

__all__ = [
    "AttemptEnded",
    "AttemptStarted",
    "CallEnded",
    "CallStarted",
    "Event",
    "Observer",
    "Outcome",
    "RateLimitWaitEnded",
    "RateLimitWaitStarted",
    "Recorder",
    "RetryScheduled",
    "WaitOutcome",
    "observe",
]

Outcome = Literal["ok", "error", "cancelled"]
"""How a call or an attempt ended: an answer, an exception, or cancellation (not a failure)."""

WaitOutcome = Literal["acquired", "timeout", "cancelled", "error"]
"""How a rate-limit wait ended: budget granted; the deadline passed first (nothing was sent);
cancelled; or the limiter raised (a shared limiter that is down and fails closed)."""


@frozen(kw_only=True)
class Event:
    """What every event carries."""

    call_id: int
    endpoint: str  # "/accounts/get" or "/accounts/balance/get"
    item: str  # the SHA-256 hex digest of the access token


@frozen(kw_only=True)
class CallStarted(Event):
    """A call began: its arguments were valid and it is about to try."""

    url: str  # where the requests go: the client's base URL and the endpoint's path


@frozen(kw_only=True)
class RateLimitWaitStarted(Event):
    """The call waits for a rate limiter's budget before attempt number ``attempt``."""

    attempt: int


@frozen(kw_only=True)
class RateLimitWaitEnded(Event):
    """The wait before attempt number ``attempt`` ended after ``duration`` seconds."""

    attempt: int
    duration: float
    outcome: WaitOutcome


@frozen(kw_only=True)
class AttemptStarted(Event):
    """Request number ``attempt`` (1-based) is being sent, bounded by ``timeout`` seconds (the
    endpoint's timeout, or less when the deadline is nearer)."""

    attempt: int
    timeout: float


@frozen(kw_only=True)
class AttemptEnded(Event):
    """Request number ``attempt`` ended after ``duration`` seconds.

    ``status`` is the HTTP status if an answer came (None for a timeout or a connection
    failure); ``error`` the class name of the exception it ended with (``"ItemError"``,
    ``"PlaidTimeoutError"``), None if it succeeded; ``error_code`` and ``request_id`` are
    Plaid's, when Plaid sent them.
    """

    attempt: int
    duration: float
    outcome: Outcome
    status: int | None = None
    error: str | None = None
    error_code: str | None = None
    request_id: str | None = None


@frozen(kw_only=True)
class RetryScheduled(Event):
    """Attempt number ``attempt`` failed with something worth another try, which comes after
    ``wait`` seconds. ``reason`` is Plaid's ``error_code`` when there is one
    (``"RATE_LIMIT_EXCEEDED"``, ``"INTERNAL_SERVER_ERROR"``), else the exception's class name
    (``"PlaidTimeoutError"``, ``"PlaidConnectionError"``, ``"PlaidResponseError"``)."""

    attempt: int
    wait: float
    reason: str


@frozen(kw_only=True)
class CallEnded(Event):
    """The call ended after ``duration`` seconds (rate-limit waits and retries included).

    ``attempts`` is the number of requests it sent (0 when the deadline passed before the first
    could go); the other fields are those of its last attempt, or of the exception it raised.
    """

    duration: float
    outcome: Outcome
    attempts: int
    status: int | None = None
    error: str | None = None
    error_code: str | None = None
    request_id: str | None = None


Observer = Callable[[Event], object]
"""Anything that can be called with one event; what it returns is ignored."""

_scoped: contextvars.ContextVar[tuple[Observer, ...]] = contextvars.ContextVar(
    "plaid_async_observers", default=()
)

ObserverT = TypeVar("ObserverT", bound=Observer)


def observe(observer: ObserverT) -> contextlib.AbstractContextManager[ObserverT]:
    """Report to ``observer`` the calls made inside this block, by any client.

    It sees the calls this code makes (and those of tasks started inside the block), not the
    other calls the client is making at the same time: a request handler can learn about its own
    calls. Yields ``observer``::

        with observe(Recorder()) as seen:
            resp = await client.accounts_get(access_token)
        seen.calls[-1].attempts

    ``observer`` is checked here, where it is given, not when the block is entered.
    """
    if not callable(observer):
        raise TypeError(f"observer must be callable, not {type(observer).__name__}")
    return _observing(observer)


@contextlib.contextmanager
def _observing(observer: ObserverT) -> Iterator[ObserverT]:
    token = _scoped.set((*_scoped.get(), observer))
    try:
        yield observer
    finally:
        _scoped.reset(token)


scoped_observers: Callable[[], tuple[Observer, ...]] = _scoped.get
"""The observers :func:`observe` registered for the current context."""


@define(eq=False)
class Recorder:
    """An observer that keeps every event it is given, in order, in ``events``."""

    events: list[Event] = field(factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    @property
    def calls(self) -> list[CallEnded]:
        """The :class:`CallEnded` events: one per call that finished, with its ``attempts``."""
        return [e for e in self.events if isinstance(e, CallEnded)]
