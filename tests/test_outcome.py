"""The broker-independent decision: done, retry later, or dead-letter, for every kind of outcome."""

from __future__ import annotations

import pytest

from plaid_async import (
    PlaidConnectionError,
    PlaidResponseError,
    PlaidTimeoutError,
    RateLimiterUnavailableError,
    RateLimitWaitTimeout,
    RetryPolicy,
)
from plaid_async.outcome import (
    Action,
    ApplicationError,
    DeliveryPolicy,
    decide,
    describe_error,
)
from plaid_async.protocol import error_from_response

POLICY = DeliveryPolicy(max_deliveries=3, backoff_initial=1.0, backoff_max=4.0)


def api_error(status: int, error_type: str, code: str) -> BaseException:
    body = f'{{"error_type":"{error_type}","error_code":"{code}","request_id":"r1"}}'
    return error_from_response(status, {}, body.encode())


TRANSIENT = [
    api_error(500, "API_ERROR", "INTERNAL_SERVER_ERROR"),
    api_error(429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT"),
    api_error(400, "ITEM_ERROR", "PRODUCT_NOT_READY"),
    api_error(400, "INSTITUTION_ERROR", "INSTITUTION_DOWN"),  # hours, says Plaid: not for good
    api_error(400, "INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING"),
    PlaidTimeoutError("timed out", timeout=1.0),
    PlaidConnectionError("reset"),
    PlaidResponseError("gateway", status=502, transient=True),
    RateLimitWaitTimeout("no budget in time", timeout=1.0),
    RateLimiterUnavailableError("Redis is down"),
    ApplicationError("handler", RuntimeError("db down")),
]
FINAL = [
    api_error(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED"),
    api_error(400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN"),
    api_error(400, "INSTITUTION_ERROR", "INSTITUTION_NO_LONGER_SUPPORTED"),
    api_error(429, "RATE_LIMIT_EXCEEDED", "CREDITS_EXHAUSTED"),
    PlaidResponseError("schema", status=200, transient=False),
]


def test_success_is_done() -> None:
    assert decide(None, deliveries=1, policy=POLICY).action is Action.DONE


@pytest.mark.parametrize("error", FINAL, ids=repr)
def test_a_final_failure_is_done_whatever_the_deliveries(error: BaseException) -> None:
    for deliveries in (1, 3):
        decision = decide(error, deliveries=deliveries, policy=POLICY)
        assert decision.action is Action.DONE
        assert decision.reason.startswith("failed for good")
        assert decision.retry_in is None


@pytest.mark.parametrize("error", TRANSIENT, ids=repr)
def test_a_transient_failure_is_retried_then_dead_lettered_at_the_limit(
    error: BaseException,
) -> None:
    for deliveries in (1, 2):
        decision = decide(error, deliveries=deliveries, policy=POLICY)
        assert decision.action is Action.RETRY
        assert decision.retry_in is not None
        assert 0 < decision.retry_in <= 4.0
    last = decide(error, deliveries=3, policy=POLICY)
    assert last.action is Action.DEAD_LETTER
    assert last.reason.startswith("delivered 3 times, the limit: last error")


def test_retry_timeouts_false_makes_a_timeout_final_but_not_a_wait_for_budget() -> None:
    retry = RetryPolicy(retry_timeouts=False)
    timeout = PlaidTimeoutError("timed out", timeout=1.0)
    assert decide(timeout, deliveries=1, retry=retry).action is Action.DONE
    waited = RateLimitWaitTimeout("no budget", timeout=1.0)  # nothing was sent, nothing billed
    assert decide(waited, deliveries=1, retry=retry).action is Action.RETRY


def test_a_bad_message_is_dead_lettered_at_once() -> None:
    decision = decide(None, deliveries=1, bad_message="no item field")
    assert decision.action is Action.DEAD_LETTER
    assert decision.reason == "bad message: no item field"


def test_backoff_doubles_and_is_jittered_within_half_and_all_of_its_ceiling() -> None:
    waits = [POLICY.backoff(n) for n in (1, 2, 3, 10) for _ in range(50)]
    assert all(0.5 <= w <= 4.0 for w in waits)
    assert max(POLICY.backoff(1) for _ in range(50)) <= 1.0
    assert min(POLICY.backoff(10) for _ in range(50)) >= 2.0


def test_the_reason_never_holds_a_hidden_string_and_is_short() -> None:
    token = "access-sandbox-0000"
    error = ApplicationError("handler", ValueError(f"cannot save {token} " + "x" * 1000))
    text = describe_error(error, hide=(token,))
    assert token not in text
    assert "[redacted]" in text
    assert len(text) <= 300
    decision = decide(error, deliveries=3, policy=POLICY, hide=(token,))
    assert token not in decision.reason


def test_plaid_errors_are_described_by_type_and_code() -> None:
    text = describe_error(api_error(500, "API_ERROR", "INTERNAL_SERVER_ERROR"))
    assert text == "API_ERROR/INTERNAL_SERVER_ERROR (HTTP 500)"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_deliveries": 0}, ValueError),
        ({"max_deliveries": 1.5}, TypeError),
        ({"backoff_initial": 0}, ValueError),
        ({"backoff_max": float("nan")}, ValueError),
        ({"backoff_initial": 5.0, "backoff_max": 1.0}, ValueError),
    ],
)
def test_delivery_policy_refuses_bad_values(kwargs: dict[str, float], error: type) -> None:
    with pytest.raises(error, match=r"max_deliveries|backoff"):
        DeliveryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["INSTITUTION_DOWN", "INSTITUTION_NOT_RESPONDING"])
def test_the_queue_and_a_refresh_rerun_agree_on_an_institution_outage(code: str) -> None:
    """What a re-run of ``plaid-async refresh`` fetches again, a consumer delivers again."""
    from plaid_async.cli.results import worth_retrying

    error = api_error(400, "INSTITUTION_ERROR", code)
    assert worth_retrying(error)
    assert decide(error, deliveries=1, policy=POLICY).action is Action.RETRY
