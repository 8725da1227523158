"""Every fault, seen from a bare HTTP client over a real socket; and faults are reproducible.

Each test makes the fault certain (its rate 1, or ``enqueue``), so what comes back is exactly
that fault; every answer that is Plaid JSON is held to Plaid's spec.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from plaid_async.sandbox import FAULT_KINDS, RATE_LIMIT_CODES, Faults, SandboxServer
from plaid_async.sandbox.faults import FaultPlan
from tests.sandbox.helpers import (
    assert_accounts,
    assert_plaid_error,
    credentials,
    post,
    wait_in_flight,
)

BALANCE = "/accounts/balance/get"
GET = "/accounts/get"
TIMEOUT = aiohttp.ClientTimeout(total=0.5)


def certain(kind: str) -> Faults:
    rates: dict[str, Any] = {f"rate_{kind}": 1.0}
    return Faults(**rates)


def test_the_fault_kinds() -> None:
    """The list the docs, the CLI flags and the tests below go through."""
    assert set(FAULT_KINDS) == {
        "500",
        "502",
        "503",
        "maintenance",
        "429",
        "reset",
        "hang",
        "truncate",
        "short_read",
        "drip",
    }


@pytest.mark.parametrize("path", [GET, BALANCE])
async def test_500_is_plaids_internal_server_error(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, path: str
) -> None:
    plaid_sandbox.set_faults(certain("500"))
    error = assert_plaid_error(await post(http, plaid_sandbox, path), "INTERNAL_SERVER_ERROR")
    assert error["error_type"] == "API_ERROR"
    assert plaid_sandbox.stats.faults == {"500": 1}
    assert plaid_sandbox.stats.by_status == {500: 1}


@pytest.mark.parametrize("status", [502, 503])
async def test_502_and_503_are_gateway_html_pages(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, status: int
) -> None:
    plaid_sandbox.set_faults(certain(str(status)))
    reply = await post(http, plaid_sandbox, BALANCE)
    assert reply.status == status
    assert reply.headers["Content-Type"] == "text/html"
    assert reply.body.startswith(b"<html>")
    assert f"<h1>{status} ".encode() in reply.body
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.body)
    assert plaid_sandbox.stats.errors == {}  # no Plaid error body was sent


async def test_maintenance_is_plaids_planned_maintenance(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(certain("maintenance"))
    error = assert_plaid_error(await post(http, plaid_sandbox), "PLANNED_MAINTENANCE")
    assert error["error_type"] == "API_ERROR"
    assert plaid_sandbox.stats.by_status == {503: 1}


@pytest.mark.parametrize("code", sorted(RATE_LIMIT_CODES))
async def test_429_answers_with_each_of_plaids_rate_limit_codes(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, code: str
) -> None:
    plaid_sandbox.set_faults(Faults(rate_429=1.0, code_429=code))
    error = assert_plaid_error(await post(http, plaid_sandbox, BALANCE), code)
    assert error["error_type"] == "RATE_LIMIT_EXCEEDED"
    assert plaid_sandbox.stats.errors == {code: 1}


def test_rate_limit_codes_are_plaids() -> None:
    assert {
        "RATE_LIMIT",
        "ACCOUNTS_LIMIT",
        "BALANCE_LIMIT",
        "ACCOUNTS_BALANCE_GET_LIMIT",
        "INSTITUTION_RATE_LIMIT",
    } == RATE_LIMIT_CODES
    with pytest.raises(ValueError, match="code_429"):
        Faults(code_429="ITEM_LOCKED")


async def test_reset_drops_the_connection_without_an_answer(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(certain("reset"))
    with pytest.raises((aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
        await post(http, plaid_sandbox)
    stats = plaid_sandbox.stats
    assert (stats.requests, stats.faults, stats.by_status) == (1, {"reset": 1}, {})


async def test_hang_never_answers_and_ends_when_the_client_goes(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(certain("hang"))
    with pytest.raises(asyncio.TimeoutError):
        async with http.post(
            plaid_sandbox.url + GET, json={"access_token": plaid_sandbox.token(1)}, timeout=TIMEOUT
        ):
            pass
    for _ in range(100):  # the handler is cancelled once the server sees the socket close
        if plaid_sandbox.stats.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert plaid_sandbox.stats.in_flight == 0
    assert plaid_sandbox.stats.by_status == {}


async def test_truncate_sends_half_a_body_whose_length_matches(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(certain("truncate"))
    reply = await post(http, plaid_sandbox)
    assert reply.status == 200
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    assert reply.body.startswith(b'{"accounts":[')
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.body)


async def test_short_read_promises_more_than_it_sends(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(certain("short_read"))
    async with http.post(
        plaid_sandbox.url + GET,
        json={"access_token": plaid_sandbox.token(1)},
        headers=credentials(plaid_sandbox),
        timeout=TIMEOUT,
    ) as resp:
        assert resp.status == 200
        assert resp.content_length is not None
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


async def test_drip_sends_the_whole_answer_one_byte_at_a_time(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(Faults(rate_drip=1.0, drip_interval=0.0))
    assert_accounts(await post(http, plaid_sandbox, BALANCE))  # all of it, and Plaid's


async def test_drip_spaces_the_bytes_by_the_interval(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(Faults(rate_drip=1.0, drip_interval=0.05))
    async with http.post(
        plaid_sandbox.url + GET,
        json={"access_token": plaid_sandbox.token(1)},
        headers=credentials(plaid_sandbox),
    ) as resp:
        assert resp.status == 200
        first = await resp.content.readexactly(1)
        start = time.monotonic()
        rest = await resp.content.readexactly(3)
        elapsed = time.monotonic() - start
        assert first + rest == b'{"ac'
        assert resp.content_length is not None
        assert resp.content_length > 100
    assert elapsed >= 0.14  # three gaps of 50 ms; a loaded machine only makes it longer


async def test_plaid_error_codes_can_be_enqueued(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.enqueue("PRODUCT_NOT_READY", "INSTITUTION_RATE_LIMIT", "ok")
    assert plaid_sandbox.queued == ("PRODUCT_NOT_READY", "INSTITUTION_RATE_LIMIT", "ok")
    assert_plaid_error(await post(http, plaid_sandbox), "PRODUCT_NOT_READY")
    assert_plaid_error(await post(http, plaid_sandbox, BALANCE), "INSTITUTION_RATE_LIMIT")
    assert_accounts(await post(http, plaid_sandbox))
    assert not plaid_sandbox.queued


def test_enqueue_refuses_unknown_outcomes(plaid_sandbox: SandboxServer) -> None:
    with pytest.raises(ValueError, match="unknown outcome 'boom'"):
        plaid_sandbox.enqueue("ok", "boom")
    assert not plaid_sandbox.queued  # all or nothing
    plaid_sandbox.enqueue("500", "ok")
    plaid_sandbox.clear_queue()
    assert plaid_sandbox.queued == ()


async def test_the_queue_wins_over_the_rates(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(certain("500"))
    plaid_sandbox.enqueue("ok")
    assert_accounts(await post(http, plaid_sandbox))
    assert_plaid_error(await post(http, plaid_sandbox), "INTERNAL_SERVER_ERROR")


# -- choosing faults ----------------------------------------------------------------------

MIXED = Faults(rate_500=0.2, rate_503=0.1, rate_429=0.2, rate_truncate=0.1, latency=0.5)


def outcomes(plan: FaultPlan, n: int) -> list[tuple[str, float]]:
    return [(d.outcome, d.delay) for d in (plan.decide(BALANCE) for _ in range(n))]


def test_the_same_seed_gives_the_same_decisions() -> None:
    first = outcomes(FaultPlan(MIXED, seed=42), 300)
    assert first == outcomes(FaultPlan(MIXED, seed=42), 300)
    assert first != outcomes(FaultPlan(MIXED, seed=43), 300)


def test_the_rates_are_the_shares_of_requests() -> None:
    counts: dict[str, int] = {}
    for outcome, _ in outcomes(FaultPlan(MIXED, seed=1), 20_000):
        counts[outcome] = counts.get(outcome, 0) + 1
    expected = {"500": 0.2, "503": 0.1, "429": 0.2, "truncate": 0.1, "ok": 0.4}
    assert set(counts) == set(expected)
    for outcome, share in expected.items():
        assert counts[outcome] / 20_000 == pytest.approx(share, abs=0.015)


def test_queued_requests_use_up_draws_so_positions_keep_their_fate() -> None:
    plain, queued = FaultPlan(MIXED, seed=9), FaultPlan(MIXED, seed=9)
    queued.enqueue(["hang", "hang"])
    assert [o for o, _ in outcomes(queued, 2)] == ["hang", "hang"]
    assert outcomes(queued, 50) == outcomes(plain, 52)[2:]


@pytest.mark.parametrize(
    "bad",
    [
        {"rate_500": 1.5},
        {"rate_500": -0.1},
        {"rate_500": True},
        {"rate_500": 0.6, "rate_reset": 0.6},
        {"latency": -1},
        {"latency": "slow"},
        {"latency": float("inf")},
        {"latency_scale": -1},
        {"drip_interval": float("nan")},
    ],
)
def test_bad_faults_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        Faults(**bad)  # type: ignore[arg-type]


def test_set_faults_takes_only_faults(plaid_sandbox: SandboxServer) -> None:
    with pytest.raises(TypeError, match="must be a Faults"):
        plaid_sandbox.set_faults({"rate_500": 1.0})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="probability"):
        plaid_sandbox.update_faults(rate_500=2)
    assert plaid_sandbox.faults == Faults()


async def test_two_servers_with_one_seed_misbehave_alike(http: aiohttp.ClientSession) -> None:
    """The seed reproduces a run over the wire, not only in the plan."""
    mixed = Faults(rate_500=0.3, rate_502=0.2, rate_429=0.2)
    seen = []
    for _ in range(2):
        async with SandboxServer(seed=5, faults=mixed) as sandbox:
            seen.append([(await post(http, sandbox)).status for _ in range(30)])
    assert seen[0] == seen[1]
    assert {200, 500, 502, 429} == set(seen[0])


@pytest.mark.plaid_sandbox(faults=Faults(rate_500=1.0))
async def test_faults_set_at_start_and_changed_at_run_time(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    assert (await post(http, plaid_sandbox)).status == 500
    assert plaid_sandbox.update_faults(rate_500=0.0, rate_503=1.0) == Faults(rate_503=1.0)
    assert (await post(http, plaid_sandbox)).status == 503
    plaid_sandbox.set_faults(Faults())
    assert_accounts(await post(http, plaid_sandbox))


async def test_a_change_reaches_the_next_request_not_the_one_in_flight(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(Faults(latency=0.3, rate_429=1.0, code_429="BALANCE_LIMIT"))
    in_flight = asyncio.create_task(post(http, plaid_sandbox, BALANCE))
    await wait_in_flight(plaid_sandbox)
    plaid_sandbox.set_faults(Faults(rate_429=1.0, code_429="ACCOUNTS_BALANCE_GET_LIMIT"))
    assert_plaid_error(await post(http, plaid_sandbox, BALANCE), "ACCOUNTS_BALANCE_GET_LIMIT")
    assert_plaid_error(await in_flight, "BALANCE_LIMIT")  # decided when it arrived
