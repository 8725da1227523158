"""PlaidClient on a MockTransport: what is sent, what bad input does, how answers map to errors.

The aiohttp transport's own behaviour (redirects, a session of the user's) is in test_transport.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any

import pytest

from plaid_async import (
    AccountSubtype,
    AccountType,
    InvalidInputError,
    ItemError,
    PlaidAPIError,
    PlaidClient,
    PlaidConnectionError,
    PlaidResponseError,
    PlaidTimeoutError,
    RetryPolicy,
    __version__,
)
from plaid_async.testing import MockTransport, Request
from tests.samples import CLIENT_ID, SECRET, TOKEN, error_doc, response_doc

BASE = "https://sandbox.plaid.com"
GET = BASE + "/accounts/get"
BALANCE = BASE + "/accounts/balance/get"
FAST = RetryPolicy(max_attempts=3, wait_initial=0, wait_max=0)


class Answers:
    """A handler that gives its answers in turn and then repeats the last one, like
    aioresponses' ``repeat``; ``answers.post(...)`` queues one."""

    def __init__(self) -> None:
        self.queue: list[tuple[int, Mapping[str, str], Any]] = []
        self.transport = MockTransport(self)

    def post(
        self,
        *,
        status: int = 200,
        payload: Any = None,
        body: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.queue.append((status, headers or {}, body if payload is None else payload))

    def __call__(self, request: Request) -> tuple[int, Mapping[str, str], Any]:
        return self.queue.pop(0) if len(self.queue) > 1 else self.queue[0]

    @property
    def requests(self) -> list[Request]:
        return self.transport.requests


@pytest.fixture
def answers() -> Answers:
    return Answers()


@pytest.fixture
async def client(answers: Answers) -> AsyncIterator[PlaidClient]:
    async with PlaidClient(CLIENT_ID, SECRET, retry=FAST, transport=answers.transport) as c:
        yield c


def sent(m: Answers, url: str) -> list[dict[str, Any]]:
    """The requests sent to ``url``: their headers and decoded JSON bodies."""
    return [{"headers": r.headers, "json": r.json()} for r in m.requests if r.url == url]


# --- what is sent ----------------------------------------------------------------------------


async def test_accounts_get_sends_credentials_in_headers_and_only_the_token(
    answers: Any, client: PlaidClient
) -> None:
    answers.post(payload=response_doc())
    await client.accounts_get(TOKEN)
    (request,) = sent(answers, GET)
    assert request["json"] == {"access_token": TOKEN}
    headers = request["headers"]
    assert headers["PLAID-CLIENT-ID"] == CLIENT_ID
    assert headers["PLAID-SECRET"] == SECRET
    assert headers["Plaid-Version"] == "2020-09-14"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith(f"plaid-async/{__version__} ")


async def test_accounts_get_with_account_ids(answers: Any, client: PlaidClient) -> None:
    answers.post(payload=response_doc())
    await client.accounts_get(TOKEN, account_ids=("a", "b"))
    (request,) = sent(answers, GET)
    assert request["json"] == {"access_token": TOKEN, "options": {"account_ids": ["a", "b"]}}


@pytest.mark.parametrize(
    ("kwargs", "options"),
    [
        ({}, None),
        ({"account_ids": ["a"]}, {"account_ids": ["a"]}),
        (
            {"min_last_updated_datetime": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)},
            {"min_last_updated_datetime": "2024-01-02T03:04:05Z"},
        ),
        (
            {
                "account_ids": ["a"],
                "min_last_updated_datetime": dt.datetime(
                    2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=-5))
                ),
            },
            {"account_ids": ["a"], "min_last_updated_datetime": "2024-01-02T00:00:00-05:00"},
        ),
    ],
)
async def test_balance_sends_exactly_the_options_given(
    answers: Any, client: PlaidClient, kwargs: dict[str, Any], options: dict[str, Any] | None
) -> None:
    answers.post(payload=response_doc())
    await client.accounts_balance_get(TOKEN, **kwargs)
    (request,) = sent(answers, BALANCE)
    expected: dict[str, Any] = {"access_token": TOKEN}
    if options is not None:
        expected["options"] = options
    assert request["json"] == expected


async def test_custom_plaid_version(answers: Any) -> None:
    answers.post(payload=response_doc())
    transport = answers.transport
    async with PlaidClient(CLIENT_ID, SECRET, plaid_version="2099-01-01", transport=transport) as c:
        await c.accounts_get(TOKEN)
    assert sent(answers, GET)[0]["headers"]["Plaid-Version"] == "2099-01-01"


