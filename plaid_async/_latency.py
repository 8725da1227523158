"""Latency quantiles in bounded memory, for summaries of runs over millions of tokens.

Up to ``EXACT_LIMIT`` values are kept as they are and give exact quantiles; past that they are
folded into a log-bucketed histogram (the DDSketch idea): each positive value falls in the
bucket ``ceil(log(value) / log(GAMMA))``, so a bucket's midpoint is within ``RELATIVE_ERROR``
of every value in it. From a microsecond to a day that is under 1,400 buckets.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter

from ._checks import check_probability

__all__ = ["EXACT_LIMIT", "RELATIVE_ERROR", "LatencySketch"]

EXACT_LIMIT = 10_000
RELATIVE_ERROR = 0.01
_GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = math.log(_GAMMA)


class LatencySketch:
    """Quantiles of non-negative seconds: exact for up to ``EXACT_LIMIT`` values, then each
    within 1% of the exact (nearest-rank) quantile."""

    __slots__ = ("_buckets", "_count", "_exact", "_zeros")

    def __init__(self) -> None:
        self._exact: list[float] | None = []
        self._buckets: Counter[int] = Counter()
        self._zeros = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, seconds: float) -> None:
        self._count += 1
        if self._exact is not None:
            self._exact.append(seconds)
            if len(self._exact) > EXACT_LIMIT:
                exact, self._exact = self._exact, None
                self._count -= len(exact)
                for value in exact:
                    self.add(value)
            return
        if seconds <= 0:
            self._zeros += 1
        else:
            self._buckets[math.ceil(math.log(seconds) / _LOG_GAMMA)] += 1

    def quantile(self, q: float) -> float:
        """The value at quantile ``q`` (0 to 1) by nearest rank; 0 with no values."""
        check_probability("quantile", q)
        if self._count == 0:
            return 0.0
        if self._exact is not None:
            return _exact_quantile(self._exact, q)
        rank = max(1, math.ceil(q * self._count))  # 1-based, nearest rank
        seen = self._zeros
        if rank <= seen:
            return 0.0
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if rank <= seen:
                return 2 * _GAMMA**key / (_GAMMA + 1)
        raise AssertionError("unreachable: the ranks add up to the count")  # pragma: no cover


def _exact_quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=1000, method="inclusive")
    return cuts[min(len(cuts) - 1, max(0, round(q * 1000) - 1))]
