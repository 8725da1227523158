"""Plaid's per-Item and per-client rate limits, per endpoint, over a sliding minute.

Off unless asked for. The presets are Plaid's published numbers (plaid-facts.md section 5);
the codes are the ones Plaid answers with: ``ACCOUNTS_LIMIT`` on ``/accounts/get``,
``BALANCE_LIMIT`` (per Item) and ``ACCOUNTS_BALANCE_GET_LIMIT`` (per client) on
``/accounts/balance/get``. Only requests that were let through count against a limit.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import attrs
from attrs import field, frozen

from .validation import ACCOUNTS_BALANCE_GET, ACCOUNTS_GET

__all__ = ["RateLimiter", "RateLimits"]


def _limit(_: object, attribute: object, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{getattr(attribute, 'name', '')} must be a positive int or None")


def _window(_: object, __: object, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("window must be a number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise ValueError("window must be a positive, finite number of seconds")


@frozen(kw_only=True)
class RateLimits:
    """Requests allowed per ``window`` seconds (a minute, as Plaid counts); None is no limit.

    The defaults are Plaid's Sandbox limits; :meth:`production` gives Production's.
    """

    accounts_get_per_item: int | None = field(default=100, validator=_limit)
    accounts_get_per_client: int | None = field(default=5_000, validator=_limit)
    balance_per_item: int | None = field(default=25, validator=_limit)
    balance_per_client: int | None = field(default=100, validator=_limit)
    window: float = field(default=60.0, validator=_window)

    @classmethod
    def sandbox(cls) -> RateLimits:
        return cls()

    @classmethod
    def production(cls) -> RateLimits:
        return cls(
            accounts_get_per_item=15,
            accounts_get_per_client=15_000,
            balance_per_item=5,
            balance_per_client=1_200,
        )

    @classmethod
    def parse(cls, spec: str) -> RateLimits | None:
        """Limits from a command-line spec: ``off``, ``sandbox``, ``production``, or
        comma-separated ``field=value`` overrides after an optional preset, e.g.
        ``balance_per_client=40,window=1`` (limits not named are off) or
        ``production,window=6``. A ValueError names what is wrong.
        """
        parts = [part.strip() for part in spec.split(",") if part.strip()]
        if not parts:
            raise ValueError("an empty rate-limit spec: say off, sandbox, production or FIELD=N")
        if parts == ["off"]:
            return None
        presets = {"sandbox": cls.sandbox(), "production": cls.production()}
        if parts and parts[0] in presets:
            base = attrs.asdict(presets[parts.pop(0)])
        else:
            base = dict.fromkeys(_LIMIT_FIELDS)
        for part in parts:
            name, sep, value = part.partition("=")
            if not sep or name not in (*_LIMIT_FIELDS, "window"):
                raise ValueError(
                    f"{part!r}: expected off, sandbox, production or FIELD=VALUE with FIELD one "
                    f"of {', '.join((*_LIMIT_FIELDS, 'window'))}"
                )
            try:
                base[name] = float(value) if name == "window" else int(value)
            except ValueError:
                raise ValueError(f"{part!r}: {value!r} is not a number") from None
        return cls(**base)

    def rules(self, path: str) -> tuple[tuple[int | None, str], tuple[int | None, str]]:
        """``((per-Item limit, code), (per-client limit, code))`` for ``path``."""
        if path == ACCOUNTS_BALANCE_GET:
            return (
                (self.balance_per_item, "BALANCE_LIMIT"),
                (self.balance_per_client, "ACCOUNTS_BALANCE_GET_LIMIT"),
            )
        if path == ACCOUNTS_GET:
            return (
                (self.accounts_get_per_item, "ACCOUNTS_LIMIT"),
                (self.accounts_get_per_client, "ACCOUNTS_LIMIT"),
            )
        return ((None, ""), (None, ""))


_LIMIT_FIELDS = (
    "accounts_get_per_item",
    "accounts_get_per_client",
    "balance_per_item",
    "balance_per_client",
)


class RateLimiter:
    """Sliding-window counters, one per (endpoint, Item) and one per endpoint."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._last_sweep = clock()

    def admit(self, path: str, item_key: str) -> str | None:
        """None if the request may go on (and it is counted), else the error code to answer."""
        now = self._clock()
        self._sweep(now)
        item_rule, client_rule = self.limits.rules(path)
        keys = ((path, item_key), (path, ""))
        for (limit, code), key in zip((item_rule, client_rule), keys, strict=True):
            if limit is not None and len(self._recent(key, now)) >= limit:
                return code
        for key in keys:
            self._hits.setdefault(key, deque()).append(now)
        return None

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        hits = self._hits.get(key, deque())
        while hits and hits[0] <= now - self.limits.window:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        """Forget keys with no hit in the window, so a run over a million Items stays small."""
        if now - self._last_sweep < self.limits.window:
            return
        self._last_sweep = now
        stale = [key for key, hits in self._hits.items() if not self._recent(key, now)]
        for key in stale:
            del self._hits[key]
