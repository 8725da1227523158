"""Events, spans and metrics of real calls against the emulator on loopback, read through the real
OpenTelemetry SDK, checked against the emulator's own counters; and no secret in any of it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from typing import Any

import attrs
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from plaid_async import (
    ItemError,
    LocalRateLimiter,
    PlaidClient,
    PlaidConnectionError,
    PlaidError,
    PlaidTimeoutError,
    RateLimitWaitTimeout,
    RetryPolicy,
)
from plaid_async._redact import fingerprint
from plaid_async.events import AttemptEnded, AttemptStarted, Event, Recorder, observe
from plaid_async.sandbox import SandboxServer
from tests.integration.rawserver import Server
from tests.integration.test_leaks import NEEDLES, echo_everything, slow_when_asked
from tests.samples import CLIENT_ID, SECRET, TOKEN
from tests.telemetry import Telemetry

FAST = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.005, deadline=5.0)
GET = "/accounts/get"
BALANCE = "/accounts/balance/get"


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


def client_for(sandbox: SandboxServer, telemetry: Telemetry, **kwargs: Any) -> PlaidClient:
    kwargs.setdefault("retry", FAST)
    return sandbox.client(observers=[telemetry.observer], **kwargs)


def parent_id(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def assert_counts_match_the_emulator(telemetry: Telemetry, sandbox: SandboxServer) -> None:
    """Requests sent and their statuses, as the metrics count them and as the emulator saw
    them."""
    stats = sandbox.stats
    telemetry.collect()
    assert telemetry.value("http.client.request.duration") == stats.requests
    for status, count in stats.by_status.items():
        counted = telemetry.value(
            "http.client.request.duration", http__response__status_code=status
        )
        assert counted == count, status
    assert telemetry.value("plaid.client.rate_limited") == stats.by_status.get(429, 0)
    for path, count in stats.by_path.items():
        assert telemetry.value("http.client.request.duration", plaid__endpoint=path) == count


async def test_a_call_is_traced_inside_the_callers_span(
    plaid_sandbox: SandboxServer, telemetry: Telemetry
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("app")
    token = plaid_sandbox.token(1)
    async with client_for(plaid_sandbox, telemetry) as client:
        with tracer.start_as_current_span("GET /balances"):
            resp = await client.accounts_balance_get(token)
    request = telemetry.span("GET /balances")
    call = telemetry.span(f"plaid {BALANCE}")
    sent = telemetry.span(f"POST {BALANCE}")
    assert parent_id(call) == span_id(request)
    assert parent_id(sent) == span_id(call)
    assert sent.attributes is not None
    assert sent.attributes["url.full"] == plaid_sandbox.url + BALANCE
    assert sent.attributes["server.port"] == plaid_sandbox.port
    assert sent.attributes["http.response.status_code"] == 200
    assert sent.attributes["plaid.request_id"] == resp.request_id
    assert call.attributes is not None
    assert call.attributes["plaid.item.fingerprint"] == fingerprint(token)
    assert call.attributes["plaid.attempts"] == 1
    assert call.attributes["plaid.outcome"] == "ok"
    assert telemetry.value("plaid.client.call.duration", plaid__outcome="ok") == 1
    assert_counts_match_the_emulator(telemetry, plaid_sandbox)


async def test_a_retried_call_has_a_span_per_request_and_counts_its_retries(
    plaid_sandbox: SandboxServer, telemetry: Telemetry
) -> None:
    plaid_sandbox.enqueue("500", "429", "ok")
    async with client_for(plaid_sandbox, telemetry) as client:
        with observe(Recorder()) as seen:
            await client.accounts_get(plaid_sandbox.token(1))
    (ended,) = seen.calls
    assert ended.attempts == 3 == plaid_sandbox.stats.requests  # what the caller can learn
    call = telemetry.span(f"plaid {GET}")
    sent = telemetry.spans(f"POST {GET}")
    assert [parent_id(s) for s in sent] == [span_id(call)] * 3
    assert [s.attributes["http.response.status_code"] for s in sent if s.attributes] == [
        500,
        429,
        200,
    ]
    assert [s.status.status_code for s in sent] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    reasons = [e.attributes["plaid.retry.reason"] for e in call.events if e.attributes]
    assert reasons == ["INTERNAL_SERVER_ERROR", plaid_sandbox.faults.code_429]
    for reason, count in Counter(plaid_sandbox.stats.errors).items():
        assert telemetry.value("plaid.client.retries", plaid__retry__reason=reason) == count
    assert telemetry.histogram_sum("plaid.client.call.attempts") == 3
    assert_counts_match_the_emulator(telemetry, plaid_sandbox)


async def test_timed_out_attempts_are_error_spans_with_no_status(
    plaid_sandbox: SandboxServer, telemetry: Telemetry
) -> None:
    plaid_sandbox.enqueue("hang", "hang")
    async with client_for(
        plaid_sandbox,
        telemetry,
        retry=RetryPolicy(max_attempts=2, wait_initial=0.001, wait_max=0.001),
        timeouts={GET: 0.2},
    ) as client:
        with pytest.raises(PlaidTimeoutError):
            await client.accounts_get(plaid_sandbox.token(1))
    sent = telemetry.spans(f"POST {GET}")
    assert len(sent) == 2 == plaid_sandbox.stats.requests
    for span in sent:
        assert span.attributes is not None
        assert span.attributes["error.type"] == "PlaidTimeoutError"
        assert span.attributes["plaid.timeout"] == 0.2
        assert "http.response.status_code" not in span.attributes
    call = telemetry.span(f"plaid {GET}")
    assert call.status.status_code == StatusCode.ERROR
    assert call.attributes is not None
    assert call.attributes["error.type"] == "PlaidTimeoutError"
    assert telemetry.value("plaid.client.retries", plaid__retry__reason="PlaidTimeoutError") == 1
    assert_counts_match_the_emulator(telemetry, plaid_sandbox)


async def test_the_deadline_cuts_the_attempt_and_no_other_starts(
    plaid_sandbox: SandboxServer, telemetry: Telemetry
) -> None:
    plaid_sandbox.enqueue("hang")
    retry = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001, deadline=0.3)
    async with client_for(plaid_sandbox, telemetry, retry=retry) as client:
        with pytest.raises(PlaidTimeoutError, match="deadline"):
            await client.accounts_get(plaid_sandbox.token(1))
    (sent,) = telemetry.spans(f"POST {GET}")
    assert sent.attributes is not None
    assert 0 < float(sent.attributes["plaid.timeout"]) <= 0.3  # type: ignore[arg-type]
    call = telemetry.span(f"plaid {GET}")
    assert call.attributes is not None
    assert call.attributes["plaid.attempts"] == 1
    assert call.attributes["error.type"] == "PlaidTimeoutError"
    assert plaid_sandbox.stats.requests == 1


async def test_rate_limit_waits_are_spans_of_the_call_and_timed(
    plaid_sandbox: SandboxServer, telemetry: Telemetry
) -> None:
    limiter = LocalRateLimiter(5)  # one request every 0.2 s
    token = plaid_sandbox.token(1)
    async with client_for(plaid_sandbox, telemetry, rate_limiter=limiter) as client:
        for _ in range(3):
            await client.accounts_get(token)
    hurried = RetryPolicy(max_attempts=1, deadline=0.05)  # less than the 0.2 s to wait
    async with client_for(plaid_sandbox, telemetry, rate_limiter=limiter, retry=hurried) as client:
        with pytest.raises(RateLimitWaitTimeout):
            await client.accounts_get(token)
    calls = telemetry.spans(f"plaid {GET}")
    waits = telemetry.spans("plaid rate-limit wait")
    assert len(calls) == len(waits) == 4
    assert [parent_id(w) for w in waits] == [span_id(c) for c in calls]
    outcomes = [w.attributes["plaid.rate_limit.outcome"] for w in waits if w.attributes]
    assert outcomes == ["acquired"] * 3 + ["timeout"]
    assert plaid_sandbox.stats.requests == 3
    waited = telemetry.histogram_sum(
        "plaid.client.rate_limit.wait.duration", plaid__rate_limit__outcome="acquired"
    )
    assert waited >= 0.3  # at 5 a second, the second and third waited about 0.2 s each
    last = calls[-1]
    assert last.attributes is not None
    assert last.attributes["plaid.attempts"] == 0  # nothing was sent
    assert last.attributes["error.type"] == "RateLimitWaitTimeout"
    assert telemetry.children(last) == [waits[-1]]


async def test_a_batch_reports_each_item_as_a_call_under_the_callers_span(
    plaid_sandbox: SandboxServer, telemetry: Telemetry
) -> None:
    tokens = [plaid_sandbox.token(n) for n in range(4)]
    tokens.append(plaid_sandbox.error_token("ITEM_LOGIN_REQUIRED"))
    plaid_sandbox.enqueue("503")
    tracer = telemetry.tracer_provider.get_tracer("app")
    async with client_for(plaid_sandbox, telemetry) as client:
        with tracer.start_as_current_span("nightly refresh"), observe(Recorder()) as seen:
            results = [r async for r in client.accounts_balance_get_many(tokens, concurrency=2)]
    batch = telemetry.span("nightly refresh")
    calls = telemetry.spans(f"plaid {BALANCE}")
    assert len(calls) == len(tokens)
    assert {parent_id(c) for c in calls} == {span_id(batch)}
    by_item = {c.attributes["plaid.item.fingerprint"]: c for c in calls if c.attributes}
    assert set(by_item) == {fingerprint(t) for t in tokens}
    ended = {e.item: e for e in seen.calls}
    for result in results:
        call = by_item[fingerprint(result.access_token)]
        assert call.attributes is not None
        assert call.attributes["plaid.attempts"] == result.attempts
        assert ended[fingerprint(result.access_token)].attempts == result.attempts
        assert len([s for s in telemetry.children(call) if s.name.startswith("POST")]) == (
            result.attempts
        )
        assert (call.status.status_code == StatusCode.ERROR) == (not result.ok)
    failed = by_item[fingerprint(tokens[-1])]
    assert failed.attributes is not None
    assert failed.attributes["plaid.error_code"] == "ITEM_LOGIN_REQUIRED"
    assert telemetry.value("plaid.client.call.duration", plaid__outcome="ok") == 4
    assert telemetry.value("plaid.client.call.duration", error__type="ItemError") == 1
    assert telemetry.value("plaid.client.retries") == sum(r.attempts - 1 for r in results) == 1
    assert_counts_match_the_emulator(telemetry, plaid_sandbox)
    telemetry.collect()
    assert telemetry.value("plaid.client.active_calls") == 0


# -- an observer that raises ---------------------------------------------------------------


async def test_an_observer_that_raises_breaks_no_call_and_is_logged_once(
    plaid_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError(f"observer bug on {type(event).__name__}")

    seen = Recorder()
    caplog.set_level(logging.DEBUG)
    plaid_sandbox.enqueue("500", "ok")
    async with plaid_sandbox.client(retry=FAST, observers=[broken, seen]) as client:
        await client.accounts_get(plaid_sandbox.token(1))
        with pytest.raises(ItemError):
            await client.accounts_get(plaid_sandbox.error_token("ITEM_LOGIN_REQUIRED"))
    assert [e.attempts for e in seen.calls] == [2, 1]
    logged = [r for r in caplog.records if r.name == "plaid_async.events"]
    assert len(logged) == 1
    assert "broken" in logged[0].getMessage()


async def test_a_cancelled_call_ends_its_spans_as_cancelled(
    plaid_sandbox: SandboxServer, telemetry: Telemetry
) -> None:
    plaid_sandbox.enqueue("hang")
    async with client_for(plaid_sandbox, telemetry) as client:
        with observe(Recorder()) as seen, pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.accounts_get(plaid_sandbox.token(1)), 0.2)
    (ended,) = seen.calls
    assert (ended.outcome, ended.attempts) == ("cancelled", 1)
    attempt = [e for e in seen.events if isinstance(e, AttemptEnded)]
    assert [e.outcome for e in attempt] == ["cancelled"]
    for span in telemetry.spans():
        assert span.attributes is not None
        assert span.attributes["plaid.outcome"] == "cancelled"
        assert span.status.status_code == StatusCode.UNSET
    telemetry.collect()
    assert telemetry.value("plaid.client.active_calls") == 0


async def test_a_call_ended_by_closing_the_client_reports_that_error(
    plaid_sandbox: SandboxServer,
) -> None:
    plaid_sandbox.enqueue("hang")
    seen = Recorder()
    sending = asyncio.Event()

    def on_attempt(event: Event) -> None:
        if isinstance(event, AttemptStarted):
            sending.set()

    client = plaid_sandbox.client(retry=FAST, observers=[seen, on_attempt])
    call = asyncio.create_task(client.accounts_get(plaid_sandbox.token(1)))
    await sending.wait()
    await client.aclose()
    with pytest.raises(PlaidConnectionError):
        await call
    (ended,) = seen.calls
    assert (ended.outcome, ended.error) == ("error", "PlaidConnectionError")


# -- no secret anywhere ------------------------------------------------------------------


def assert_no_secret(telemetry: Telemetry, events: list[Event]) -> None:
    assert telemetry.spans(), "the call was traced"
    assert events, "the call was observed"
    texts = list(telemetry.everything())
    texts += [repr(e) for e in events]
    texts += [json.dumps(_fields(e)) for e in events]
    for text in texts:
        for needle in NEEDLES:
            assert needle not in text, f"leaked into: {text[:200]}"


def _fields(event: Event) -> dict[str, Any]:
    return attrs.asdict(event)


@pytest.mark.parametrize(
    "script",
    [
        ["ok"],  # success
        ["500", "ok"],  # a Plaid error (echoing the request back), retried
        ["item"],  # a Plaid error that is not retried
        ["html", "html", "html"],  # a gateway's page quoting the request
        ["badjson", "badjson", "badjson"],  # a bad body
        ["schema"],  # a body that does not fit
        ["hang", "hang"],  # timeouts
    ],
)
async def test_no_secret_in_spans_metrics_or_events(script: list[str]) -> None:
    telemetry = Telemetry()
    server = Server(slow_when_asked(echo_everything(list(script))))
    await server.start()
    try:
        async with PlaidClient(
            CLIENT_ID,
            SECRET,
            base_url=server.url,
            retry=RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001),
            timeouts={BALANCE: 0.2},
            rate_limiter=1000,
            observers=[telemetry.observer],
        ) as client:
            with observe(Recorder()) as seen, contextlib.suppress(PlaidError):
                await client.accounts_balance_get(TOKEN, account_ids=["acc-1"])
    finally:
        await server.stop()
    assert server.peers, "the request was made"
    (ended,) = seen.calls
    assert ended.item == fingerprint(TOKEN)
    assert_no_secret(telemetry, seen.events)


async def test_no_secret_when_the_connection_is_refused() -> None:
    telemetry = Telemetry()
    server = Server()
    await server.start()
    url = server.url
    await server.stop()
    retry = RetryPolicy(max_attempts=2, wait_initial=0.001, wait_max=0.001)
    async with PlaidClient(
        CLIENT_ID, SECRET, base_url=url, retry=retry, observers=[telemetry.observer]
    ) as client:
        with observe(Recorder()) as seen, pytest.raises(PlaidConnectionError):
            await client.accounts_get(TOKEN)
    assert [e.error for e in seen.calls] == ["PlaidConnectionError"]
    assert_no_secret(telemetry, seen.events)
