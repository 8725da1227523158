"""The OpenTelemetry observer, fed events by hand, read through the real SDK in memory."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from plaid_async import PlaidClient
from plaid_async.events import (
    AttemptEnded,
    AttemptStarted,
    CallEnded,
    CallStarted,
    Outcome,
    RateLimitWaitEnded,
    RateLimitWaitStarted,
    RetryScheduled,
)
from plaid_async.otel import METRICS, OpenTelemetryObserver, instrument
from tests.samples import CLIENT_ID, SECRET
from tests.telemetry import Telemetry

GET = "/accounts/get"
ITEM = "ab" * 32
URL = "https://production.plaid.com/accounts/get"


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


def common(call_id: int = 1) -> Any:
    """The fields every event has (typed loosely, to be spread into any of them)."""
    return {"call_id": call_id, "endpoint": GET, "item": ITEM}


def start(telemetry: Telemetry, call_id: int = 1) -> None:
    telemetry.observer(CallStarted(url=URL, **common(call_id)))


def attempt(
    telemetry: Telemetry,
    n: int,
    *,
    outcome: Outcome = "ok",
    status: int | None = 200,
    error: str | None = None,
    error_code: str | None = None,
    call_id: int = 1,
) -> None:
    fields = common(call_id)
    telemetry.observer(AttemptStarted(attempt=n, timeout=10.0, **fields))
    telemetry.observer(
        AttemptEnded(
            attempt=n,
            duration=0.5,
            outcome=outcome,
            status=status,
            error=error,
            error_code=error_code,
            request_id=f"req-{n}",
            **fields,
        )
    )


def end(
    telemetry: Telemetry,
    *,
    attempts: int = 1,
    outcome: Outcome = "ok",
    status: int | None = 200,
    error: str | None = None,
    error_code: str | None = None,
    call_id: int = 1,
) -> None:
    telemetry.observer(
        CallEnded(
            duration=1.5,
            outcome=outcome,
            attempts=attempts,
            status=status,
            error=error,
            error_code=error_code,
            request_id=f"req-{attempts}",
            **common(call_id),
        )
    )


def test_a_call_is_a_span_under_the_callers_with_a_client_span_per_attempt(
    telemetry: Telemetry,
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("GET /users/{id}/balances") as request_span:
        start(telemetry)
        assert trace.get_current_span().name == f"plaid {GET}"  # type: ignore[attr-defined]
        attempt(telemetry, 1)
        end(telemetry)
        assert trace.get_current_span() is request_span  # the caller's context is back

    request = telemetry.span("GET /users/{id}/balances")
    call = telemetry.span(f"plaid {GET}")
    sent = telemetry.span(f"POST {GET}")
    assert call.parent is not None
    assert request.context is not None
    assert call.parent.span_id == request.context.span_id
    assert call.context is not None
    assert sent.parent is not None
    assert sent.parent.span_id == call.context.span_id
    assert call.context.trace_id == sent.context.trace_id == request.context.trace_id
    assert call.kind == SpanKind.INTERNAL
    assert sent.kind == SpanKind.CLIENT
    assert dict(sent.attributes or {}) == {
        "http.request.method": "POST",
        "server.address": "production.plaid.com",
        "server.port": 443,
        "url.full": URL,
        "plaid.endpoint": GET,
        "plaid.attempt": 1,
        "plaid.timeout": 10.0,
        "http.response.status_code": 200,
        "plaid.request_id": "req-1",
    }
    assert dict(call.attributes or {}) == {
        "plaid.endpoint": GET,
        "plaid.item.fingerprint": ITEM,
        "plaid.outcome": "ok",
        "plaid.attempts": 1,
        "http.response.status_code": 200,
        "plaid.request_id": "req-1",
    }
    assert call.status.status_code == sent.status.status_code == StatusCode.UNSET


def test_a_retried_call_has_an_attempt_span_each_and_a_retry_event(
    telemetry: Telemetry,
) -> None:
    start(telemetry)
    attempt(
        telemetry, 1, outcome="error", status=429, error="RateLimitExceededError",
        error_code="RATE_LIMIT_EXCEEDED",
    )  # fmt: skip
    telemetry.observer(
        RetryScheduled(attempt=1, wait=0.25, reason="RATE_LIMIT_EXCEEDED", **common())
    )
    attempt(telemetry, 2, status=None, outcome="error", error="PlaidTimeoutError")
    telemetry.observer(RetryScheduled(attempt=2, wait=0.5, reason="PlaidTimeoutError", **common()))
    attempt(telemetry, 3)
    end(telemetry, attempts=3)

    call = telemetry.span(f"plaid {GET}")
    first, second, third = telemetry.spans(f"POST {GET}")
    assert [s.parent.span_id for s in (first, second, third) if s.parent] == [
        call.context.span_id
    ] * 3
    assert first.status.status_code == StatusCode.ERROR
    assert first.attributes is not None
    assert first.attributes["error.type"] == "429"  # the HTTP conventions: the status
    assert first.attributes["plaid.error_code"] == "RATE_LIMIT_EXCEEDED"
    assert second.attributes is not None
    assert second.attributes["error.type"] == "PlaidTimeoutError"  # no answer: the class
    assert "http.response.status_code" not in second.attributes
    assert second.attributes["http.request.resend_count"] == 1
    assert third.status.status_code == StatusCode.UNSET
    assert [(e.name, dict(e.attributes or {})) for e in call.events] == [
        (
            "plaid.retry",
            {
                "plaid.attempt": 1,
                "plaid.retry.wait": 0.25,
                "plaid.retry.reason": "RATE_LIMIT_EXCEEDED",
            },
        ),
        (
            "plaid.retry",
            {
                "plaid.attempt": 2,
                "plaid.retry.wait": 0.5,
                "plaid.retry.reason": "PlaidTimeoutError",
            },
        ),
    ]

    assert telemetry.value("plaid.client.retries", plaid__retry__reason="RATE_LIMIT_EXCEEDED") == 1
    assert telemetry.value("plaid.client.retries", plaid__retry__reason="PlaidTimeoutError") == 1
    assert (
        telemetry.value("plaid.client.rate_limited", plaid__error_code="RATE_LIMIT_EXCEEDED") == 1
    )
    assert telemetry.value("http.client.request.duration") == 3
    assert telemetry.value("http.client.request.duration", error__type="429") == 1
    assert telemetry.histogram_sum("plaid.client.call.attempts", plaid__outcome="ok") == 3
    assert telemetry.histogram_sum("plaid.client.call.duration", plaid__endpoint=GET) == 1.5


def test_a_failed_call_is_an_error_span_with_its_error_type(telemetry: Telemetry) -> None:
    start(telemetry)
    attempt(
        telemetry, 1, outcome="error", status=400, error="ItemError",
        error_code="ITEM_LOGIN_REQUIRED",
    )  # fmt: skip
    end(
        telemetry, outcome="error", status=400, error="ItemError",
        error_code="ITEM_LOGIN_REQUIRED",
    )  # fmt: skip
    call = telemetry.span(f"plaid {GET}")
    assert call.status.status_code == StatusCode.ERROR
    assert call.attributes is not None
    assert call.attributes["error.type"] == "ItemError"
    assert call.attributes["plaid.error_code"] == "ITEM_LOGIN_REQUIRED"
    assert call.attributes["http.response.status_code"] == 400
    assert telemetry.value("plaid.client.call.duration", error__type="ItemError") == 1
    assert telemetry.value("plaid.client.rate_limited") == 0


def test_a_cancelled_call_is_not_an_error(telemetry: Telemetry) -> None:
    start(telemetry)
    attempt(telemetry, 1, outcome="cancelled", status=None)
    end(telemetry, outcome="cancelled", status=None)
    for span in telemetry.spans():
        assert span.status.status_code == StatusCode.UNSET
        assert span.attributes is not None
        assert span.attributes["plaid.outcome"] == "cancelled"
    assert telemetry.value("plaid.client.call.duration", plaid__outcome="cancelled") == 1


def test_a_rate_limit_wait_is_a_span_of_its_own_and_a_histogram(telemetry: Telemetry) -> None:
    start(telemetry)
    telemetry.observer(RateLimitWaitStarted(attempt=1, **common()))
    telemetry.observer(RateLimitWaitEnded(attempt=1, duration=0.75, outcome="timeout", **common()))
    end(telemetry, attempts=0, outcome="error", status=None, error="RateLimitWaitTimeout")
    call = telemetry.span(f"plaid {GET}")
    wait = telemetry.span("plaid rate-limit wait")
    assert wait.parent is not None
    assert wait.parent.span_id == call.context.span_id
    assert wait.status.status_code == StatusCode.ERROR
    assert dict(wait.attributes or {}) == {
        "plaid.endpoint": GET,
        "plaid.attempt": 1,
        "plaid.rate_limit.outcome": "timeout",
    }
    waited = telemetry.histogram_sum(
        "plaid.client.rate_limit.wait.duration", plaid__rate_limit__outcome="timeout"
    )
    assert waited == 0.75
    assert telemetry.spans(f"POST {GET}") == []


def test_calls_in_flight_go_up_and_down(telemetry: Telemetry) -> None:
    start(telemetry, 1)
    start(telemetry, 2)
    telemetry.collect()
    assert telemetry.value("plaid.client.active_calls", plaid__endpoint=GET) == 2
    end(telemetry, call_id=2)
    end(telemetry, call_id=1)
    telemetry.collect()
    assert telemetry.value("plaid.client.active_calls", plaid__endpoint=GET) == 0


def test_events_of_a_call_it_did_not_see_start_are_ignored(telemetry: Telemetry) -> None:
    """Added while calls were running: their ends are not counted (the in-flight count would go
    below zero) and nothing is left open."""
    attempt(telemetry, 1, call_id=7)
    telemetry.observer(RateLimitWaitStarted(attempt=1, **common(7)))
    end(telemetry, call_id=7)
    assert telemetry.spans() == []
    assert telemetry.value("plaid.client.active_calls") == 0
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_a_step_left_open_is_closed_with_its_call(telemetry: Telemetry) -> None:
    start(telemetry)
    telemetry.observer(AttemptStarted(attempt=1, timeout=1.0, **common()))
    end(telemetry, outcome="cancelled", status=None)
    assert {s.name for s in telemetry.spans()} == {f"plaid {GET}", f"POST {GET}"}
    assert trace.get_current_span() is trace.INVALID_SPAN  # every context detached


def test_the_metric_names_are_the_documented_ones(telemetry: Telemetry) -> None:
    start(telemetry)
    telemetry.observer(RateLimitWaitStarted(attempt=1, **common()))
    telemetry.observer(RateLimitWaitEnded(attempt=1, duration=0.1, outcome="acquired", **common()))
    attempt(telemetry, 1, status=429, outcome="error", error="RateLimitExceededError")
    telemetry.observer(RetryScheduled(attempt=1, wait=0.1, reason="X", **common()))
    attempt(telemetry, 2)
    end(telemetry, attempts=2)
    telemetry.collect()
    assert {name for name in METRICS if telemetry.points(name)} == set(METRICS)


def test_instrument_adds_an_observer_that_can_be_removed() -> None:
    client = PlaidClient(CLIENT_ID, SECRET)
    observer = instrument(client)
    assert isinstance(observer, OpenTelemetryObserver)
    assert client.observers == (observer,)
    client.remove_observer(observer)
    assert not client.observers
