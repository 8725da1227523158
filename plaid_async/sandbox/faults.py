"""What can go wrong, how often, and which request it happens to: faults, drawn from a seed.

A :class:`Faults` value says how likely each fault is and how slow answers are; it can be
swapped at run time. :class:`FaultPlan` turns it into one decision per request, in arrival
order: first from the queue that ``enqueue`` fills (exact outcomes, whatever the rates), then
from a ``random.Random(seed)``. The same seed and the same requests give the same decisions.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable
from statistics import NormalDist
from typing import Literal

from attrs import field, frozen

from ..endpoints import ACCOUNTS_BALANCE_GET_PATH
from .catalog import CATALOG, RATE_LIMIT_CODES

__all__ = [
    "FAULT_KINDS",
    "PLAID_BALANCE_P50",
    "PLAID_BALANCE_P95",
    "Decision",
    "FaultPlan",
    "Faults",
    "check_outcome",
]

FAULT_KINDS: tuple[str, ...] = (
    "500",
    "502",
    "503",
    "maintenance",
    "429",
    "reset",
    "hang",
    "truncate",
    "short_read",
    "drip",
)
"""Every fault, in the order a random draw tries them. See ``docs/testing.md`` for each."""

PLAID_BALANCE_P50 = 3.0
PLAID_BALANCE_P95 = 11.0
"""Plaid's documented ``/accounts/balance/get`` latency quantiles, in seconds."""

_MU = math.log(PLAID_BALANCE_P50)
_SIGMA = (math.log(PLAID_BALANCE_P95) - _MU) / NormalDist().inv_cdf(0.95)


def _probability(_: object, attribute: object, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{getattr(attribute, 'name', '')} must be a probability in [0, 1]")


def _seconds(_: object, attribute: object, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{getattr(attribute, 'name', '')} must be a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{getattr(attribute, 'name', '')} must be finite and not negative")


def _latency(_: object, attribute: object, value: float | str) -> None:
    if value != "plaid":
        _seconds(_, attribute, value)  # type: ignore[arg-type]


def _rate_limit_code(_: object, __: object, value: str) -> None:
    if value not in RATE_LIMIT_CODES:
        raise ValueError(f"code_429 must be one of {sorted(RATE_LIMIT_CODES)}, not {value!r}")


@frozen(kw_only=True)
class Faults:
    """How the emulator misbehaves. Every rate is a probability per request, 0 by default.

    :param latency: seconds added before each answer, or ``"plaid"``: on
        ``/accounts/balance/get``, a lognormal draw with Plaid's p50 of 3 s and p95 of 11 s
        (``/accounts/get`` reads Plaid's cache and gets none).
    :param latency_scale: multiplies every latency; 0.01 makes the Plaid shape fit a test.
    :param code_429: the error code of the ``429`` fault.
    :param drip_interval: seconds between two bytes of a ``drip`` answer.
    """

    latency: float | Literal["plaid"] = field(default=0.0, validator=_latency)
    latency_scale: float = field(default=1.0, validator=_seconds)
    rate_500: float = field(default=0.0, validator=_probability)
    rate_502: float = field(default=0.0, validator=_probability)
    rate_503: float = field(default=0.0, validator=_probability)
    rate_maintenance: float = field(default=0.0, validator=_probability)
    rate_429: float = field(default=0.0, validator=_probability)
    rate_reset: float = field(default=0.0, validator=_probability)
    rate_hang: float = field(default=0.0, validator=_probability)
    rate_truncate: float = field(default=0.0, validator=_probability)
    rate_short_read: float = field(default=0.0, validator=_probability)
    rate_drip: float = field(default=0.0, validator=_probability)
    code_429: str = field(default="RATE_LIMIT", validator=_rate_limit_code)
    drip_interval: float = field(default=1.0, validator=_seconds)

    def __attrs_post_init__(self) -> None:
        total = sum(self.rate(kind) for kind in FAULT_KINDS)
        if total > 1 + 1e-9:
            raise ValueError(f"the fault rates add up to {total:g}; at most 1 is possible")

    def rate(self, kind: str) -> float:
        """The probability of fault ``kind`` (one of :data:`FAULT_KINDS`)."""
        value: float = getattr(self, f"rate_{kind}")
        return value

    def delay(self, path: str, u: float) -> float:
        """The latency for a request to ``path``, given a uniform draw ``u`` in (0, 1)."""
        if self.latency == "plaid":
            base = (
                math.exp(_MU + _SIGMA * NormalDist().inv_cdf(u))
                if path == ACCOUNTS_BALANCE_GET_PATH
                else 0.0
            )
        else:
            base = float(self.latency)
        return base * self.latency_scale


def check_outcome(name: str) -> str:
    """``name`` if ``enqueue`` can take it: ``"ok"``, a fault kind, or a Plaid error code."""
    if name == "ok" or name in FAULT_KINDS or name in CATALOG:
        return name
    raise ValueError(
        f"unknown outcome {name!r}: expected 'ok', one of {', '.join(FAULT_KINDS)}, "
        "or a Plaid error code such as 'PRODUCT_NOT_READY'"
    )


@frozen
class Decision:
    """What happens to one request: ``outcome`` (``"ok"``, a fault, or an error code) after
    ``delay`` seconds, under ``faults``: the ones in force when it arrived, so a change made
    while it is in flight (its ``code_429``, its ``drip_interval``) only reaches later ones."""

    outcome: str
    delay: float
    faults: Faults


class FaultPlan:
    """The run-time fault state: the current :class:`Faults`, the seeded draws, the queue."""

    def __init__(self, faults: Faults, seed: int | None) -> None:
        self.faults = faults
        self._random = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
        self._queue: deque[str] = deque()

    def enqueue(self, outcomes: Iterable[str]) -> None:
        checked = [check_outcome(name) for name in outcomes]
        self._queue.extend(checked)

    @property
    def queued(self) -> tuple[str, ...]:
        return tuple(self._queue)

    def clear_queue(self) -> None:
        self._queue.clear()

    def decide(self, path: str) -> Decision:
        """The next request's fate. Two draws are made for every request, queued or not, so
        a seed gives each position in the arrival order the same draws."""
        faults = self.faults
        pick, timing = self._random.random(), self._random.random()
        outcome = self._queue.popleft() if self._queue else self._pick(faults, pick)
        return Decision(outcome, faults.delay(path, max(timing, 1e-12)), faults)

    @staticmethod
    def _pick(faults: Faults, u: float) -> str:
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += faults.rate(kind)
            if u < edge:
                return kind
        return "ok"
