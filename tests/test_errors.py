"""The exception hierarchy and ``error_from_response``: every kind of failed answer."""

from __future__ import annotations

import json
import pickle

import pytest

from plaid_async import (
    AccountsGetResponse,
    APIError,
    InstitutionError,
    InvalidInputError,
    InvalidRequestError,
    InvalidResultError,
    ItemError,
    OAuthError,
    PlaidAPIError,
    PlaidConnectionError,
    PlaidError,
    PlaidResponseError,
    PlaidTimeoutError,
    RateLimiterUnavailableError,
    RateLimitExceededError,
    RateLimitWaitTimeout,
)
from plaid_async.protocol import decode_response, error_from_response, retry_after_seconds
from tests.samples import SECRET, TOKEN, error_doc


def _body(data: object) -> bytes:
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("error_type", "error_code", "status", "cls"),
    [
        ("INVALID_REQUEST", "MISSING_FIELDS", 400, InvalidRequestError),
        ("INVALID_INPUT", "INVALID_ACCESS_TOKEN", 400, InvalidInputError),
        ("INVALID_RESULT", "LAST_UPDATED_DATETIME_OUT_OF_RANGE", 400, InvalidResultError),
        ("ITEM_ERROR", "ITEM_LOGIN_REQUIRED", 400, ItemError),
        ("INSTITUTION_ERROR", "INSTITUTION_DOWN", 400, InstitutionError),
        ("RATE_LIMIT_EXCEEDED", "BALANCE_LIMIT", 429, RateLimitExceededError),
        ("API_ERROR", "INTERNAL_SERVER_ERROR", 500, APIError),
        ("OAUTH_ERROR", "OAUTH_INVALID_TOKEN", 400, OAuthError),
        ("SOME_FUTURE_ERROR", "SOMETHING_NEW", 400, PlaidAPIError),
    ],
)
def test_error_type_selects_the_subclass(
    error_type: str, error_code: str, status: int, cls: type[PlaidAPIError]
) -> None:
    exc = error_from_response(status, {}, _body(error_doc(error_type, error_code)))
    assert type(exc) is cls
    assert isinstance(exc, PlaidAPIError)
    assert exc.error_type == error_type
    assert exc.error_code == error_code
    assert exc.status == status
    assert exc.request_id == "req-" + error_code.lower()
    assert exc.documentation_url == f"https://plaid.com/docs/?ref-id={error_code}"
    assert exc.display_message is None
    assert exc.suggested_action is None
    assert exc.causes == ()


def test_message_names_type_code_message_status_and_request_id() -> None:
    exc = error_from_response(400, {}, _body(error_doc("ITEM_ERROR", "ITEM_LOGIN_REQUIRED")))
    assert str(exc) == (
        "ITEM_ERROR ITEM_LOGIN_REQUIRED: item login required happened "
        "(HTTP 400, request_id=req-item_login_required)"
    )


def test_unknown_fields_in_the_error_body_are_kept() -> None:
    body = error_doc("ITEM_ERROR", "ITEM_LOCKED", brand_new_field={"x": 1})
    exc = error_from_response(400, {}, _body(body))
    assert isinstance(exc, PlaidAPIError)
    assert exc.body.extra == {"brand_new_field": {"x": 1}}


def test_an_odd_status_stays_an_int() -> None:
    exc = error_from_response(520, {}, b"<html>origin error</html>")
    assert isinstance(exc, PlaidResponseError)
    assert exc.status == 520
    assert type(exc.status) is int
    assert exc.transient


