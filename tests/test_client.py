"""PlaidClient with aioresponses: what is sent, what bad input does, how answers map to errors."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from plaid_async import (
    AccountSubtype,
    AccountType,
    InvalidInputError,
    ItemError,
    PlaidAPIError,
    PlaidClient,
    PlaidResponseError,
    RetryPolicy,
    __version__,
)
from tests.samples import CLIENT_ID, SECRET, TOKEN, error_doc, response_doc

BASE = "https://sandbox.plaid.com"
GET = BASE + "/accounts/get"
BALANCE = BASE + "/accounts/balance/get"
FAST = RetryPolicy(max_attempts=3, wait_initial=0, wait_max=0)


@pytest.fixture
async def client() -> AsyncIterator[PlaidClient]:
    async with PlaidClient(CLIENT_ID, SECRET, retry=FAST) as c:
        yield c


def sent(m: Any, url: str) -> list[dict[str, Any]]:
    """The requests aioresponses saw for ``url``: their headers and decoded JSON bodies."""
    calls = [call for (method, u), calls in m.requests.items() if str(u) == url for call in calls]
    return [{"headers": c.kwargs["headers"], "json": json.loads(c.kwargs["data"])} for c in calls]


# --- what is sent ----------------------------------------------------------------------------


async def test_accounts_get_sends_credentials_in_headers_and_only_the_token(
    mocked: Any, client: PlaidClient
) -> None:
    mocked.post(GET, payload=response_doc())
    await client.accounts_get(TOKEN)
    (request,) = sent(mocked, GET)
    assert request["json"] == {"access_token": TOKEN}
    headers = request["headers"]
    assert headers["PLAID-CLIENT-ID"] == CLIENT_ID
    assert headers["PLAID-SECRET"] == SECRET
    assert headers["Plaid-Version"] == "2020-09-14"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith(f"plaid-async/{__version__} ")


async def test_accounts_get_with_account_ids(mocked: Any, client: PlaidClient) -> None:
    mocked.post(GET, payload=response_doc())
    await client.accounts_get(TOKEN, account_ids=("a", "b"))
    (request,) = sent(mocked, GET)
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
    mocked: Any, client: PlaidClient, kwargs: dict[str, Any], options: dict[str, Any] | None
) -> None:
    mocked.post(BALANCE, payload=response_doc())
    await client.accounts_balance_get(TOKEN, **kwargs)
    (request,) = sent(mocked, BALANCE)
    expected: dict[str, Any] = {"access_token": TOKEN}
    if options is not None:
        expected["options"] = options
    assert request["json"] == expected


async def test_custom_plaid_version(mocked: Any) -> None:
    mocked.post(GET, payload=response_doc())
    async with PlaidClient(CLIENT_ID, SECRET, plaid_version="2099-01-01") as c:
        await c.accounts_get(TOKEN)
    assert sent(mocked, GET)[0]["headers"]["Plaid-Version"] == "2099-01-01"


async def test_production_goes_to_production(mocked: Any) -> None:
    url = "https://production.plaid.com/accounts/get"
    mocked.post(url, payload=response_doc())
    async with PlaidClient(CLIENT_ID, SECRET, environment="production") as c:
        await c.accounts_get(TOKEN)
    assert len(sent(mocked, url)) == 1


# --- what comes back -------------------------------------------------------------------------


async def test_response_is_typed_with_decimal_money(mocked: Any, client: PlaidClient) -> None:
    mocked.post(BALANCE, body=json.dumps(response_doc()))
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
    mocked: Any,
    client: PlaidClient,
    status: int,
    payload: dict[str, Any],
    cls: type[PlaidAPIError],
    code: str,
) -> None:
    mocked.post(GET, status=status, payload=payload)
    with pytest.raises(cls) as info:
        await client.accounts_get(TOKEN)
    assert info.value.error_code == code
    assert len(sent(mocked, GET)) == 1


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
    mocked: Any, client: PlaidClient, status: int, body: str, attempts: int
) -> None:
    mocked.post(GET, status=status, body=body, repeat=True)
    with pytest.raises(PlaidResponseError) as info:
        await client.accounts_get(TOKEN)
    assert info.value.status == status
    assert len(sent(mocked, GET)) == attempts


async def test_a_transient_failure_then_success(mocked: Any, client: PlaidClient) -> None:
    mocked.post(GET, status=503, payload=error_doc("API_ERROR", "PLANNED_MAINTENANCE"))
    mocked.post(GET, status=429, payload=error_doc("RATE_LIMIT_EXCEEDED", "ACCOUNTS_LIMIT"))
    mocked.post(GET, payload=response_doc())
    resp = await client.accounts_get(TOKEN)
    assert resp.request_id == "bkVE1BHWMAZ9Rnr"
    assert len(sent(mocked, GET)) == 3


async def test_a_redirect_is_not_followed(mocked: Any, client: PlaidClient) -> None:
    mocked.post(GET, status=307, headers={"Location": "https://evil.example/steal"})
    mocked.post("https://evil.example/steal", payload=response_doc())
    with pytest.raises(PlaidResponseError, match="redirect"):
        await client.accounts_get(TOKEN)
    assert sent(mocked, "https://evil.example/steal") == []


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
    mocked: Any,
    client: PlaidClient,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        await getattr(client, method)(*args, **kwargs)
    assert mocked.requests == {}


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (dt.datetime(2024, 1, 1), ValueError, "timezone-aware"),
        (dt.date(2024, 1, 1), TypeError, "must be a datetime"),
        ("2024-01-01T00:00:00Z", TypeError, "must be a datetime"),
    ],
)
async def test_min_last_updated_datetime_must_be_an_aware_datetime(
    mocked: Any, client: PlaidClient, value: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        await client.accounts_balance_get(TOKEN, min_last_updated_datetime=value)
    assert mocked.requests == {}


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


async def test_a_session_passed_in_is_used_and_not_closed(mocked: Any) -> None:
    mocked.post(GET, payload=response_doc())
    async with aiohttp.ClientSession() as session:
        async with PlaidClient(CLIENT_ID, SECRET, session=session) as c:
            await c.accounts_get(TOKEN)
        assert not session.closed
    assert len(sent(mocked, GET)) == 1


async def test_a_call_after_aclose_is_a_clear_error(mocked: Any) -> None:
    client = PlaidClient(CLIENT_ID, SECRET)
    await client.aclose()
    await client.aclose()  # idempotent
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.accounts_get(TOKEN)
    assert mocked.requests == {}
