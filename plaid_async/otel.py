"""OpenTelemetry traces and metrics for every Plaid call, from the event API (extra ``otel``).

One line turns it on: ``plaid_async.otel.instrument(client)``, or
``PlaidClient(..., observers=[OpenTelemetryObserver()])``. Each call becomes a span (``plaid
/accounts/get``), a child of whatever span is current where the call is made (the web request's,
in an instrumented app), with a child ``CLIENT`` span per request sent (``POST /accounts/get``,
after OpenTelemetry's HTTP client conventions) and one per rate-limit wait; retries are events on
the call's span. The metrics are listed in :data:`METRICS`. Nothing secret goes in: the Item is
its SHA-256 fingerprint, and only on spans (never a metric attribute: one series per Item would
not scale).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._version import __version__
from .events import (
    AttemptEnded,
    AttemptStarted,
    CallEnded,
    CallStarted,
    Event,
    RateLimitWaitEnded,
    RateLimitWaitStarted,
    RetryScheduled,
)

try:
    from opentelemetry import context, metrics, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        "plaid_async.otel needs the OpenTelemetry API: pip install 'plaid-async[otel]'"
    ) from exc

if TYPE_CHECKING:
    from .client import PlaidClient

__all__ = ["METRICS", "OpenTelemetryObserver", "instrument"]

_SCOPE = "plaid_async"

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Histogram buckets in seconds: OpenTelemetry's HTTP ones up to 10 s, then room for
``/accounts/balance/get``, which can take 30 s and more, and for a whole call with retries."""

METRICS: Mapping[str, str] = {
    "plaid.client.call.duration": "seconds per call, retries and rate-limit waits included, "
    "by plaid.endpoint, plaid.outcome and error.type",
    "plaid.client.call.attempts": "requests sent per call, by plaid.endpoint and plaid.outcome",
    "plaid.client.active_calls": "calls in flight, by plaid.endpoint",
    "plaid.client.retries": "retries, by plaid.endpoint and plaid.retry.reason",
    "plaid.client.rate_limited": "answers with HTTP 429, by plaid.endpoint and plaid.error_code",
    "plaid.client.rate_limit.wait.duration": "seconds waited for rate-limit budget, by "
    "plaid.endpoint and plaid.rate_limit.outcome",
    "http.client.request.duration": "seconds per request sent, by the HTTP client "
    "conventions' attributes and plaid.endpoint",
}
"""Every metric's name and what it measures."""


class _Call:
    """What the observer keeps for a call in flight."""

    __slots__ = (
        "attempt_span",
        "attempt_token",
        "span",
        "token",
        "url",
        "wait_span",
        "wait_token",
    )

    def __init__(self, span: trace.Span, token: Token[context.Context], url: str) -> None:
        self.span = span
        self.token: Token[context.Context] | None = token
        self.url = url
        self.attempt_span: trace.Span | None = None
        self.attempt_token: Token[context.Context] | None = None
        self.wait_span: trace.Span | None = None
        self.wait_token: Token[context.Context] | None = None


def _check_provider(name: str, provider: object, method: str) -> None:
    """None (the global provider) or an object with OpenTelemetry's ``method``."""
    if provider is not None and not callable(getattr(provider, method, None)):
        raise TypeError(f"{name} must be an OpenTelemetry provider, not {type(provider).__name__}")