async def test_production_goes_to_production(answers: Any) -> None:
    url = "https://production.plaid.com/accounts/get"
    answers.post(payload=response_doc())
    async with PlaidClient(
        CLIENT_ID, SECRET, environment="production", transport=answers.transport
    ) as c:
        await c.accounts_get(TOKEN)
    assert len(sent(answers, url)) == 1


# --- what comes back -------------------------------------------------------------------------


async def test_response_is_typed_with_decimal_money(answers: Any, client: PlaidClient) -> None:
    answers.post(body=json.dumps(response_doc()))
    resp = await client.accounts_balance_get(TOKEN)
    checking, k401 = resp.accounts
    assert checking.balances.available == Decimal("100")
    assert type(checking.balances.available) is Decimal
    assert k401.balances.current == Decimal("23631.9805")
    assert k401.type is AccountType.INVESTMENT
    assert k401.subtype is AccountSubtype.PLAN_401K
    assert resp.item is not None
    assert resp.item.institution_id == "ins_109508"
    assert resp.request_id == "bkVE1BHWMAZ9Rnr"


@pytest.mark.parametrize(
    ("status", "payload", "cls", "code"),
    [
        (400, error_doc("ITEM_ERROR", "ITEM_LOGIN_REQUIRED"), ItemError, "ITEM_LOGIN_REQUIRED"),
        (
            400,
            error_doc("INVALID_INPUT", "INVALID_API_KEYS"),
            InvalidInputError,
            "INVALID_API_KEYS",
        ),
    ],
)
async def test_plaid_errors_are_raised_typed_and_not_retried(
    answers: Any,
    client: PlaidClient,
    status: int,
    payload: dict[str, Any],
    cls: type[PlaidAPIError],
    code: str,
) -> None:
    answers.post(status=status, payload=payload)
    with pytest.raises(cls) as info:
        await client.accounts_get(TOKEN)
    assert info.value.error_code == code
    assert len(sent(answers, GET)) == 1


