"""A call's deadline: the one value every step of a call measures the time left against.

It is fixed when the call starts (``RetryPolicy.deadline`` seconds later, or never), and then
the rate-limit wait, each attempt's timeout and the retry policy's stop condition all read the
same instant, so that none of them can drift from the others.
"""

from __future__ import annotations

import time

from .errors import PlaidTimeoutError

__all__ = ["Deadline"]


class Deadline:
    """``seconds`` after the moment it is made (by ``time.monotonic``), or never (None)."""

    __slots__ = ("at", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (negative once passed), or None without a deadline."""
        at = self.at
        return None if at is None else at - time.monotonic()

    def ends_by(self, instant: float) -> bool:
        """Whether the deadline comes at or before ``instant`` (a ``time.monotonic`` value)."""
        return self.at is not None and self.at <= instant

    def attempt_timeout(self, timeout: float) -> float:
        """The timeout of an attempt starting now: ``timeout``, cut to the time left. Raises
        :class:`PlaidTimeoutError` if the deadline has passed, so that nothing is sent."""
        at = self.at
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise self.passed()
        return left if left < timeout else timeout

    def passed(self, during: str = "") -> PlaidTimeoutError:
        """The error of a call that ran out of time (``during`` an attempt, say)."""
        return PlaidTimeoutError(
            f"the {self.seconds:g} s deadline passed{during}", timeout=self.seconds
        )

    def __repr__(self) -> str:
        return f"Deadline({self.seconds!r})"
