"""A first call, and a small batch, against the embedded Plaid emulator: no credentials needed.

python examples/quickstart.py
"""

from __future__ import annotations

import asyncio
import contextlib

from plaid_async import BatchSummary, PlaidError, RetryPolicy
from plaid_async.sandbox import Faults, SandboxServer


async def main() -> None:
    # Plaid's Sandbox, emulated on loopback, with some latency and one request in ten failing.
    faults = Faults(latency=0.05, rate_500=0.05, rate_429=0.05)
    async with SandboxServer(seed=1, faults=faults) as sandbox:
        retry = RetryPolicy(wait_initial=0.05, wait_max=0.5)
        async with sandbox.client(retry=retry) as client:
            # One Item: its accounts and real-time balances, money as exact Decimals.
            resp = await client.accounts_balance_get(sandbox.token(1))
            print(f"Item {resp.item.item_id} (request_id {resp.request_id})")
            for account in resp.accounts:
                balances = account.balances
                currency = balances.iso_currency_code or balances.unofficial_currency_code
                print(
                    f"  {account.name:<28} {account.subtype!s:<14} "
                    f"current={balances.current} available={balances.available} {currency}"
                )

            # An Item that needs its user: a typed error, never retried.
            try:
                await client.accounts_get(sandbox.error_token("ITEM_LOGIN_REQUIRED"))
            except PlaidError as exc:
                print(f"\n{type(exc).__name__}: {exc}")

            # Two hundred Items, 20 at a time: one result per token, failures isolated.
            tokens = [sandbox.token(n) for n in range(200)]
            summary = BatchSummary()
            results = client.accounts_balance_get_many(tokens, concurrency=20)
            async with contextlib.aclosing(results):
                async for result in results:
                    summary.add(result)
            p50, p95 = summary.latency(0.5) * 1000, summary.latency(0.95) * 1000
            print(
                f"\n{summary.total} Items: {summary.ok} ok, {summary.failed} failed "
                f"{dict(summary.by_error_code)}, {summary.retried} needed a retry; "
                f"p50 {p50:.0f} ms, p95 {p95:.0f} ms"
            )


if __name__ == "__main__":
    asyncio.run(main())
