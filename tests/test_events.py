"""The event API without a network: what a call's report delivers, who receives it, and an
observer that raises."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import weakref
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from plaid_async import (
    PlaidClient,
    PlaidConnectionError,
    PlaidResponseError,
    PlaidTimeoutError,
    RetryPolicy,
)
from plaid_async._observe import CallReport, ObserverList, deliver
from plaid_async.events import (
    AttemptEnded,
    AttemptStarted,
    CallEnded,
    CallStarted,
    Event,
    Observer,
    RateLimitWaitEnded,
    RateLimitWaitStarted,
    Recorder,
    RetryScheduled,
    observe,
)
from plaid_async.models import AccountsGetResponse
from plaid_async.protocol import error_from_response
from plaid_async.testing import MockTransport, Request
from tests.samples import CLIENT_ID, SECRET, TOKEN, error_doc

BASE = "https://sandbox.plaid.com"
URL = BASE + "/accounts/get"


def api_error(status: int, error_type: str, code: str) -> Exception:
    return error_from_response(status, {}, json.dumps(error_doc(error_type, code)).encode())


def response(request_id: str = "req-ok") -> AccountsGetResponse:
    return AccountsGetResponse(accounts=(), item=None, request_id=request_id)


def report_to(*observers: Observer) -> CallReport:
    return CallReport(observers, "/accounts/get", hashlib.sha256(TOKEN.encode()).hexdigest(), URL)


def test_a_retried_call_reports_every_step_in_order() -> None:
    seen = Recorder()
    report = report_to(seen)
    report.wait_started()
    report.wait_ended("acquired")
    report.attempt_started(10.0)
    report.attempt_ended(None, error=api_error(500, "API_ERROR", "INTERNAL_SERVER_ERROR"))
    report.retry_scheduled(0.25, api_error(500, "API_ERROR", "INTERNAL_SERVER_ERROR"))
    report.attempt_started(9.5)
    report.attempt_ended(200, response("req-2"))
    report.call_ended(response("req-2"))

    kinds = [type(e) for e in seen.events]
    assert kinds == [
        CallStarted,
        RateLimitWaitStarted,
        RateLimitWaitEnded,
        AttemptStarted,
        AttemptEnded,
        RetryScheduled,
        AttemptStarted,
        AttemptEnded,
        CallEnded,
    ]
    assert {e.call_id for e in seen.events} == {report.call_id}
    assert {e.item for e in seen.events} == {hashlib.sha256(TOKEN.encode()).hexdigest()}
    started, wait_start, wait_end, first, failed, retry, second, ok, ended = seen.events
    assert isinstance(started, CallStarted)
    assert started.url == URL
    assert isinstance(wait_start, RateLimitWaitStarted)
    assert wait_start.attempt == 1
    assert isinstance(wait_end, RateLimitWaitEnded)
    assert wait_end.outcome == "acquired"
    assert wait_end.duration >= 0
    assert isinstance(first, AttemptStarted)
    assert (first.attempt, first.timeout) == (1, 10.0)
    assert isinstance(failed, AttemptEnded)
    assert (failed.outcome, failed.status, failed.error, failed.error_code, failed.request_id) == (
        "error",
        500,
        "APIError",
        "INTERNAL_SERVER_ERROR",
        "req-internal_server_error",
    )
    assert retry == RetryScheduled(
        call_id=report.call_id,
        endpoint="/accounts/get",
        item=started.item,
        attempt=1,
        wait=0.25,
        reason="INTERNAL_SERVER_ERROR",
    )
    assert isinstance(second, AttemptStarted)
    assert second.attempt == 2
    assert isinstance(ok, AttemptEnded)
    assert (ok.outcome, ok.status, ok.error, ok.request_id) == ("ok", 200, None, "req-2")
    assert isinstance(ended, CallEnded)
    assert (ended.outcome, ended.attempts, ended.status, ended.request_id) == (
        "ok",
        2,
        200,
        "req-2",
    )
    assert ended.duration >= ok.duration


@pytest.mark.parametrize(
    ("error", "details"),
    [
        (PlaidTimeoutError("no answer", timeout=1.0), (None, "PlaidTimeoutError", None, None)),
        (PlaidConnectionError("refused"), (None, "PlaidConnectionError", None, None)),
        (
            PlaidResponseError("html", status=502, transient=True),
            (502, "PlaidResponseError", None, None),
        ),
        (  # a malformed status line: no status to tell
            PlaidResponseError("malformed", status=0, transient=False),
            (None, "PlaidResponseError", None, None),
        ),
        (
            api_error(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED"),
            (400, "ItemError", "ITEM_LOGIN_REQUIRED", "req-item_login_required"),
        ),
    ],
)
def test_a_failed_call_reports_what_its_error_says(
    error: Exception, details: tuple[object, ...]
) -> None:
    seen = Recorder()
    report = report_to(seen)
    report.attempt_started(1.0)
    report.attempt_ended(None, error=error)
    report.call_ended(error=error)
    attempt, call = seen.events[-2:]
    assert isinstance(attempt, AttemptEnded)
    assert isinstance(call, CallEnded)
    for event in (attempt, call):
        assert event.outcome == "error"
        assert (event.status, event.error, event.error_code, event.request_id) == details
    assert call.attempts == 1


def test_another_exceptions_attributes_are_not_read() -> None:
    """Only this package's errors are read for a status or a code: anything else (a limiter's
    exception, a bug) gives its class name alone."""
    error = RuntimeError("boom")
    error.status = 418  # type: ignore[attr-defined]
    error.error_code = TOKEN  # type: ignore[attr-defined]
    seen = Recorder()
    report_to(seen).call_ended(error=error)
    (_, ended) = seen.events
    assert isinstance(ended, CallEnded)
    assert (ended.error, ended.status, ended.error_code) == ("RuntimeError", None, None)


def test_cancellation_is_its_own_outcome_not_an_error() -> None:
    seen = Recorder()
    report = report_to(seen)
    report.attempt_started(1.0)
    report.attempt_ended(None, error=asyncio.CancelledError())
    report.call_ended(error=asyncio.CancelledError())
    attempt, call = seen.events[-2:]
    assert isinstance(attempt, AttemptEnded)
    assert isinstance(call, CallEnded)
    assert (attempt.outcome, attempt.error) == ("cancelled", None)
    assert (call.outcome, call.error) == ("cancelled", None)


def test_a_retry_without_an_error_code_gives_the_error_class_as_reason() -> None:
    seen = Recorder()
    report_to(seen).retry_scheduled(0.1, PlaidTimeoutError("slow", timeout=1.0))
    retry = seen.events[-1]
    assert isinstance(retry, RetryScheduled)
    assert retry.reason == "PlaidTimeoutError"


def test_events_are_frozen_and_keyword_only() -> None:
    event = CallStarted(call_id=1, endpoint="/accounts/get", item="ab", url=URL)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.endpoint = "/x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        CallStarted(1, "/accounts/get", "ab", URL)  # type: ignore[call-arg]


def test_call_ids_tell_calls_apart() -> None:
    assert report_to().call_id != report_to().call_id


# -- who hears a call ------------------------------------------------------------------------


def test_nobody_listening_means_no_report() -> None:
    assert ObserverList().report("/accounts/get", TOKEN, BASE) is None


def test_observe_reaches_calls_in_its_block_and_its_tasks_only() -> None:
    observers = ObserverList()

    async def main() -> None:
        with observe(Recorder()) as seen:
            inside = observers.report("/accounts/get", TOKEN, BASE)

            async def in_a_task() -> CallReport | None:
                return observers.report("/accounts/get", TOKEN, BASE)

            from_task = await asyncio.create_task(in_a_task())
        outside = observers.report("/accounts/get", TOKEN, BASE)
        assert inside is not None
        assert from_task is not None
        assert outside is None
        assert len(seen.calls) == 0
        assert [type(e) for e in seen.events] == [CallStarted, CallStarted]

    asyncio.run(main())


def test_observe_blocks_nest_and_add_to_the_clients_observers() -> None:
    on_client, outer, inner = Recorder(), Recorder(), Recorder()
    observers = ObserverList([on_client])
    with observe(outer):
        with observe(inner):
            observers.report("/accounts/get", TOKEN, BASE)
        observers.report("/accounts/get", TOKEN, BASE)
    assert (len(on_client.events), len(outer.events), len(inner.events)) == (2, 2, 1)


def test_observe_wants_a_callable() -> None:
    not_callable: Any = 5
    with pytest.raises(TypeError, match="observer must be callable"), observe(not_callable):
        pass


def test_observers_on_a_client_are_checked_added_and_removed() -> None:
    first, second = Recorder(), Recorder()
    client = PlaidClient(CLIENT_ID, SECRET, observers=[first])
    assert client.observers == (first,)
    client.add_observer(second)
    assert list(client.observers) == [first, second]
    client.remove_observer(first)
    assert list(client.observers) == [second]
    with pytest.raises(ValueError, match="not registered"):
        client.remove_observer(first)
    with pytest.raises(TypeError, match="must be callable"):
        client.add_observer("print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="observers must be an iterable"):
        PlaidClient(CLIENT_ID, SECRET, observers=print)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be callable"):
        PlaidClient(CLIENT_ID, SECRET, observers=[None])  # type: ignore[list-item]


def test_recorder_calls_are_the_call_ended_events() -> None:
    seen = Recorder()
    report = report_to(seen)
    report.attempt_started(1.0)
    report.attempt_ended(200, response())
    report.call_ended(response())
    (ended,) = seen.calls
    assert ended.attempts == 1


# -- an observer that raises -----------------------------------------------------------------


def test_an_observer_that_raises_is_skipped_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(event: Event) -> None:
        raise KeyError(event.endpoint)

    after = Recorder()
    caplog.set_level(logging.DEBUG, logger="plaid_async.events")
    for _ in range(3):
        report = report_to(broken, after)
        report.attempt_started(1.0)
        report.call_ended(response())
    assert len(after.events) == 9  # everyone after it still hears everything
    records = [r for r in caplog.records if r.name == "plaid_async.events"]
    assert len(records) == 1
    assert "broken" in records[0].getMessage()
    assert "CallStarted" in records[0].getMessage()
    assert records[0].exc_info is not None


def test_an_unhashable_observer_that_raises_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @attrs.define  # eq=True, so unhashable
    class Unhashable:
        calls: int = 0

        def __call__(self, event: Event) -> None:
            self.calls += 1
            raise ValueError("no")

    observer = Unhashable()
    caplog.set_level(logging.DEBUG, logger="plaid_async.events")
    event = CallStarted(call_id=1, endpoint="/accounts/get", item="ab", url=URL)
    deliver([observer], event)
    deliver([observer], event)
    assert observer.calls == 2
    assert len([r for r in caplog.records if r.name == "plaid_async.events"]) == 1


def test_observers_made_per_request_that_raise_are_logged_once_and_not_kept_alive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A web app that makes a (broken) observer per request logs one error, not one per
    request, and the observers, with all they hold, are freed with their requests."""

    def per_request(request: object) -> Callable[[Event], None]:
        def observer(event: Event) -> None:
            raise RuntimeError(f"cannot record {request!r}")

        return observer

    caplog.set_level(logging.DEBUG, logger="plaid_async.events")
    event = CallStarted(call_id=1, endpoint="/accounts/get", item="ab", url=URL)
    freed = []
    for _ in range(50):
        observer = per_request(bytearray(1000))
        deliver([observer], event)
        freed.append(weakref.ref(observer))
        del observer
    assert len([r for r in caplog.records if r.name == "plaid_async.events"]) == 1
    gc.collect()
    # The first is held by the traceback of the log record pytest keeps; none other is.
    assert [ref() for ref in freed[1:]] == [None] * 49