@pytest.mark.parametrize(
    ("status", "body", "attempts"),
    [
        (502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", 3),
        (500, "", 3),
        (200, "", 3),
        (200, '{"accounts": [{"account_id": "a", "bal', 3),
        (200, "<html>captive portal</html>", 3),
        (200, "[]", 3),
        (200, '{"accounts": "not a list", "item": {"item_id": "i"}, "request_id": "r"}', 1),
        (200, '{"item": {"item_id": "i"}, "request_id": "r"}', 1),
        (301, "", 1),
    ],
)
async def test_answers_that_are_not_plaids_become_response_errors(
    answers: Any, client: PlaidClient, status: int, body: str, attempts: int
) -> None:
    answers.post(status=status, body=body)
    with pytest.raises(PlaidResponseError) as info:
        await client.accounts_get(TOKEN)
    assert info.value.status == status
    assert len(sent(answers, GET)) == attempts


async def test_a_transient_failure_then_success(answers: Any, client: PlaidClient) -> None:
    answers.post(status=503, payload=error_doc("API_ERROR", "PLANNED_MAINTENANCE"))
    answers.post(status=429, payload=error_doc("RATE_LIMIT_EXCEEDED", "ACCOUNTS_LIMIT"))
    answers.post(payload=response_doc())
    resp = await client.accounts_get(TOKEN)
    assert resp.request_id == "bkVE1BHWMAZ9Rnr"
    assert len(sent(answers, GET)) == 3


async def test_a_redirect_is_a_response_error(answers: Any, client: PlaidClient) -> None:
    answers.post(status=307, headers={"Location": "https://evil.example/steal"})
    with pytest.raises(PlaidResponseError, match="redirect"):
        await client.accounts_get(TOKEN)
    assert len(answers.requests) == 1


# --- bad input: a clear error, nothing sent --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("",), {}, ValueError, "access_token must not be empty"),
        (("   ",), {}, ValueError, "access_token must not be empty"),
        (("access-sandbox-a b",), {}, ValueError, "whitespace"),
        ((None,), {}, TypeError, "access_token must be a str"),
        ((b"access-sandbox-1",), {}, TypeError, "access_token must be a str"),
        ((TOKEN,), {"account_ids": "acc-1"}, TypeError, "account_ids must be a list"),
        ((TOKEN,), {"account_ids": b"acc-1"}, TypeError, "account_ids must be a list"),
        ((TOKEN,), {"account_ids": 5}, TypeError, "account_ids must be a list"),
        ((TOKEN,), {"account_ids": []}, ValueError, "must not be empty"),
        ((TOKEN,), {"account_ids": ["a", 1]}, TypeError, "must contain strings"),
        ((TOKEN,), {"account_ids": ["a", ""]}, ValueError, "empty string"),
        ((TOKEN,), {"timeout": 0}, ValueError, "timeout"),
        ((TOKEN,), {"timeout": -1}, ValueError, "timeout"),
        ((TOKEN,), {"timeout": float("nan")}, ValueError, "timeout"),
        ((TOKEN,), {"timeout": "30"}, TypeError, "timeout"),
    ],
)
@pytest.mark.parametrize("method", ["accounts_get", "accounts_balance_get"])
async def test_bad_arguments_fail_before_anything_is_sent(
    answers: Any,
    client: PlaidClient,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        await getattr(client, method)(*args, **kwargs)
    assert answers.requests == []


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (dt.datetime(2024, 1, 1), ValueError, "timezone-aware"),
        (dt.date(2024, 1, 1), TypeError, "must be a datetime"),
        ("2024-01-01T00:00:00Z", TypeError, "must be a datetime"),
    ],
)
async def test_min_last_updated_datetime_must_be_an_aware_datetime(
    answers: Any, client: PlaidClient, value: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        await client.accounts_balance_get(TOKEN, min_last_updated_datetime=value)
    assert answers.requests == []


# --- configuration: checked in the constructor -----------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"environment": "development"}, ValueError, "retired the Development environment"),
        ({"environment": "staging"}, ValueError, "unknown environment"),
        ({"base_url": "http://api.example.com"}, ValueError, "only on a loopback host"),
        ({"base_url": "http://10.0.0.1:8080"}, ValueError, "only on a loopback host"),
        ({"base_url": "ftp://127.0.0.1"}, ValueError, "https://"),
        ({"base_url": "sandbox.plaid.com"}, ValueError, "https://"),
        ({"base_url": "https://u:p@proxy.example"}, ValueError, "user information"),
        ({"base_url": "https://proxy.example?x=1"}, ValueError, "query"),
        ({"timeouts": {"/accounts/gett": 5}}, ValueError, "unknown endpoint"),
        ({"timeouts": {"/accounts/get": 0}}, ValueError, "positive"),
        ({"retry": {"max_attempts": 2}}, TypeError, "RetryPolicy"),
        ({"max_connections": 0}, ValueError, "max_connections"),
        ({"max_response_bytes": 0}, ValueError, "max_response_bytes"),
        ({"connect_timeout": -1}, ValueError, "connect_timeout"),
        ({"ssl": False}, TypeError, "cannot be turned off"),
        ({"session": object()}, TypeError, "ClientSession"),
    ],
)
def test_bad_configuration_fails_in_the_constructor(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        PlaidClient(CLIENT_ID, SECRET, **kwargs)


@pytest.mark.parametrize(
    ("client_id", "secret", "error"),
    [("", SECRET, ValueError), (CLIENT_ID, "", ValueError), (None, SECRET, TypeError)],
)
def test_credentials_are_required(client_id: Any, secret: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        PlaidClient(client_id, secret)


def test_an_ssl_context_that_does_not_verify_is_refused() -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError, match="must verify"):
        PlaidClient(CLIENT_ID, SECRET, ssl=context)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://localhost:1/", "http://[::1]:9000", "https://proxy.example"],
)
def test_loopback_http_and_any_https_are_accepted(url: str) -> None:
    assert PlaidClient(CLIENT_ID, SECRET, base_url=url).base_url == url.rstrip("/")


def test_timeouts_merge_over_the_defaults() -> None:
    client = PlaidClient(CLIENT_ID, SECRET, timeouts={"/accounts/get": 2.5})
    assert client.timeouts == {"/accounts/get": 2.5, "/accounts/balance/get": 60.0}
    assert PlaidClient(CLIENT_ID, SECRET).timeouts["/accounts/balance/get"] >= 30


def test_repr_shows_no_secret() -> None:
    text = repr(PlaidClient(CLIENT_ID, SECRET))
    assert SECRET not in text
    assert CLIENT_ID in text


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAID_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("PLAID_SECRET", SECRET)
    monkeypatch.setenv("PLAID_ENV", "production")
    monkeypatch.delenv("PLAID_BASE_URL", raising=False)
    assert PlaidClient.from_env().base_url == "https://production.plaid.com"
    monkeypatch.setenv("PLAID_BASE_URL", "http://127.0.0.1:9999")
    assert PlaidClient.from_env().base_url == "http://127.0.0.1:9999"
    monkeypatch.delenv("PLAID_ENV")
    monkeypatch.delenv("PLAID_BASE_URL")
    assert PlaidClient.from_env().base_url == "https://sandbox.plaid.com"
    monkeypatch.setenv("PLAID_ENV", "development")
    with pytest.raises(ValueError, match="Development"):
        PlaidClient.from_env()