@pytest.mark.parametrize(
    ("status", "body", "transient"),
    [
        (502, b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>", True),
        (503, b"<html>Service Temporarily Unavailable</html>", True),
        (500, b"", True),
        (500, b'{"error_type": "API_ERR', True),  # truncated JSON
        (429, b"Too Many Requests", True),
        (408, b"", True),
        (400, b"<html>bad request</html>", False),
        (404, b"not found", False),
        (301, b"", False),  # a redirect is never followed, never retried
        (500, b"[1, 2, 3]", True),  # JSON, but not Plaid's error object
        (500, b'{"message": "upstream"}', True),
        (500, b"\xff\xfe\x00garbage", True),
    ],
)
def test_answers_that_are_not_plaids_error_object(
    status: int, body: bytes, transient: bool
) -> None:
    exc = error_from_response(status, {}, body)
    assert type(exc) is PlaidResponseError
    assert exc.status == status
    assert exc.transient is transient
    assert f"HTTP {status}" in str(exc)


def test_excerpt_is_short_and_one_line() -> None:
    page = b"<html>\n" + b"x" * 10_000 + b"\n</html>"
    exc = error_from_response(502, {}, page)
    assert isinstance(exc, PlaidResponseError)
    assert "\n" not in exc.excerpt
    assert len(exc.excerpt) <= 201
    assert len(str(exc)) < 300


def test_secrets_echoed_by_a_server_are_redacted() -> None:
    echoed = error_doc("INVALID_INPUT", "INVALID_ACCESS_TOKEN")
    echoed["error_message"] = f"token {TOKEN} with secret {SECRET} is bad"
    exc = error_from_response(400, {}, _body(echoed), secrets=(SECRET, TOKEN))
    html = error_from_response(502, {}, f"<pre>{TOKEN} {SECRET}</pre>".encode(), secrets=(TOKEN,))
    for text in (str(exc), repr(exc), str(html), repr(html)):
        assert TOKEN not in text
    assert SECRET not in str(exc)
    assert isinstance(exc, PlaidAPIError)
    assert exc.error_message is not None
    assert TOKEN not in exc.error_message


def test_a_plaid_shaped_body_with_wrong_types_still_gives_an_api_error() -> None:
    body = {"error_type": "ITEM_ERROR", "error_code": "ITEM_LOCKED", "causes": "not-a-list"}
    exc = error_from_response(400, {}, _body(body))
    assert type(exc) is ItemError
    assert exc.error_code == "ITEM_LOCKED"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "Wed, 25 Nov 2026 12:00:10 GMT"}, 10.0),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    now = 1795608000.0  # 2026-11-25T12:00:00Z
    assert retry_after_seconds(headers, now=now) == expected


def test_retry_after_is_carried_by_the_error() -> None:
    body = _body(error_doc("RATE_LIMIT_EXCEEDED", "RATE_LIMIT"))
    exc = error_from_response(429, {"Retry-After": "3"}, body)
    assert isinstance(exc, RateLimitExceededError)
    assert exc.retry_after == 3.0


@pytest.mark.parametrize(
    "exc",
    [
        error_from_response(400, {}, _body(error_doc("ITEM_ERROR", "ITEM_LOGIN_REQUIRED"))),
        error_from_response(502, {}, b"<html>bad gateway</html>"),
        PlaidTimeoutError("no answer", timeout=3.0),
        RateLimitWaitTimeout("no budget in time", timeout=1.5),
        RateLimiterUnavailableError("Redis is down"),
        PlaidConnectionError("certificate did not verify", transient=False),
    ],
)
def test_errors_pickle(exc: PlaidError) -> None:
    """Errors cross process boundaries (a multiprocessing batch) intact."""
    copy = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own object
    assert type(copy) is type(exc)
    assert str(copy) == str(exc)
    assert vars(copy) == vars(exc)


def _pieces(secret: str, size: int = 8) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def _echo_page(html: bool, secret_at: int, secret: str) -> bytes:
    """A proxy's page that echoes the request, with ``secret`` starting at byte ``secret_at``:
    padding that the excerpt drops (whitespace, or markup), so what follows is shown."""
    head = '<html><body><pre>{"access_token":"' if html else '{"access_token":"'
    if html:  # one long comment, which the excerpt's markup stripping removes
        body = "<!--" + "-" * (secret_at - len(head) - 7) + "-->" + head
    else:
        body = " " * (secret_at - len(head)) + head
    assert len(body) == secret_at
    return (body + secret + '"}' + ("</pre></body></html>" if html else "")).encode()


@pytest.mark.parametrize("secret", [SECRET, TOKEN])
@pytest.mark.parametrize(
    ("status", "html", "cut"),
    [
        (503, False, 800),  # a plain-text page: the excerpt reads this far
        (502, True, 4000),  # an HTML page: read this far for its title and text
        (200, False, 800),  # a 2xx that is not JSON
    ],
)
def test_a_secret_the_excerpts_cut_goes_through_is_redacted_all_the_same(
    secret: str, status: int, html: bool, cut: int
) -> None:
    """An echoing proxy's page never carries a piece of the secret or the token into a
    message: the body is redacted whole before the excerpt is cut from it, wherever the cut
    falls in the echoed secret."""
    for offset in range(1, len(secret)):
        body = _echo_page(html, cut - offset, secret)  # the cut goes through the secret
        try:
            decode_response(status, {}, body, AccountsGetResponse, secrets=(SECRET, TOKEN))
        except PlaidResponseError as exc:
            shown = f"{exc} {exc.excerpt}"
        else:
            pytest.fail("a page that is not Plaid's answer was accepted")
        assert not {piece for piece in _pieces(secret) if piece in shown}, (offset, shown)
