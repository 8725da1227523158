"""Counters of what the emulator saw and did, so a test can assert on traffic, not only results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from attrs import frozen

__all__ = ["Stats", "StatsRecorder"]


@frozen
class Stats:
    """A snapshot of the counters.

    :ivar requests: requests received.
    :ivar by_path: requests by URL path.
    :ivar by_status: answers by HTTP status (a reset or a hang has none).
    :ivar faults: faults injected by kind (from the rates or the queue); a Plaid error code
        enqueued counts under its code.
    :ivar errors: Plaid error bodies sent, by ``error_code``.
    :ivar in_flight: requests being handled now.
    :ivar max_in_flight: the most handled at once since the start or the last reset.
    """

    requests: int
    by_path: Mapping[str, int]
    by_status: Mapping[int, int]
    faults: Mapping[str, int]
    errors: Mapping[str, int]
    in_flight: int
    max_in_flight: int


class StatsRecorder:
    def __init__(self) -> None:
        self._in_flight = 0
        self.reset()

    def reset(self) -> None:
        """Zero the counters; ``max_in_flight`` restarts from the requests in flight now."""
        self._requests = 0
        self._by_path: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._faults: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._max_in_flight = self._in_flight

    def begin(self, path: str) -> None:
        self._requests += 1
        self._by_path[path] += 1
        self._in_flight += 1
        self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def end(self) -> None:
        self._in_flight -= 1

    def answered(self, status: int, error_code: str | None = None) -> None:
        self._by_status[status] += 1
        if error_code is not None:
            self._errors[error_code] += 1

    def fault(self, kind: str) -> None:
        self._faults[kind] += 1

    def snapshot(self) -> Stats:
        return Stats(
            requests=self._requests,
            by_path=dict(self._by_path),
            by_status=dict(self._by_status),
            faults=dict(self._faults),
            errors=dict(self._errors),
            in_flight=self._in_flight,
            max_in_flight=self._max_in_flight,
        )
