"""The client's side of the event API: who is registered, and one call's events, delivered so
that an observer that raises never breaks the call.

A call asks :meth:`ObserverList.report` for a :class:`CallReport` when it starts; with no
observer anywhere that is None, and the call's only cost is that check and one ``if`` per step.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Iterable, Iterator

from ._redact import fingerprint
from .errors import PlaidAPIError, PlaidResponseError
from .events import (
    AttemptEnded,
    AttemptStarted,
    CallEnded,
    CallStarted,
    Event,
    Observer,
    Outcome,
    RateLimitWaitEnded,
    RateLimitWaitStarted,
    RetryScheduled,
    WaitOutcome,
    scoped_observers,
)
from .models import AccountsGetResponse

__all__ = ["CallReport", "ObserverList", "check_observer", "deliver"]

log = logging.getLogger("plaid_async.events")

_call_ids = itertools.count(1)
_failed: set[object] = set()
"""The kinds of observer whose failure has been logged (see :func:`_kind`): each is logged
once in the process's life, and no observer is kept alive by it."""


def check_observer(observer: object, name: str = "observer") -> Observer:
    if not callable(observer):
        raise TypeError(f"{name} must be callable, not {type(observer).__name__}")
    return observer


def deliver(observers: Iterable[Observer], event: Event) -> None:
    """Hand ``event`` to each observer; one that raises is logged (once) and skipped."""
    for observer in observers:
        try:
            observer(event)
        except Exception:
            _log_failure(observer, event)


def _kind(observer: Observer) -> object:
    """What makes observers the same for logging: their code (a function, a closure made
    afresh per request, a bound method) or their class; never the observer itself, which a
    set of failures would keep alive for good."""
    function = getattr(observer, "__func__", observer)
    return getattr(function, "__code__", None) or type(observer)


def _log_failure(observer: Observer, event: Event) -> None:
    key = _kind(observer)
    if key in _failed:
        return
    _failed.add(key)
    name = getattr(observer, "__qualname__", None) or type(observer).__qualname__
    log.exception(
        "the plaid_async observer %s raised on %s; the call went on, and this observer's "
        "later failures are not logged",
        name,
        type(event).__name__,
    )


class ObserverList:
    """A client's observers: set in the constructor, added and removed at any time. A change
    applies to calls that start afterwards."""

    __slots__ = ("_observers",)

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        if isinstance(observers, str | bytes) or not isinstance(observers, Iterable):
            raise TypeError(
                f"observers must be an iterable of callables, not {type(observers).__name__}"
            )
        self._observers = tuple(check_observer(o, "observers: each observer") for o in observers)

    def __bool__(self) -> bool:
        return bool(self._observers)

    def __iter__(self) -> Iterator[Observer]:
        return iter(self._observers)

    def add(self, observer: Observer) -> None:
        self._observers = (*self._observers, check_observer(observer))

    def remove(self, observer: Observer) -> None:
        """Take ``observer`` off (its last registration); a ValueError if it is not on."""
        observers = list(self._observers)
        for i in range(len(observers) - 1, -1, -1):
            if observers[i] == observer:
                del observers[i]
                self._observers = tuple(observers)
                return
        raise ValueError("observer is not registered on this client")

    def report(self, endpoint: str, access_token: str, base_url: str) -> CallReport | None:
        """The events of a call to ``base_url + endpoint`` that starts now, or None if nobody
        is listening (the one question a call asks of the event API when nobody is)."""
        scoped = scoped_observers()
        if not scoped and not self._observers:
            return None
        url = base_url + endpoint
        return CallReport(self._observers + scoped, endpoint, fingerprint(access_token), url)


