"""Throughput of ``accounts_balance_get_many``: 4,000 tokens, 200 ms fixed latency, 200 in flight.

The ideal is 4,000 / 200 * 0.2 s = 4.0 s; the target is within 1.1x of it. The emulator runs in
a process of its own, so its work does not share the client's event loop.

    python benchmarks/batch_throughput.py [--tokens 4000] [--concurrency 200] [--latency 0.2]
        [--runs 3] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time

from _emulator import emulator

from plaid_async import BatchSummary, PlaidClient
from plaid_async.sandbox import DEFAULT_CLIENT_ID, DEFAULT_SECRET, SandboxServer


async def run(url: str, tokens: int, concurrency: int) -> tuple[float, float, BatchSummary]:
    """Elapsed wall-clock and CPU seconds of one run, and its summary."""
    async with PlaidClient(
        DEFAULT_CLIENT_ID, DEFAULT_SECRET, base_url=url, max_connections=concurrency
    ) as client:
        # Warm up: open the connections and fill the caches before the clock starts.
        warm = (SandboxServer.token(i) for i in range(concurrency))
        async for _ in client.accounts_get_many(warm, concurrency=concurrency):
            pass
        summary = BatchSummary()
        cpu = time.process_time()
        start = time.perf_counter()
        source = (SandboxServer.token(i) for i in range(tokens))
        async for result in client.accounts_balance_get_many(source, concurrency=concurrency):
            summary.add(result)
        return time.perf_counter() - start, time.process_time() - cpu, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=3, help="report each and the best")
    parser.add_argument("--uvloop", action="store_true", help="run the client on uvloop")
    args = parser.parse_args()
    runner = asyncio.run
    if args.uvloop:
        import uvloop  # optional, not a dependency: pip install uvloop

        runner = uvloop.run
    ideal = args.tokens / args.concurrency * args.latency
    with emulator("--latency", str(args.latency)) as url:
        ratios = []
        for n in range(1, args.runs + 1):
            elapsed, cpu, summary = runner(run(url, args.tokens, args.concurrency))
            if summary.ok != args.tokens:
                raise SystemExit(f"only {summary.ok} of {args.tokens} succeeded: {summary}")
            ratios.append(elapsed / ideal)
            print(
                f"run {n}: {args.tokens} tokens in {elapsed:.2f} s (ideal {ideal:.2f} s): "
                f"{elapsed / ideal:.3f}x; client CPU {cpu:.2f} s "
                f"({cpu / args.tokens * 1e6:.0f} us a token); per-token latency "
                f"p50 {summary.latency(0.5) * 1e3:.0f} ms, p95 {summary.latency(0.95) * 1e3:.0f} ms"
            )
    print(f"best {min(ratios):.3f}x, median {sorted(ratios)[len(ratios) // 2]:.3f}x (target 1.1x)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"client max RSS {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
