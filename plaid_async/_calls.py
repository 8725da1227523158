"""The calls a client has in flight, so that closing it ends them at once and leaves none behind.

Closing the connection pool alone would not do: a call sleeping between two attempts, or
waiting on a rate limiter, would wake up seconds later into a closed client. Instead each call
registers its task; :meth:`CallTracker.close` cancels those tasks and waits for them to leave
the client, and each call turns that cancellation (and only that one) into a
:class:`~plaid_async.PlaidConnectionError` that says what happened.
"""

from __future__ import annotations

import asyncio
import contextlib

from ._compat import being_cancelled, uncancel
from .errors import PlaidConnectionError

__all__ = ["CLOSED_MESSAGE", "CallTracker"]

CLOSED_MESSAGE = "this PlaidClient is closed; create a new one"

_UNWIND_SECONDS = 5.0
"""How long :meth:`CallTracker.close` waits for cancelled calls to leave the client."""


class CallTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._cancelled: set[asyncio.Task[object]] = set()
        self._unwinding: set[asyncio.Task[object]] = set()
        self._closing = False
        self._idle: asyncio.Event | None = None

    @property
    def closing(self) -> bool:
        return self._closing

    def enter(self) -> asyncio.Task[object] | None:
        """Register the current task's call; a RuntimeError once the client is closing."""
        if self._closing:
            raise RuntimeError(CLOSED_MESSAGE)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        return task

    def leave(self, task: asyncio.Task[object] | None) -> None:
        if task is not None:
            self._tasks.discard(task)
            self._cancelled.discard(task)
            self._unwinding.discard(task)
        if self._idle is not None and not self._unwinding:
            self._idle.set()

    def closed_error(self, task: asyncio.Task[object] | None) -> PlaidConnectionError | None:
        """The error to raise instead of a CancelledError that :meth:`close` caused, or None
        for any other cancellation (the caller's own, which must propagate)."""
        if task is None or task not in self._cancelled:
            return None
        self._cancelled.discard(task)
        if uncancel(task) > 0:
            return None  # the caller cancelled it too: theirs wins
        return PlaidConnectionError(
            "the PlaidClient was closed while this call was in flight; nothing more was sent"
        )

    async def close(self) -> None:
        """Refuse new calls, cancel those in flight and wait (briefly) until they are gone."""
        self._closing = True
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current and not task.done():
                if not being_cancelled(task):  # if it is, the cancellation is the caller's
                    self._cancelled.add(task)
                self._unwinding.add(task)
                task.cancel()
        if not self._unwinding:
            return
        self._idle = asyncio.Event()
        # A call stuck in a limiter that ignores cancellation: close the pool anyway.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), _UNWIND_SECONDS)