def test_a_base_exception_from_an_observer_is_not_swallowed() -> None:
    def interrupt(event: Event) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        report_to(interrupt)


# -- the pipeline's events, without a server -------------------------------------------------


async def test_the_pipeline_reports_a_retried_call_through_any_transport() -> None:
    answers: list[tuple[int, dict[str, str], object]] = [
        (500, {}, error_doc("API_ERROR", "INTERNAL_SERVER_ERROR")),
        (200, {}, {"accounts": [], "item": None, "request_id": "req-ok"}),
    ]
    transport = MockTransport(lambda request: answers.pop(0))
    seen = Recorder()
    retry = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001)
    async with PlaidClient(
        CLIENT_ID, SECRET, transport=transport, retry=retry, rate_limiter=1000, observers=[seen]
    ) as client:
        await client.accounts_get(TOKEN)
    assert [type(e).__name__ for e in seen.events] == [
        "CallStarted",
        "RateLimitWaitStarted",
        "RateLimitWaitEnded",
        "AttemptStarted",
        "AttemptEnded",
        "RetryScheduled",
        "RateLimitWaitStarted",
        "RateLimitWaitEnded",
        "AttemptStarted",
        "AttemptEnded",
        "CallEnded",
    ]
    started = seen.events[0]
    assert isinstance(started, CallStarted)
    assert started.url == URL
    (ended,) = seen.calls
    assert (ended.attempts, ended.status, ended.request_id) == (2, 200, "req-ok")
    assert ended.item == hashlib.sha256(TOKEN.encode()).hexdigest()


