"""SIGINT and SIGTERM for a batch command: the first stops new work, the second abandons the rest.

The first signal sets :attr:`StopRequest.signum`; the command takes no new tokens and lets the
ones in flight finish (each bounded by its deadline), so every result fetched is written. A
second signal cancels the run: the requests in flight are dropped, and their tokens are fetched
again on the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from types import TracebackType

__all__ = ["StopRequest"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Installed on the running loop while entered; ``on_first(signum)`` tells the user."""

    def __init__(self, on_first: Callable[[int], object]) -> None:
        self.signum: int | None = None
        self.forced = False
        self._on_first = on_first
        self._task: asyncio.Task[object] | None = None

    def requested(self) -> bool:
        return self.signum is not None

    def __enter__(self) -> StopRequest:
        self._task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in SIGNALS:
            # No signal handlers on Windows: Ctrl+C raises KeyboardInterrupt there.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self._handle, signum)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        for signum in SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)

    def _handle(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
            self._on_first(signum)
        elif not self.forced and self._task is not None:
            self.forced = True
            self._task.cancel()
