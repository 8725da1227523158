"""Peak memory of a streamed run: 100,000 tokens against 20,000 (the target: within 10%).

Each size runs in a fresh process against one emulator (in a process of its own, no latency).
The tokens come from a generator and the results are counted in a ``BatchSummary``, so a run
that holds nothing per token needs the same memory whatever the count. Reported: the
tracemalloc peak during the run and what the run left allocated after it (a leak per token
would show there), and the growth of the resident set over its start (sampled
from /proc, so Linux only). The token values repeat every 4,000 (the emulator caches 4,096
Items, and would otherwise be the bottleneck); to the client each is a token of its own.

    python benchmarks/batch_memory.py [--sizes 20000 100000] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc

from _emulator import emulator

from plaid_async import BatchSummary, PlaidClient
from plaid_async.sandbox import DEFAULT_CLIENT_ID, DEFAULT_SECRET, SandboxServer

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """The resident set size now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


async def measure(url: str, tokens: int, concurrency: int) -> dict[str, float]:
    async with PlaidClient(
        DEFAULT_CLIENT_ID, DEFAULT_SECRET, base_url=url, max_connections=concurrency
    ) as client:
        warm = (SandboxServer.token(i) for i in range(4000))
        async for _ in client.accounts_balance_get_many(warm, concurrency=concurrency):
            pass  # open the connections and fill every cache before measuring
        gc.collect()
        base_rss = peak_rss = rss()
        tracemalloc.start()
        start = time.perf_counter()
        summary = BatchSummary()
        source = (SandboxServer.token(i % 4000) for i in range(tokens))
        async for result in client.accounts_balance_get_many(source, concurrency=concurrency):
            summary.add(result)
            if summary.total % 1000 == 0:
                peak_rss = max(peak_rss, rss())
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()  # what the run left behind
        tracemalloc.stop()
    if summary.ok != tokens:
        raise SystemExit(f"only {summary.ok} of {tokens} succeeded: {summary}")
    return {
        "tokens": tokens,
        "seconds": elapsed,
        "tracemalloc_peak": peak,
        "retained": retained,
        "rss_growth": max(peak_rss, rss()) - base_rss,
        "rss_peak": max(peak_rss, rss()),
    }


def child(url: str, tokens: int, concurrency: int) -> None:
    print(json.dumps(asyncio.run(measure(url, tokens, concurrency))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--child", nargs=2, metavar=("URL", "TOKENS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.concurrency)
        return
    rows = []
    with emulator("--latency", "0") as url:
        for size in args.sizes:
            command = [sys.executable, __file__, "--child", url, str(size)]
            command += ["--concurrency", str(args.concurrency)]
            out = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
            row = json.loads(out.stdout)
            rows.append(row)
            print(
                f"{size:>7} tokens in {row['seconds']:6.1f} s: tracemalloc peak "
                f"{row['tracemalloc_peak'] / 2**20:6.2f} MiB (retained after "
                f"{row['retained'] / 2**10:.0f} KiB), RSS growth "
                f"{row['rss_growth'] / 2**20:6.2f} MiB (peak RSS {row['rss_peak'] / 2**20:.1f} MiB)"
            )
    first, last = rows[0], rows[-1]
    print(
        f"{last['tokens']} vs {first['tokens']}: tracemalloc peak "
        f"{last['tracemalloc_peak'] / first['tracemalloc_peak']:.3f}x, RSS growth "
        f"{last['rss_growth'] / 2**20 - first['rss_growth'] / 2**20:+.2f} MiB, peak RSS "
        f"{last['rss_peak'] / first['rss_peak']:.3f}x (target: within 10%)"
    )


if __name__ == "__main__":
    main()
