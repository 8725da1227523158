"""The summary a batch command prints at the end: outcomes, failures by code, retries, latency."""

from __future__ import annotations

from plaid_async import BatchSummary

__all__ = ["duration", "plural", "summary_lines"]


def plural(count: int, noun: str) -> str:
    """``1 Item``, ``2 Items``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def duration(seconds: float) -> str:
    """``412 ms`` below a second, ``3.07 s`` above."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def summary_lines(summary: BatchSummary, *, seconds: float, retries: int) -> list[str]:
    """``summary`` of a run that took ``seconds`` and made ``retries`` retries in all."""
    rate = summary.total / seconds if seconds > 0 else 0.0
    failed = f"{summary.failed:>6}"
    if summary.by_error_code:
        codes = sorted(summary.by_error_code.items(), key=lambda kv: (-kv[1], kv[0]))
        failed += "  " + ", ".join(f"{code} {count}" for code, count in codes)
    return [
        f"{summary.total} Items in {seconds:.1f} s: {rate:.0f} Items/s",
        f"  ok       {summary.ok:>6}",
        f"  failed   {failed}",
        f"  retries  {retries:>6}  on {plural(summary.retried, 'Item')}",
        f"  latency  p50 {duration(summary.latency(0.5))}, p95 {duration(summary.latency(0.95))}",
    ]
