"""The aiohttp transport under aioresponses: what only the real HTTP layer decides."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from plaid_async import PlaidClient, PlaidResponseError, RetryPolicy
from plaid_async.transport import AiohttpTransport, RawResponse, Request, Transport
from tests.samples import CLIENT_ID, SECRET, TOKEN, response_doc

GET = "https://sandbox.plaid.com/accounts/get"
EVIL = "https://evil.example/steal"


def test_the_aiohttp_transport_is_a_transport() -> None:
    assert isinstance(AiohttpTransport(), Transport)


async def test_send_returns_status_headers_and_body(mocked: Any) -> None:
    mocked.post(GET, status=201, body=b"{}", headers={"X-Thing": "1"})
    transport = AiohttpTransport()
    try:
        answer = await transport.send(Request("POST", GET, {}, b"{}", 5.0))
    finally:
        await transport.aclose()
    assert isinstance(answer, RawResponse)
    status, headers, body = answer
    assert (status, headers["X-Thing"], body) == (201, "1", b"{}")


async def test_a_redirect_is_not_followed(mocked: Any) -> None:
    mocked.post(GET, status=307, headers={"Location": EVIL})
    mocked.post(EVIL, payload=response_doc())
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(PlaidResponseError, match="redirect"):
            await client.accounts_get(TOKEN)
    assert [str(url) for _, url in mocked.requests] == [GET]


async def test_a_session_passed_in_is_used_and_not_closed(mocked: Any) -> None:
    mocked.post(GET, payload=response_doc())
    async with aiohttp.ClientSession() as session:
        async with PlaidClient(CLIENT_ID, SECRET, session=session) as c:
            await c.accounts_get(TOKEN)
        assert not session.closed
    assert len(mocked.requests) == 1


@pytest.mark.parametrize("extra", [0, 1])
async def test_a_body_of_known_length_is_read_whole_up_to_the_cap(mocked: Any, extra: int) -> None:
    body = b'{"x": "' + b"a" * 100 + b'"}'
    mocked.post(GET, body=body, headers={"Content-Length": str(len(body))})
    transport = AiohttpTransport(max_response_bytes=len(body) - extra)
    try:
        if extra:
            with pytest.raises(PlaidResponseError, match="byte cap"):
                await transport.send(Request("POST", GET, {}, b"{}", 5.0))
        else:
            assert (await transport.send(Request("POST", GET, {}, b"{}", 5.0))).body == body
    finally:
        await transport.aclose()


def test_the_aiohttp_timeouts_of_a_recurring_attempt_timeout_are_made_once() -> None:
    transport = AiohttpTransport(connect_timeout=5.0)
    first = transport._client_timeout(10.0)
    assert (first.total, first.sock_connect) == (10.0, 5.0)
    assert transport._timeouts[10.0] is first
    short = transport._client_timeout(2.0)
    assert (short.total, short.sock_connect) == (2.0, 2.0)  # connecting fits in the attempt
    for n in range(100):  # deadline-cut timeouts vary: the cache stays small
        transport._client_timeout(1.0 + n / 1000)
    assert len(transport._timeouts) == 16