@functools.lru_cache(maxsize=64)
def _server(url: str) -> tuple[str, int]:
    """``server.address`` and ``server.port`` of a URL."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "", port


class OpenTelemetryObserver:
    """An observer that turns a client's events into OpenTelemetry spans and metrics.

    :param tracer_provider: where spans go; the global one (``trace.set_tracer_provider``) by
        default.
    :param meter_provider: where metrics go; the global one by default.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        _check_provider("tracer_provider", tracer_provider, "get_tracer")
        _check_provider("meter_provider", meter_provider, "get_meter")
        self._tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, __version__, meter_provider=meter_provider)
        self._call_duration = meter.create_histogram(
            "plaid.client.call.duration",
            unit="s",
            description="Duration of Plaid calls, retries and rate-limit waits included.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
        self._call_attempts = meter.create_histogram(
            "plaid.client.call.attempts",
            unit="{attempt}",
            description="Requests sent per Plaid call.",
            explicit_bucket_boundaries_advisory=(0, 1, 2, 3, 4, 5, 10),
        )
        self._active = meter.create_up_down_counter(
            "plaid.client.active_calls", unit="{call}", description="Plaid calls in flight."
        )
        self._retries = meter.create_counter(
            "plaid.client.retries", unit="{retry}", description="Retries of Plaid requests."
        )
        self._rate_limited = meter.create_counter(
            "plaid.client.rate_limited",
            unit="{response}",
            description="Answers with HTTP 429 (Plaid's RATE_LIMIT_EXCEEDED).",
        )
        self._wait_duration = meter.create_histogram(
            "plaid.client.rate_limit.wait.duration",
            unit="s",
            description="Time spent waiting for rate-limit budget before a request.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
        self._request_duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
        self._calls: dict[int, _Call] = {}
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            CallStarted: self._call_started,
            CallEnded: self._call_ended,
            AttemptStarted: self._attempt_started,
            AttemptEnded: self._attempt_ended,
            RetryScheduled: self._retry_scheduled,
            RateLimitWaitStarted: self._wait_started,
            RateLimitWaitEnded: self._wait_ended,
        }

    def __call__(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    # -- the call ------------------------------------------------------------------------------

    def _call_started(self, event: CallStarted) -> None:
        span = self._tracer.start_span(
            f"plaid {event.endpoint}",
            kind=SpanKind.INTERNAL,
            attributes={"plaid.endpoint": event.endpoint, "plaid.item.fingerprint": event.item},
        )
        token = context.attach(trace.set_span_in_context(span))
        self._calls[event.call_id] = _Call(span, token, event.url)
        self._active.add(1, {"plaid.endpoint": event.endpoint})

    def _call_ended(self, event: CallEnded) -> None:
        call = self._calls.pop(event.call_id, None)
        if call is None:  # the observer was added while this call was running
            return
        # A step left open (a client that did not say it ended) is closed first, so that the
        # contexts are detached in the order they were attached.
        for span, token in (
            (call.attempt_span, call.attempt_token),
            (call.wait_span, call.wait_token),
        ):
            if span is not None:
                span.end()
            _detach(token)
        try:
            span = call.span
            attributes = _answer(event.status, event.request_id, event.error_code)
            attributes["plaid.outcome"] = event.outcome
            attributes["plaid.attempts"] = event.attempts
            labels = {"plaid.endpoint": event.endpoint, "plaid.outcome": event.outcome}
            self._call_attempts.record(event.attempts, labels)
            if event.error is not None:
                labels["error.type"] = attributes["error.type"] = event.error
                span.set_status(Status(StatusCode.ERROR, event.error))
            span.set_attributes(attributes)
            self._call_duration.record(event.duration, labels)
            self._active.add(-1, {"plaid.endpoint": event.endpoint})
            span.end()
        finally:
            _detach(call.token)

    # -- one request -------------------------------------------------------------------------

    def _attempt_started(self, event: AttemptStarted) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            return
        address, port = _server(call.url)
        attributes: dict[str, str | int | float] = {
            "http.request.method": "POST",
            "server.address": address,
            "server.port": port,
            "url.full": call.url,
            "plaid.endpoint": event.endpoint,
            "plaid.attempt": event.attempt,
            "plaid.timeout": event.timeout,
        }
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
        span = self._tracer.start_span(
            f"POST {event.endpoint}",
            context=trace.set_span_in_context(call.span),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        call.attempt_span = span
        call.attempt_token = context.attach(trace.set_span_in_context(span))

    def _attempt_ended(self, event: AttemptEnded) -> None:
        call = self._calls.get(event.call_id)
        if call is None or call.attempt_span is None:
            return
        span, token = call.attempt_span, call.attempt_token
        call.attempt_span = call.attempt_token = None
        try:
            attributes = _answer(event.status, event.request_id, event.error_code)
            address, port = _server(call.url)
            labels: dict[str, str | int] = {
                "http.request.method": "POST",
                "server.address": address,
                "server.port": port,
                "plaid.endpoint": event.endpoint,
            }
            if event.status is not None:
                labels["http.response.status_code"] = event.status
            if event.outcome == "cancelled":
                attributes["plaid.outcome"] = "cancelled"
            elif event.error is not None:
                # The HTTP conventions: the status code when an error status came, else the
                # exception's class.
                error_type = (
                    str(event.status)
                    if event.status is not None and event.status >= 400
                    else event.error
                )
                labels["error.type"] = attributes["error.type"] = error_type
                span.set_status(Status(StatusCode.ERROR, event.error))
            if attributes:
                span.set_attributes(attributes)
            if event.status == 429:
                rate_labels = {"plaid.endpoint": event.endpoint}
                if event.error_code is not None:
                    rate_labels["plaid.error_code"] = event.error_code
                self._rate_limited.add(1, rate_labels)
            self._request_duration.record(event.duration, labels)
            span.end()
        finally:
            _detach(token)

    def _retry_scheduled(self, event: RetryScheduled) -> None:
        self._retries.add(1, {"plaid.endpoint": event.endpoint, "plaid.retry.reason": event.reason})
        call = self._calls.get(event.call_id)
        if call is not None:
            call.span.add_event(
                "plaid.retry",
                {
                    "plaid.attempt": event.attempt,
                    "plaid.retry.wait": event.wait,
                    "plaid.retry.reason": event.reason,
                },
            )

    # -- waiting for rate-limit budget ---------------------------------------------------------

    def _wait_started(self, event: RateLimitWaitStarted) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            return
        span = self._tracer.start_span(
            "plaid rate-limit wait",
            context=trace.set_span_in_context(call.span),
            attributes={"plaid.endpoint": event.endpoint, "plaid.attempt": event.attempt},
        )
        call.wait_span = span
        call.wait_token = context.attach(trace.set_span_in_context(span))

    def _wait_ended(self, event: RateLimitWaitEnded) -> None:
        self._wait_duration.record(
            event.duration,
            {"plaid.endpoint": event.endpoint, "plaid.rate_limit.outcome": event.outcome},
        )
        call = self._calls.get(event.call_id)
        if call is None or call.wait_span is None:
            return
        span, token = call.wait_span, call.wait_token
        call.wait_span = call.wait_token = None
        try:
            span.set_attribute("plaid.rate_limit.outcome", event.outcome)
            if event.outcome in ("timeout", "error"):
                span.set_status(Status(StatusCode.ERROR, event.outcome))
            span.end()
        finally:
            _detach(token)


def _answer(
    status: int | None, request_id: str | None, error_code: str | None
) -> dict[str, str | int]:
    """The attributes of an answer, those it has."""
    attributes: dict[str, str | int] = {}
    if status is not None:
        attributes["http.response.status_code"] = status
    if request_id is not None:
        attributes["plaid.request_id"] = request_id
    if error_code is not None:
        attributes["plaid.error_code"] = error_code
    return attributes


def _detach(token: Token[context.Context] | None) -> None:
    if token is not None:
        context.detach(token)


def instrument(
    client: PlaidClient,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> OpenTelemetryObserver:
    """Trace and measure every call ``client`` makes from now on; the observer, so that
    ``client.remove_observer(observer)`` can turn it off again."""
    if not callable(getattr(client, "add_observer", None)):
        raise TypeError(f"client must be a PlaidClient, not {type(client).__name__}")
    observer = OpenTelemetryObserver(tracer_provider=tracer_provider, meter_provider=meter_provider)
    client.add_observer(observer)
    return observer
