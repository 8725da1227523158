"""Requests are checked as Plaid checks them, and refused with Plaid's codes and error bodies."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from plaid_async.sandbox import SandboxServer
from tests.sandbox.helpers import Reply, assert_accounts, assert_plaid_error, credentials, post

BALANCE = "/accounts/balance/get"
PATHS = ["/accounts/get", BALANCE]


@pytest.mark.parametrize("path", PATHS)
async def test_a_good_request_gets_the_items_accounts(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, path: str
) -> None:
    token = plaid_sandbox.token(7)
    data = assert_accounts(await post(http, plaid_sandbox, path, token=token))
    expected = plaid_sandbox.item(token)
    assert data["accounts"] == list(expected.accounts)
    assert data["item"] == dict(expected.item)


async def test_every_answer_has_a_fresh_request_id(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    ids = {(await post(http, plaid_sandbox)).json["request_id"] for _ in range(5)}
    ids |= {(await post(http, plaid_sandbox, body=b"{")).json["request_id"] for _ in range(5)}
    assert len(ids) == 10


@pytest.mark.parametrize("where", ["body", "headers", "both"])
async def test_credentials_in_the_body_or_the_headers(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, where: str
) -> None:
    body: dict[str, Any] = {"access_token": plaid_sandbox.token(1)}
    headers = {"Content-Type": "application/json"}
    if where in ("body", "both"):
        body |= {"client_id": plaid_sandbox.client_id, "secret": plaid_sandbox.secret}
    if where in ("headers", "both"):
        headers |= credentials(plaid_sandbox)
    assert_accounts(await post(http, plaid_sandbox, body=body, headers=headers))


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"client_id": "sandbox-client-id", "secret": "wrong"}, {}),
        ({"client_id": "wrong", "secret": "sandbox-secret"}, {}),
        ({}, {"PLAID-CLIENT-ID": "sandbox-client-id", "PLAID-SECRET": "wrong"}),
        ({}, {"PLAID-CLIENT-ID": "sandbox-client-id", "PLAID-SECRET": ""}),
        # The body's value is the one that counts.
        ({"secret": "wrong"}, {"PLAID-CLIENT-ID": "sandbox-client-id", "PLAID-SECRET": "x"}),
    ],
)
async def test_wrong_keys_are_invalid_api_keys(
    http: aiohttp.ClientSession,
    plaid_sandbox: SandboxServer,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    body = {"access_token": plaid_sandbox.token(1), **body}
    headers = {"Content-Type": "application/json", **headers}
    reply = await post(http, plaid_sandbox, body=body, headers=headers)
    assert_plaid_error(reply, "INVALID_API_KEYS")


@pytest.mark.plaid_sandbox(client_id="mine", secret="my-secret")
async def test_credentials_can_be_chosen(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    assert (plaid_sandbox.client_id, plaid_sandbox.secret) == ("mine", "my-secret")
    assert_accounts(await post(http, plaid_sandbox))
    headers = {"Content-Type": "application/json", "PLAID-CLIENT-ID": "sandbox-client-id"}
    headers["PLAID-SECRET"] = "sandbox-secret"
    assert_plaid_error(await post(http, plaid_sandbox, headers=headers), "INVALID_API_KEYS")


@pytest.mark.parametrize(
    ("headers", "missing"),
    [
        ({"PLAID-SECRET": "sandbox-secret"}, "client_id"),
        ({"PLAID-CLIENT-ID": "sandbox-client-id"}, "secret"),
        ({}, "client_id, secret"),
    ],
)
async def test_missing_credentials_are_missing_fields(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, headers: dict[str, str], missing: str
) -> None:
    headers = {"Content-Type": "application/json", **headers}
    error = assert_plaid_error(await post(http, plaid_sandbox, headers=headers), "MISSING_FIELDS")
    assert error["error_message"].endswith(f"missing: {missing}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("body", [{}, {"access_token": None}, {"options": {}}])
async def test_missing_access_token_is_missing_fields(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, path: str, body: dict[str, Any]
) -> None:
    error = assert_plaid_error(await post(http, plaid_sandbox, path, body), "MISSING_FIELDS")
    assert error["error_message"].endswith("missing: access_token")


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "text/json"]
)
async def test_a_wrong_content_type_is_invalid_headers(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, content_type: str | None
) -> None:
    headers = credentials(plaid_sandbox)
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with http.post(
        plaid_sandbox.url + "/accounts/get",
        data=b'{"access_token": "access-sandbox-x"}',
        headers=headers,
        skip_auto_headers=["Content-Type"],
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error_code"] == "INVALID_HEADERS"


async def test_a_charset_parameter_is_fine(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8", **credentials(plaid_sandbox)}
    assert_accounts(await post(http, plaid_sandbox, headers=headers))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"not json",
        b"[]",
        b'"text"',
        b"null",
        b"42",
        b"\xff\xfe{}",
        b'{"access_token": NaN}',  # Python's json reads these; JSON has no such numbers
        b'{"access_token": "access-sandbox-x", "options": -Infinity}',
    ],
)
async def test_a_body_that_is_not_a_json_object_is_invalid_body(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, raw: bytes
) -> None:
    assert_plaid_error(await post(http, plaid_sandbox, body=raw), "INVALID_BODY")


@pytest.mark.parametrize(
    ("path", "extra", "named"),
    [
        ("/accounts/get", {"foo": 1}, "foo"),
        ("/accounts/get", {"options": {"count": 1}}, "options.count"),
        (
            "/accounts/get",
            {"options": {"min_last_updated_datetime": "2024-01-01T00:00:00Z"}},
            "options.min_last_updated_datetime",
        ),
        (BALANCE, {"payment_details": {}}, "payment_details"),
        (BALANCE, {"options": {"account_ids": ["x"], "extra": True}}, "options.extra"),
    ],
)
async def test_unknown_fields_are_refused(
    http: aiohttp.ClientSession,
    plaid_sandbox: SandboxServer,
    path: str,
    extra: dict[str, Any],
    named: str,
) -> None:
    body = {"access_token": plaid_sandbox.token(1), **extra}
    error = assert_plaid_error(await post(http, plaid_sandbox, path, body), "UNKNOWN_FIELDS")
    assert error["error_message"].endswith(named)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/accounts/get", {"access_token": 12}),
        ("/accounts/get", {"client_id": None}),
        ("/accounts/get", {"secret": 1}),
        ("/accounts/get", {"options": None}),
        ("/accounts/get", {"options": []}),
        ("/accounts/get", {"options": {"account_ids": "abc"}}),
        ("/accounts/get", {"options": {"account_ids": [1]}}),
        ("/accounts/get", {"options": {"account_ids": []}}),
        ("/accounts/get", {"options": {"account_ids": None}}),
        (BALANCE, {"options": {"min_last_updated_datetime": "yesterday"}}),
        (BALANCE, {"options": {"min_last_updated_datetime": "2024-01-31"}}),
        (BALANCE, {"options": {"min_last_updated_datetime": "2024-01-31T12:00:00"}}),
        (BALANCE, {"options": {"min_last_updated_datetime": "2023-02-29T12:00:00Z"}}),
        (BALANCE, {"options": {"min_last_updated_datetime": "2024-13-01T12:00:00Z"}}),
        (BALANCE, {"options": {"min_last_updated_datetime": 1700000000}}),
    ],
)
async def test_wrong_types_are_invalid_field(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, path: str, fields: dict[str, Any]
) -> None:
    body = {"access_token": plaid_sandbox.token(1), **fields}
    assert_plaid_error(await post(http, plaid_sandbox, path, body), "INVALID_FIELD")


@pytest.mark.parametrize(
    "when", ["2024-01-31T12:00:00Z", "2024-02-29T23:59:59.123456+05:30", "2024-01-31t00:00:00z"]
)
async def test_min_last_updated_datetime_is_accepted_on_balance(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, when: str
) -> None:
    body = {"access_token": plaid_sandbox.token(1), "options": {"min_last_updated_datetime": when}}
    assert_accounts(await post(http, plaid_sandbox, BALANCE, body))


@pytest.mark.parametrize(
    "token",
    [
        "access-production-3b1d3b77-6e59-4f5e-9d4a-0c7e2d1a9f10",
        "access-development-abc",
        "public-sandbox-abc",
        "access-sandbox-",
        "sandbox-abc",
        "",
        "access-sandbox-error_NOT_A_PLAID_ERROR-1",
    ],
)
async def test_tokens_not_of_the_sandbox_form_are_invalid_access_token(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, token: str
) -> None:
    reply = await post(http, plaid_sandbox, body={"access_token": token})
    error = assert_plaid_error(reply, "INVALID_ACCESS_TOKEN")
    if token.startswith("access-production"):
        assert "wrong environment" in error["error_message"]


@pytest.mark.parametrize("path", PATHS)
async def test_account_ids_filter_the_accounts(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, path: str
) -> None:
    token = next(
        t for t in map(plaid_sandbox.token, range(50)) if len(plaid_sandbox.item(t).accounts) >= 3
    )
    ids = plaid_sandbox.item(token).account_ids
    body = {"access_token": token, "options": {"account_ids": [ids[2], ids[0], ids[2]]}}
    data = assert_accounts(await post(http, plaid_sandbox, path, body))
    assert [a["account_id"] for a in data["accounts"]] == [ids[0], ids[2]]


@pytest.mark.parametrize("path", PATHS)
async def test_an_account_id_of_another_item_is_invalid_account_id(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, path: str
) -> None:
    mine = plaid_sandbox.item(plaid_sandbox.token(1)).account_ids[0]
    theirs = plaid_sandbox.item(plaid_sandbox.token(2)).account_ids[0]
    body = {"access_token": plaid_sandbox.token(1), "options": {"account_ids": [mine, theirs]}}
    assert_plaid_error(await post(http, plaid_sandbox, path, body), "INVALID_ACCOUNT_ID")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/accounts/nope"), ("POST", "/"), ("GET", "/accounts/get"), ("PUT", BALANCE)],
)
async def test_anything_else_is_not_found(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, method: str, path: str
) -> None:
    async with http.request(method, plaid_sandbox.url + path, json={}) as resp:
        body = await resp.read()
    assert_plaid_error(Reply(resp.status, dict(resp.headers), body), "NOT_FOUND")


async def test_shape_is_checked_before_credentials_and_credentials_before_the_token(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    no_creds = {"Content-Type": "application/json"}
    body = {"access_token": "access-production-x", "foo": 1}
    assert_plaid_error(
        await post(http, plaid_sandbox, body=body, headers=no_creds), "UNKNOWN_FIELDS"
    )
    body = {"access_token": "access-production-x", "client_id": "c", "secret": "s"}
    assert_plaid_error(await post(http, plaid_sandbox, body=body), "INVALID_API_KEYS")
