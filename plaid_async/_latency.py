"""Latency quantiles in bounded memory, for summaries of runs over millions of tokens.

A log-bucketed histogram (the DDSketch idea): each positive value falls in the bucket
``ceil(log(value) / log(GAMMA))``, so a bucket's midpoint is within ``RELATIVE_ERROR`` of every
value in it. From a microsecond to a day that is under 1,400 buckets, however many values.
"""

from __future__ import annotations

import math
from collections import Counter

__all__ = ["RELATIVE_ERROR", "LatencySketch"]

RELATIVE_ERROR = 0.01
_GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = math.log(_GAMMA)


class LatencySketch:
    """Quantiles of non-negative seconds, each within 1% of an exact (nearest-rank) quantile."""

    __slots__ = ("_buckets", "_count", "_zeros")

    def __init__(self) -> None:
        self._buckets: Counter[int] = Counter()
        self._zeros = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, seconds: float) -> None:
        self._count += 1
        if seconds <= 0:
            self._zeros += 1
        else:
            self._buckets[math.ceil(math.log(seconds) / _LOG_GAMMA)] += 1

    def quantile(self, q: float) -> float:
        """The value at quantile ``q`` (0 to 1) by nearest rank; 0 with no values."""
        if not 0 <= q <= 1:
            raise ValueError(f"quantile must be between 0 and 1, not {q}")
        if self._count == 0:
            return 0.0
        rank = max(1, math.ceil(q * self._count))  # 1-based, nearest rank
        seen = self._zeros
        if rank <= seen:
            return 0.0
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if rank <= seen:
                return 2 * _GAMMA**key / (_GAMMA + 1)
        raise AssertionError("unreachable: the ranks add up to the count")  # pragma: no cover