async def test_the_deadline_ends_the_attempt_in_flight_and_no_other_starts() -> None:
    async def slow(request: Request) -> tuple[int, dict[str, str], object]:
        await asyncio.sleep(1)
        raise AssertionError("not reached: the attempt times out first")

    seen = Recorder()
    retry = RetryPolicy(max_attempts=5, wait_initial=0.001, wait_max=0.001, deadline=0.05)
    async with PlaidClient(
        CLIENT_ID, SECRET, transport=MockTransport(slow), retry=retry, observers=[seen]
    ) as client:
        with pytest.raises(PlaidTimeoutError, match="deadline"):
            await client.accounts_get(TOKEN)
    (ended,) = seen.calls
    assert ended.attempts == 1
    assert ended.error == "PlaidTimeoutError"
    attempts = [e for e in seen.events if isinstance(e, AttemptEnded)]
    assert [e.error for e in attempts] == ["PlaidTimeoutError"]


async def test_with_no_observer_no_event_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cheap path: nobody listening, no report, nothing delivered."""
    delivered: list[Event] = []
    monkeypatch.setattr("plaid_async._observe.deliver", lambda obs, event: delivered.append(event))
    transport = MockTransport(
        lambda request: (200, {}, {"accounts": [], "item": None, "request_id": "r"})
    )
    async with PlaidClient(CLIENT_ID, SECRET, transport=transport) as client:
        await client.accounts_get(TOKEN)
        assert delivered == []
        with observe(Recorder()):
            await client.accounts_get(TOKEN)
    assert len(delivered) == 4  # CallStarted, AttemptStarted, AttemptEnded, CallEnded
