"""Live counts of a batch on stderr: a rich bar on a terminal, a plain line now and then elsewhere.

Under cron or with stderr sent to a log, a redrawn bar would be noise: there it becomes a line
every ``interval`` seconds and one at the end, so the log still shows the run moving.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from plaid_async import BatchProgress

__all__ = ["ProgressDisplay", "counts_text"]


def counts_text(progress: BatchProgress) -> str:
    return (
        f"{progress.ok} ok, {progress.failed} failed, {progress.retried} retries, "
        f"{progress.in_flight} in flight"
    )


class ProgressDisplay:
    """Pass :meth:`update` as a batch's ``on_progress``; use as a context manager."""

    def __init__(
        self,
        total: int,
        description: str,
        *,
        console: Console | None = None,
        interval: float = 10.0,
    ) -> None:
        self.console = console or Console(stderr=True)
        self._total = total
        self._description = description
        self._interval = interval
        self._last = BatchProgress()
        self._printed_at = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/]"),
                TextColumn("{task.fields[retried]} retries, {task.fields[in_flight]} in flight"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._task = self._bar.add_task(
                description, total=total, ok=0, failed=0, retried=0, in_flight=0
            )

    def __enter__(self) -> ProgressDisplay:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        else:
            self._print_line()

    @property
    def last(self) -> BatchProgress:
        """The counts of the latest update."""
        return self._last

    def update(self, progress: BatchProgress) -> None:
        self._last = progress
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task,
                completed=progress.done,
                ok=progress.ok,
                failed=progress.failed,
                retried=progress.retried,
                in_flight=progress.in_flight,
            )
        elif time.monotonic() - self._printed_at >= self._interval:
            self._print_line()

    def note(self, text: str) -> None:
        """A message on stderr, above the bar if there is one."""
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _print_line(self) -> None:
        self._printed_at = time.monotonic()
        self.console.print(
            f"{self._description}: {self._last.done}/{self._total} done, {counts_text(self._last)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
