"""Plaid's per-Item and per-client rate limits, per endpoint, over a sliding minute.

Off unless asked for. The presets are Plaid's published numbers
(:data:`plaid_async.budgets.PUBLISHED_LIMITS`, the same the client's ``Budgets`` use);
the codes are the ones Plaid answers with: ``ACCOUNTS_LIMIT`` on ``/accounts/get``,
``BALANCE_LIMIT`` (per Item) and ``ACCOUNTS_BALANCE_GET_LIMIT`` (per client) on
``/accounts/balance/get``. Only requests that were let through count against a limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import attrs
from attrs import field, frozen

from ..budgets import PUBLISHED_LIMITS, PUBLISHED_WINDOW, Budget, SlidingLog
from ..endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH

__all__ = ["RateLimitCounter", "RateLimiter", "RateLimits"]

_SANDBOX = PUBLISHED_LIMITS["sandbox"]
_PRODUCTION = PUBLISHED_LIMITS["production"]


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

    accounts_get_per_item: int | None = field(
        default=_SANDBOX.per_item[ACCOUNTS_GET_PATH], validator=_limit
    )
    accounts_get_per_client: int | None = field(
        default=_SANDBOX.per_client[ACCOUNTS_GET_PATH], validator=_limit
    )
    balance_per_item: int | None = field(
        default=_SANDBOX.per_item[ACCOUNTS_BALANCE_GET_PATH], validator=_limit
    )
    balance_per_client: int | None = field(
        default=_SANDBOX.per_client[ACCOUNTS_BALANCE_GET_PATH], validator=_limit
    )
    window: float = field(default=PUBLISHED_WINDOW, validator=_window)

    @classmethod
    def sandbox(cls) -> RateLimits:
        return cls()

    @classmethod
    def production(cls) -> RateLimits:
        return cls(
            accounts_get_per_item=_PRODUCTION.per_item[ACCOUNTS_GET_PATH],
            accounts_get_per_client=_PRODUCTION.per_client[ACCOUNTS_GET_PATH],
            balance_per_item=_PRODUCTION.per_item[ACCOUNTS_BALANCE_GET_PATH],
            balance_per_client=_PRODUCTION.per_client[ACCOUNTS_BALANCE_GET_PATH],
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
        if path == ACCOUNTS_BALANCE_GET_PATH:
            return (
                (self.balance_per_item, "BALANCE_LIMIT"),
                (self.balance_per_client, "ACCOUNTS_BALANCE_GET_LIMIT"),
            )
        if path == ACCOUNTS_GET_PATH:
            return (
                (self.accounts_get_per_item, "ACCOUNTS_LIMIT"),
                (self.accounts_get_per_client, "ACCOUNTS_LIMIT"),
            )
        return ((None, ""), (None, ""))

    def budgets(self, path: str) -> list[tuple[bool, Budget, str]]:
        """The limits of a request to ``path`` as ``(per Item?, budget, error code)``, the
        Item's first, as Plaid checks; a limit that is off is left out."""
        item_rule, client_rule = self.rules(path)
        return [
            (per_item, Budget(limit, self.window, margin=0.0), code)
            for per_item, (limit, code) in ((True, item_rule), (False, client_rule))
            if limit is not None
        ]


_LIMIT_FIELDS = (
    "accounts_get_per_item",
    "accounts_get_per_client",
    "balance_per_item",
    "balance_per_client",
)


class RateLimitCounter:
    """Counts the emulator's requests against its :class:`RateLimits` and says which are over.

    The sliding window is the client's own (:class:`~plaid_async.budgets.SlidingLog`), each
    limit a :class:`~plaid_async.Budget` with no margin: the emulator counts as Plaid does.
    """

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._log = SlidingLog(clock)
        self._budgets: dict[str, list[tuple[bool, Budget, str]]] = {}

    def admit(self, path: str, item_key: str) -> str | None:
        """None if the request may go on (and it is counted), else the error code to answer."""
        budgets = self._budgets.get(path)
        if budgets is None:
            budgets = self._budgets[path] = self.limits.budgets(path)
        rules = [
            (f"item:{path}:{item_key}" if per_item else path, budget)
            for per_item, budget, _ in budgets
        ]
        refused = self._log.admit(rules)
        return None if refused is None else budgets[refused][2]

    def __len__(self) -> int:
        """How many counters are kept (one per endpoint, and per Item, with recent requests)."""
        return len(self._log)


RateLimiter = RateLimitCounter
"""The earlier name of :class:`RateLimitCounter` (not the client's
:class:`~plaid_async.RateLimiter` protocol)."""