def test_from_env_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAID_CLIENT_ID", raising=False)
    monkeypatch.setenv("PLAID_SECRET", SECRET)
    with pytest.raises(ValueError, match="PLAID_CLIENT_ID") as info:
        PlaidClient.from_env()
    assert SECRET not in str(info.value)


# --- lifecycle -------------------------------------------------------------------------------


async def test_a_call_after_aclose_is_a_clear_error(answers: Any) -> None:
    client = PlaidClient(CLIENT_ID, SECRET, transport=answers.transport)
    await client.aclose()
    await client.aclose()  # idempotent
    assert client.closed
    assert answers.transport.closed  # the client owns its transport
    with pytest.raises(RuntimeError, match="closed"):
        await client.accounts_get(TOKEN)
    assert answers.requests == []


# --- the transport seam ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"session": object()},
        {"max_connections": 5},
        {"connect_timeout": 1.0},
        {"max_response_bytes": 1024},
        {"ssl": ssl.create_default_context()},
    ],
)
def test_options_of_the_aiohttp_transport_with_a_transport_are_refused(
    kwargs: dict[str, Any],
) -> None:
    transport = MockTransport(lambda request: (200, {}, response_doc()))
    with pytest.raises(TypeError, match=f"{next(iter(kwargs))} configure the built-in"):
        PlaidClient(CLIENT_ID, SECRET, transport=transport, **kwargs)


def test_a_transport_must_be_one() -> None:
    with pytest.raises(TypeError, match="transport must have async send"):
        PlaidClient(CLIENT_ID, SECRET, transport=object())  # type: ignore[arg-type]


async def test_an_async_handler_is_awaited_and_sees_the_attempt_timeout() -> None:
    seen: list[Request] = []

    async def handler(request: Request) -> tuple[int, dict[str, str], Any]:
        seen.append(request)
        await asyncio.sleep(0)
        return 200, {}, json.dumps(response_doc())

    transport = MockTransport(handler)
    timeouts = {"/accounts/get": 3.0}
    async with PlaidClient(CLIENT_ID, SECRET, transport=transport, timeouts=timeouts) as client:
        resp = await client.accounts_get(TOKEN)
    assert resp.request_id == "bkVE1BHWMAZ9Rnr"
    (request,) = seen
    assert (request.method, request.path, request.timeout) == ("POST", "/accounts/get", 3.0)
    assert SECRET not in repr(request)
    assert TOKEN not in repr(request)


async def test_a_handler_slower_than_the_timeout_is_a_timeout_and_is_retried() -> None:
    async def handler(request: Request) -> tuple[int, dict[str, str], Any]:
        await asyncio.sleep(10)
        raise AssertionError("not reached")

    transport = MockTransport(handler)
    timeouts = {"/accounts/get": 0.02}
    async with PlaidClient(
        CLIENT_ID, SECRET, transport=transport, timeouts=timeouts, retry=FAST
    ) as client:
        with pytest.raises(PlaidTimeoutError, match=r"within 0\.02 s"):
            await client.accounts_get(TOKEN)
    assert len(transport.requests) == 3


async def test_a_failure_the_handler_raises_is_retried_like_a_real_one() -> None:
    outcomes: list[Any] = [PlaidConnectionError("reset"), (200, {}, response_doc())]

    def handler(request: Request) -> tuple[int, dict[str, str], Any]:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    async with PlaidClient(CLIENT_ID, SECRET, transport=MockTransport(handler), retry=FAST) as c:
        assert (await c.accounts_get(TOKEN)).request_id == "bkVE1BHWMAZ9Rnr"
    assert outcomes == []


async def test_the_deadline_cuts_the_attempt_timeout_given_to_the_transport() -> None:
    transport = MockTransport(lambda request: (200, {}, response_doc()))
    retry = RetryPolicy(deadline=2.0)
    async with PlaidClient(CLIENT_ID, SECRET, transport=transport, retry=retry) as client:
        await client.accounts_balance_get(TOKEN)  # 60 s per attempt by default
    (request,) = transport.requests
    assert 1.9 < request.timeout <= 2.0
