"""The secret and the access token never appear in a log record, an exception or a repr.

Every path a call can take is walked at DEBUG logging on every logger: success, Plaid errors
(with a server that echoes the token back), retries, timeouts, HTML gateway pages, refused
connections, bad arguments.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from aiohttp import web

from plaid_async import (
    AccountsBalanceGetRequest,
    AccountsBalanceGetRequestOptions,
    PlaidClient,
    PlaidError,
    RetryPolicy,
    converter,
)
from tests.integration.rawserver import Handler, Server
from tests.samples import CLIENT_ID, SECRET, TOKEN, error_doc, response_doc

NEEDLES = (SECRET, TOKEN)


def texts_of(exc: BaseException) -> list[str]:
    """Everything an exception could show: its text, repr, args, attributes, and its causes'."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current), repr(current.args)]
        out += [repr(v) for v in vars(current).values()]
        current = current.__cause__ or current.__context__
    return out


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for needle in NEEDLES:
            assert needle not in text, f"leaked into: {text[:200]}"


def echo_everything(script: list[str]) -> Handler:
    """A hostile server: each answer, in ``script`` order, quotes the request back."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        return answer(script.pop(0) if script else "ok", body, dict(request.headers))

    return handle


def answer(behaviour: str, body: str, headers: dict[str, str]) -> web.Response:
    if behaviour == "ok":
        return web.Response(body=json.dumps(response_doc()), content_type="application/json")
    if behaviour == "500":
        doc = error_doc("API_ERROR", "INTERNAL_SERVER_ERROR")
        doc["error_message"] = f"failed for {body} {headers}"
        return web.json_response(doc, status=500)
    if behaviour == "item":
        doc = error_doc("ITEM_ERROR", "ITEM_LOGIN_REQUIRED")
        doc["error_message"] = f"login required for {body}"
        doc["display_message"] = f"{headers}"
        return web.json_response(doc, status=400)
    if behaviour == "html":
        return web.Response(status=502, text=f"<html><pre>{body}\n{headers}</pre></html>")
    if behaviour == "badjson":
        return web.Response(status=200, text=f'{{"accounts": "{body}"')
    if behaviour == "schema":
        return web.json_response({"accounts": body, "item": headers, "request_id": "r"})
    assert behaviour == "hang"
    return web.Response(status=200, text="{}", headers={"X-Hang": "1"})


def slow_when_asked(handler: Handler) -> Handler:
    """Answers marked ``X-Hang`` are held back past the client's 0.2 s timeout."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        if response.headers.get("X-Hang"):
            await asyncio.sleep(0.5)
        return response

    return handle


@pytest.mark.parametrize(
    "script",
    [
        ["ok"],
        ["500", "ok"],
        ["500", "500", "500"],
        ["item"],
        ["html", "html", "html"],
        ["badjson", "badjson", "badjson"],
        ["schema"],
        ["hang", "hang"],
        ["hang", "500", "ok"],
    ],
)
async def test_no_secret_on_any_call_path(
    caplog: pytest.LogCaptureFixture, script: list[str]
) -> None:
    server = Server(slow_when_asked(echo_everything(list(script))))
    await server.start()
    caplog.set_level(logging.DEBUG)  # every logger, aiohttp's and asyncio's included
    texts: list[str] = []
    try:
        async with PlaidClient(
            CLIENT_ID,
            SECRET,
            base_url=server.url,
            retry=RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001),
            timeouts={"/accounts/balance/get": 0.2},
        ) as client:
            texts.append(repr(client))
            try:
                resp = await client.accounts_balance_get(TOKEN, account_ids=["acc-1"])
                texts += [repr(resp), json.dumps(converter.unstructure(resp), default=str)]
            except PlaidError as exc:
                texts += texts_of(exc)
    finally:
        await server.stop()
    for record in caplog.records:
        texts.append(record.getMessage())
        texts += [repr(value) for value in vars(record).values()]
    assert_clean(texts)
    assert server.peers, "the request was made"


async def test_no_secret_when_the_connection_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    server = Server()
    await server.start()
    url = server.url
    await server.stop()
    caplog.set_level(logging.DEBUG)
    retry = RetryPolicy(max_attempts=2, wait_initial=0.001, wait_max=0.001)
    async with PlaidClient(CLIENT_ID, SECRET, base_url=url, retry=retry) as client:
        with pytest.raises(PlaidError) as info:
            await client.accounts_get(TOKEN)
    assert_clean(texts_of(info.value) + [r.getMessage() for r in caplog.records])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"account_ids": TOKEN},
        {"account_ids": [TOKEN, 5]},
        {"min_last_updated_datetime": TOKEN},
        {"timeout": TOKEN},
    ],
)
async def test_no_secret_in_argument_errors(kwargs: dict[str, object]) -> None:
    async with PlaidClient(CLIENT_ID, SECRET) as client:
        with pytest.raises((TypeError, ValueError)) as info:
            await client.accounts_balance_get(TOKEN, **kwargs)  # type: ignore[arg-type]
    assert_clean(texts_of(info.value))


def test_no_secret_in_model_reprs() -> None:
    request = AccountsBalanceGetRequest(
        TOKEN,
        options=AccountsBalanceGetRequestOptions(account_ids=["a"]),
        client_id=CLIENT_ID,
        secret=SECRET,
    )
    assert_clean([repr(request), str(request)])
    with pytest.raises(ValueError, match="whitespace") as info:
        AccountsBalanceGetRequest(TOKEN + " ")
    assert_clean(texts_of(info.value))
