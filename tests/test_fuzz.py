"""Fuzzing the response path: whatever a server sends, only a PlaidError comes out.

Arbitrary bytes, arbitrary JSON, and JSON made to look like Plaid's answers and error objects
with the wrong types in every field, under any status and any headers (``Retry-After``
included), through ``decode_response`` and ``error_from_response``. A modest number of
examples by default; ``-m slow`` runs many more.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plaid_async import AccountsGetResponse, PlaidAPIError, PlaidError, PlaidResponseError
from plaid_async.protocol import decode_response, error_from_response
from tests.samples import SECRET, TOKEN, response_doc

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)


def plaid_like(fields: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Plaid's field names, each with a value of any JSON type, some of them missing."""
    return st.fixed_dictionaries(
        {}, optional={name: JSON | st.just(v) for name, v in fields.items()}
    )


_DOC = response_doc()
ACCOUNT = plaid_like({**_DOC["accounts"][0], "balances": None})
BALANCES = plaid_like(_DOC["accounts"][0]["balances"])
ITEM = plaid_like(_DOC["item"])
RESPONSES = st.fixed_dictionaries(
    {},
    optional={
        "accounts": st.lists(
            ACCOUNT | st.builds(lambda a, b: {**a, "balances": b}, ACCOUNT, BALANCES | JSON),
            max_size=3,
        )
        | JSON,
        "item": ITEM | JSON,
        "request_id": JSON,
    },
)
ERRORS = plaid_like(
    {
        "error_type": "ITEM_ERROR",
        "error_code": "ITEM_LOGIN_REQUIRED",
        "error_message": "m",
        "display_message": None,
        "request_id": "r",
        "causes": [],
        "status": 400,
        "documentation_url": "https://plaid.com/docs/",
        "suggested_action": None,
    }
)
BODIES = (
    st.binary(max_size=300)
    | JSON.map(lambda v: json.dumps(v).encode())
    | RESPONSES.map(lambda v: json.dumps(v).encode())
    | ERRORS.map(lambda v: json.dumps(v).encode())
    | st.sampled_from([b"NaN", b'{"accounts": [], "x": Infinity}', b"[" * 5000, b"\xff"])
)
RETRY_AFTER = (
    st.text(max_size=40)
    | st.floats().map(str)
    | st.integers().map(str)
    | st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    | st.sampled_from(["Mon, 01 Jan 0001 00:00:00 -2359", "Fri, 31 Dec 9999 23:59:59 +2359"])
)
HEADERS = st.dictionaries(
    st.sampled_from(["Retry-After", "retry-after", "Content-Type", "X-Other"]),
    RETRY_AFTER,
    max_size=3,
)
STATUSES = st.integers(min_value=0, max_value=999) | st.integers()


def check_response_path(status: int, headers: dict[str, str], body: bytes) -> None:
    secrets = (SECRET, TOKEN)
    outcome: object
    try:
        outcome = decode_response(status, headers, body, AccountsGetResponse, secrets=secrets)
    except PlaidError as exc:  # anything else fails the test
        outcome = exc
    if 200 <= status < 300:
        assert isinstance(outcome, AccountsGetResponse | PlaidResponseError)
    else:
        assert isinstance(outcome, PlaidAPIError | PlaidResponseError)
    error = error_from_response(status, headers, body, secrets=secrets)
    assert isinstance(error, PlaidAPIError | PlaidResponseError)
    assert str(error)  # formatting an error must not raise either
    assert repr(error)


def fuzz(max_examples: int) -> Callable[..., Any]:
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )(given(status=STATUSES, headers=HEADERS, body=BODIES)(check_response_path))


test_nothing_but_plaid_errors_escape = fuzz(200)
test_nothing_but_plaid_errors_escape_many = pytest.mark.slow(fuzz(20_000))
