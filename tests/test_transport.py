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
