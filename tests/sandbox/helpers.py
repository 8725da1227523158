"""Requests to the emulator over real loopback sockets, and checks of what comes back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import aiohttp
from attrs import frozen

from plaid_async.sandbox import CATALOG, SandboxServer
from tests.spec_schema import validate


@frozen
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal)


def credentials(sandbox: SandboxServer) -> dict[str, str]:
    return {"PLAID-CLIENT-ID": sandbox.client_id, "PLAID-SECRET": sandbox.secret}


async def post(
    http: aiohttp.ClientSession,
    sandbox: SandboxServer,
    path: str = "/accounts/get",
    body: Mapping[str, Any] | bytes | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
) -> Reply:
    """POST to the emulator. ``body`` defaults to ``{"access_token": token}``; credentials go
    in headers unless ``headers`` is given; a ``bytes`` body is sent as it is."""
    if body is None:
        body = {"access_token": token or sandbox.token(1)}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **credentials(sandbox)}
    if headers is not None:
        sent = dict(headers)
    async with http.post(sandbox.url + path, data=data, headers=sent) as resp:
        return Reply(resp.status, dict(resp.headers), await resp.read())


def assert_plaid_error(reply: Reply, code: str) -> dict[str, Any]:
    """``reply`` is Plaid's error ``code``: status, type, every field Plaid sends, the spec."""
    spec = CATALOG[code]
    assert reply.status == spec.status, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    error: dict[str, Any] = reply.json
    validate(error, "PlaidError")
    assert error["error_code"] == code
    assert error["error_type"] == spec.error_type
    assert error["error_message"]
    assert "display_message" in error
    assert error["suggested_action"] is None
    assert error["causes"] == []
    assert error["documentation_url"].startswith("https://plaid.com/docs/errors/")
    assert len(error["request_id"]) == 15
    assert error["request_id"].isalnum()
    return error


def assert_accounts(reply: Reply) -> dict[str, Any]:
    """``reply`` is a 200 with an ``AccountsGetResponse`` that fits Plaid's spec."""
    assert reply.status == 200, reply.body
    data: dict[str, Any] = reply.json
    validate(data, "AccountsGetResponse")
    return data


async def wait_in_flight(sandbox: SandboxServer, n: int = 1, timeout: float = 5.0) -> None:
    """Wait until ``n`` requests are being handled (polled: the emulator has no event for it)."""
    for _ in range(int(timeout / 0.005)):
        if sandbox.stats.in_flight >= n:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{n} request(s) never in flight within {timeout} s")
