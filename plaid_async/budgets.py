"""Rate budgets: how many requests per window, per endpoint, for the client and per Item.

Pure data and one pure algorithm (a sliding log), shared by the in-process limiter, the
emulator's rate limits and, as a Lua twin, the Redis limiter. Plaid counts per ``client_id`` per
endpoint, and per Item per endpoint, over a minute (plaid-facts.md section 5); a budget says the
same thing in our terms. :data:`PUBLISHED_LIMITS` is the one copy of Plaid's numbers.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from attrs import field, frozen

from .endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH

__all__ = [
    "PUBLISHED_LIMITS",
    "PUBLISHED_WINDOW",
    "Budget",
    "Budgets",
    "PublishedLimits",
    "SlidingLog",
]


@frozen
class PublishedLimits:
    """Plaid's limits for one environment: requests per :data:`PUBLISHED_WINDOW` by endpoint
    path, for the whole ``client_id`` and for each Item."""

    per_client: Mapping[str, int]
    per_item: Mapping[str, int]


PUBLISHED_WINDOW = 60.0
"""Plaid counts over a minute."""

PUBLISHED_LIMITS: Mapping[str, PublishedLimits] = {
    "production": PublishedLimits(
        per_client={ACCOUNTS_BALANCE_GET_PATH: 1_200, ACCOUNTS_GET_PATH: 15_000},
        per_item={ACCOUNTS_BALANCE_GET_PATH: 5, ACCOUNTS_GET_PATH: 15},
    ),
    "sandbox": PublishedLimits(
        per_client={ACCOUNTS_BALANCE_GET_PATH: 100, ACCOUNTS_GET_PATH: 5_000},
        per_item={ACCOUNTS_BALANCE_GET_PATH: 25, ACCOUNTS_GET_PATH: 100},
    ),
}
"""Plaid's published limits by environment (plaid.com/docs/errors/rate-limit-exceeded/,
snapshot of 2026-03-07), used by :class:`Budgets`' presets and the emulator's ``RateLimits``.
Plaid says some customers have others and that they may change."""

MAX_MARGIN = 1.0
"""The default margin is 5% of the window, at most this many seconds."""


def _positive_int(_: object, attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{getattr(attribute, 'name', '')} must be an int")
    if value < 1:
        raise ValueError(f"{getattr(attribute, 'name', '')} must be at least 1")


def _seconds(_: object, attribute: object, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{getattr(attribute, 'name', '')} must be a finite number of seconds")
    if value <= 0:
        raise ValueError(f"{getattr(attribute, 'name', '')} must be positive")


def _margin(_: object, __: object, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError("margin must be a finite number of seconds, or None")
    if value < 0:
        raise ValueError("margin must not be negative")


@frozen
class Budget:
    """At most ``limit`` requests in any ``per`` seconds.

    The limiter counts each request against a window ``margin`` seconds longer than ``per``
    (by default 5% of it, at most 1 s). Between taking budget and the request reaching Plaid
    lie a connection, a TLS handshake, a busy event loop; without the margin, two requests
    one window apart by our clock can land inside one window by Plaid's and draw a 429.
    """

    limit: int = field(validator=_positive_int)
    per: float = field(validator=_seconds)
    margin: float | None = field(default=None, validator=_margin, kw_only=True)

    @classmethod
    def rate(cls, requests_per_second: float) -> Budget:
        """``requests_per_second``, evenly: e.g. 2.5 is 3 requests per 1.2 s."""
        _seconds(None, "requests_per_second", requests_per_second)
        limit = math.ceil(requests_per_second)
        return cls(limit, limit / requests_per_second)

    @property
    def window(self) -> float:
        """The seconds each request is counted for: ``per`` plus the margin."""
        margin = min(MAX_MARGIN, 0.05 * self.per) if self.margin is None else self.margin
        return self.per + margin

    def scaled(self, factor: float) -> Budget:
        """This budget times ``factor`` (at least one request per window)."""
        return Budget(max(1, math.floor(self.limit * factor)), self.per, margin=self.margin)


def _budget_map(value: Mapping[str, Budget]) -> Mapping[str, Budget]:
    result = dict(value)
    for path, budget in result.items():
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(
                f"a budget's key must be an endpoint path such as {ACCOUNTS_GET_PATH!r}"
            )
        if not isinstance(budget, Budget):
            raise TypeError(f"the budget for {path} must be a Budget, not {type(budget).__name__}")
    return result


@frozen(kw_only=True)
class Budgets:
    """Budgets by endpoint path: ``per_client`` for the whole ``client_id``, ``per_item`` for
    each Item. A path with no budget is not limited.

    The presets are Plaid's published limits (:data:`PUBLISHED_LIMITS`); Plaid says some
    customers have others and they may change.
    """

    per_client: Mapping[str, Budget] = field(factory=dict, converter=_budget_map)
    per_item: Mapping[str, Budget] = field(factory=dict, converter=_budget_map)

    @classmethod
    def production(cls) -> Budgets:
        """Production: balance 1,200/min per client and 5/min per Item; accounts 15,000 and 15."""
        return cls.for_environment("production")

    @classmethod
    def sandbox(cls) -> Budgets:
        """Sandbox: balance 100/min per client and 25/min per Item; accounts 5,000 and 100."""
        return cls.for_environment("sandbox")

    @classmethod
    def for_environment(cls, environment: str) -> Budgets:
        published = PUBLISHED_LIMITS.get(environment)
        if published is None:
            raise ValueError(f"no preset budgets for environment {environment!r}")
        return cls(
            per_client={p: Budget(n, PUBLISHED_WINDOW) for p, n in published.per_client.items()},
            per_item={p: Budget(n, PUBLISHED_WINDOW) for p, n in published.per_item.items()},
        )

    def scaled(self, factor: float) -> Budgets:
        """Every budget times ``factor``: a share of the client's budget for one process."""
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 0:
            raise ValueError("factor must be a positive number")
        return Budgets(
            per_client={path: b.scaled(factor) for path, b in self.per_client.items()},
            per_item={path: b.scaled(factor) for path, b in self.per_item.items()},
        )

    def rules(self, path: str, item_key: str) -> list[tuple[str, Budget]]:
        """The ``(scope key, budget)`` pairs a request to ``path`` for ``item_key`` counts
        against: the client's first, then the Item's."""
        rules = []
        if path in self.per_client:
            rules.append((f"client:{path}", self.per_client[path]))
        if path in self.per_item:
            rules.append((f"item:{path}:{item_key}", self.per_item[path]))
        return rules


