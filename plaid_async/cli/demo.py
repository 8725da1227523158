"""``plaid-async demo``: a nightly balance refresh in miniature, on the embedded emulator.

No credentials and no network: the emulator runs in this process on loopback, as slow as Plaid
(scaled down, so a few hundred Items take seconds) and failing as Plaid does now and then: 5xx,
gateway pages, 429s, dropped connections, cut-short bodies, and Items that need their user.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time

import click
from attrs import frozen

from plaid_async import BatchSummary, RetryPolicy
from plaid_async.endpoints import ACCOUNTS_BALANCE_GET
from plaid_async.sandbox import Faults, SandboxServer, Stats
from plaid_async.sandbox.faults import FAULT_KINDS, PLAID_BALANCE_P50, PLAID_BALANCE_P95

from .progress import ProgressDisplay
from .report import duration, summary_lines

__all__ = ["demo"]


def demo_faults(scale: float) -> Faults:
    """Plaid's balance latency times ``scale``, and 6.5% of requests misbehaving in ways a
    retry mostly clears."""
    return Faults(
        latency="plaid",
        latency_scale=scale,
        rate_500=0.02,
        rate_503=0.01,
        rate_429=0.02,
        rate_reset=0.01,
        rate_truncate=0.005,
    )


ITEM_STATES = {"ITEM_LOGIN_REQUIRED": 0.03, "INSTITUTION_NOT_RESPONDING": 0.01}
"""The share of Items in an error state: these fail, and are not retried."""


@frozen
class DemoRun:
    summary: BatchSummary
    retries: int
    seconds: float
    stats: Stats


def demo_tokens(items: int, seed: int) -> list[str]:
    """``items`` access tokens, a few of them for Items in an error state (by ``seed``)."""
    draw = random.Random(seed)  # noqa: S311 - a reproducible demo, not a secret
    tokens = []
    for n in range(items):
        u, edge = draw.random(), 0.0
        token = SandboxServer.token(f"demo-{seed}-{n}")
        for code, share in ITEM_STATES.items():
            edge += share
            if u < edge:
                token = SandboxServer.error_token(code, f"demo-{seed}-{n}")
                break
        tokens.append(token)
    return tokens


async def run_demo(
    items: int, seed: int, concurrency: int, scale: float, display: ProgressDisplay
) -> DemoRun:
    """Refresh ``items`` generated Items on an emulator as slow as Plaid times ``scale``."""
    faults = demo_faults(scale)
    # The client's defaults, scaled like the latency: 60 s attempts, waits of 0.5 to 8 s.
    retry = RetryPolicy(wait_initial=0.5 * scale, wait_max=8.0 * scale, deadline=120.0 * scale)
    timeouts = {ACCOUNTS_BALANCE_GET.path: 60.0 * scale}
    tokens = demo_tokens(items, seed)
    summary = BatchSummary()
    async with SandboxServer(seed=seed, faults=faults) as sandbox:
        async with sandbox.client(retry=retry, timeouts=timeouts) as client:
            with display:
                start = time.monotonic()
                results = client.accounts_balance_get_many(
                    tokens, concurrency=concurrency, on_progress=display.update
                )
                async with contextlib.aclosing(results):
                    async for result in results:
                        summary.add(result)
                seconds = time.monotonic() - start
        return DemoRun(summary, display.last.retried, seconds, sandbox.stats)


@click.command()
@click.option(
    "--items",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Items to refresh.",
)
@click.option(
    "--seed", type=int, help="Seed of the Items, faults and latency (default: a new one)."
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    default=32,
    show_default=True,
    help="Requests in flight.",
)
@click.option(
    "--latency-scale",
    type=click.FloatRange(min=0.001),
    default=0.1,
    show_default=True,
    help="Plaid's balance latency (p50 3 s, p95 11 s), timeouts and backoff, times this.",
)
def demo(items: int, seed: int | None, concurrency: int, latency_scale: float) -> None:
    """A balance refresh of generated Items on the embedded emulator.

    No credentials and no network: the emulator runs in this process, as slow as Plaid
    (scaled by --latency-scale) and failing now and then as Plaid does.
    """
    if seed is None:
        seed = secrets.randbelow(10_000)
    faults = demo_faults(latency_scale)
    kinds = [kind for kind in FAULT_KINDS if faults.rate(kind)]
    share = sum(faults.rate(kind) for kind in kinds)
    click.echo(f"Plaid emulator in this process, seed {seed}")
    click.echo(
        f"  latency  balance p50 {duration(PLAID_BALANCE_P50 * latency_scale)}, "
        f"p95 {duration(PLAID_BALANCE_P95 * latency_scale)} (Plaid's times {latency_scale:g})"
    )
    click.echo(
        f"  faults   {share:.1%} of requests ({', '.join(kinds)}); "
        f"{sum(ITEM_STATES.values()):.0%} of Items in an error state"
    )
    display = ProgressDisplay(items, "Refreshing balances")
    try:
        run = asyncio.run(run_demo(items, seed, concurrency, latency_scale, display))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise SystemExit(130) from None
    for line in summary_lines(run.summary, seconds=run.seconds, retries=run.retries):
        click.echo(line)
    injected = ", ".join(f"{kind} x{count}" for kind, count in sorted(run.stats.faults.items()))
    click.echo(
        f"  emulator {run.stats.requests:>6}  requests; faults injected: {injected or 'none'}"
    )