class CallReport:
    """One call's events: the pipeline tells it each step, it builds and delivers the event."""

    __slots__ = (
        "_attempt_start",
        "_last_status",
        "_observers",
        "_start",
        "_wait_start",
        "attempts",
        "call_id",
        "endpoint",
        "item",
    )

    def __init__(self, observers: tuple[Observer, ...], endpoint: str, item: str, url: str) -> None:
        self._observers = observers
        self.call_id = next(_call_ids)
        self.endpoint = endpoint
        self.item = item
        self.attempts = 0
        self._last_status: int | None = None
        self._start = self._attempt_start = self._wait_start = time.monotonic()
        deliver(observers, CallStarted(call_id=self.call_id, endpoint=endpoint, item=item, url=url))

    def wait_started(self) -> None:
        self._wait_start = time.monotonic()
        self._deliver(
            RateLimitWaitStarted(
                call_id=self.call_id,
                endpoint=self.endpoint,
                item=self.item,
                attempt=self.attempts + 1,
            )
        )

    def wait_ended(self, outcome: WaitOutcome) -> None:
        self._deliver(
            RateLimitWaitEnded(
                call_id=self.call_id,
                endpoint=self.endpoint,
                item=self.item,
                attempt=self.attempts + 1,
                duration=time.monotonic() - self._wait_start,
                outcome=outcome,
            )
        )

    def attempt_started(self, timeout: float) -> None:
        self.attempts += 1
        self._attempt_start = time.monotonic()
        self._deliver(
            AttemptStarted(
                call_id=self.call_id,
                endpoint=self.endpoint,
                item=self.item,
                attempt=self.attempts,
                timeout=timeout,
            )
        )

    def attempt_ended(
        self,
        status: int | None,
        response: AccountsGetResponse | None = None,
        error: BaseException | None = None,
    ) -> None:
        """The attempt got ``response``, or ended with ``error`` (cancellation included);
        ``status`` is the answer's HTTP status if one came."""
        outcome, error_status, name, code, request_id = _details(response, error)
        status = error_status or status
        self._last_status = status
        self._deliver(
            AttemptEnded(
                call_id=self.call_id,
                endpoint=self.endpoint,
                item=self.item,
                attempt=self.attempts,
                duration=time.monotonic() - self._attempt_start,
                outcome=outcome,
                status=status,
                error=name,
                error_code=code,
                request_id=request_id,
            )
        )

    def retry_scheduled(self, wait: float, error: BaseException | None) -> None:
        code = _error_code(error)
        self._deliver(
            RetryScheduled(
                call_id=self.call_id,
                endpoint=self.endpoint,
                item=self.item,
                attempt=self.attempts,
                wait=wait,
                reason=code or type(error).__name__,
            )
        )

    def call_ended(
        self, response: AccountsGetResponse | None = None, error: BaseException | None = None
    ) -> None:
        outcome, status, name, code, request_id = _details(response, error)
        self._deliver(
            CallEnded(
                call_id=self.call_id,
                endpoint=self.endpoint,
                item=self.item,
                duration=time.monotonic() - self._start,
                outcome=outcome,
                attempts=self.attempts,
                status=status if error is not None else self._last_status,
                error=name,
                error_code=code,
                request_id=request_id,
            )
        )

    def _deliver(self, event: Event) -> None:
        deliver(self._observers, event)


def _error_code(error: BaseException | None) -> str | None:
    if isinstance(error, PlaidAPIError) and error.error_code:
        return str(error.error_code)
    return None


def _details(
    response: AccountsGetResponse | None, error: BaseException | None
) -> tuple[Outcome, int | None, str | None, str | None, str | None]:
    """(outcome, status, error class name, error_code, request_id) of an answer or an error.

    Only this package's own exceptions are read for a status, a code or a request id: any
    other exception gives its class name and nothing else.
    """
    if error is None:
        return "ok", None, None, None, None if response is None else response.request_id
    if isinstance(error, asyncio.CancelledError):
        return "cancelled", None, None, None, None
    name = type(error).__name__
    if isinstance(error, PlaidAPIError):
        return "error", error.status, name, _error_code(error), error.request_id
    if isinstance(error, PlaidResponseError) and error.status:
        return "error", error.status, name, None, None
    return "error", None, name, None, None