class SlidingLog:
    """In-memory sliding-window logs: admit a request only if every one of its budgets has
    room, and then count it in all of them at once (never in some only).

    The one in-memory sliding window: :class:`~plaid_async.LocalRateLimiter` waits on it, the
    emulator refuses with it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._logs: dict[str, deque[float]] = {}
        self._longest = 0.0  # the longest window seen: older entries count for nothing
        self._last_sweep = clock()

    def try_acquire(self, rules: Sequence[tuple[str, Budget]]) -> float:
        """0.0 if admitted (and counted), else the seconds until it may be."""
        now = self._clock()
        self._sweep(now)
        wait = 0.0
        for key, budget in rules:
            wait = max(wait, self._wait(key, budget, now))
        if wait > 0:
            return wait
        self._count(rules, now)
        return 0.0

    def admit(self, rules: Sequence[tuple[str, Budget]]) -> int | None:
        """None if admitted (and counted), else the index in ``rules`` of the first budget
        with no room (the emulator answers with that budget's error code)."""
        now = self._clock()
        self._sweep(now)
        for index, (key, budget) in enumerate(rules):
            if self._wait(key, budget, now) > 0:
                return index
        self._count(rules, now)
        return None

    def __len__(self) -> int:
        """How many logs are kept (budgets with requests in their window, or lately)."""
        return len(self._logs)

    def _wait(self, key: str, budget: Budget, now: float) -> float:
        """Seconds until ``budget`` of ``key`` has room; 0.0 if it has now."""
        self._longest = max(self._longest, budget.window)
        log = self._recent(key, budget.window, now)
        if len(log) < budget.limit:
            return 0.0
        return log[len(log) - budget.limit] + budget.window - now

    def _count(self, rules: Sequence[tuple[str, Budget]], now: float) -> None:
        for key, _ in rules:
            self._logs.setdefault(key, deque()).append(now)

    def _recent(self, key: str, window: float, now: float) -> deque[float]:
        log = self._logs.get(key, deque())
        while log and log[0] <= now - window:
            log.popleft()
        return log

    def _sweep(self, now: float, every: float = 60.0) -> None:
        """Forget empty logs now and then, so a run over a million Items stays small."""
        if now - self._last_sweep < every:
            return
        self._last_sweep = now
        horizon = now - self._longest
        stale = [key for key, log in self._logs.items() if not log or log[-1] <= horizon]
        for key in stale:
            del self._logs[key]
