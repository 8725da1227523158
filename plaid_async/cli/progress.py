"""Live counts of a batch on stderr: a rich bar on a terminal, a plain line now and then elsewhere.

Under cron or with stderr sent to a log, a redrawn bar would be noise: there it becomes a line
every ``interval`` seconds and one at the end, so the log still shows the run moving.

On a terminal the bar is two lines, made to read at 80 columns: the count (``140/500``),
``elapsed`` and ``remaining`` never cut (the bar gives way), then the outcomes and the calls in
flight, read live from the batch's counts. The remaining time is the pace so far applied to
what is left, so it grows while the last calls retry instead of standing still.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.table import Column
from rich.text import Text

from plaid_async import BatchProgress

__all__ = ["ProgressDisplay", "clock", "counts_text", "remaining_seconds"]


def counts_text(progress: BatchProgress) -> str:
    return (
        f"{progress.ok} ok, {progress.failed} failed, {progress.retried} retries, "
        f"{progress.in_flight} in flight"
    )


def clock(seconds: float) -> str:
    """``0:02:05``: hours, minutes, seconds."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def remaining_seconds(elapsed: float, done: int, total: int) -> float | None:
    """The time left at the pace so far; None before the first result."""
    if done <= 0:
        return None
    return elapsed * max(0, total - done) / done


class _Elapsed(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"elapsed {clock(task.elapsed or 0.0)}", style="progress.elapsed")


class _Remaining(ProgressColumn):
    def render(self, task: Task) -> Text:
        left = remaining_seconds(task.elapsed or 0.0, int(task.completed), int(task.total or 0))
        shown = "-:--:--" if left is None else clock(left)
        return Text(f"remaining {shown}", style="progress.remaining")


class _TwoLines(Progress):
    """The bar's line, then the outcomes' line."""

    def __init__(self, *columns: ProgressColumn, counts: BatchProgressRef, console: Console):
        self._counts = counts  # before Progress, which renders once as it starts
        super().__init__(*columns, console=console, expand=True)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield Text("  " + counts_text(self._counts.last), no_wrap=True, overflow="ellipsis")


class BatchProgressRef:
    """The latest counts, read by the bar as it redraws."""

    def __init__(self) -> None:
        self.last = BatchProgress()


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
        self._ref = BatchProgressRef()
        self._printed_at = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if self.console.is_terminal:
            fixed = {"no_wrap": True, "overflow": "ignore"}
            self._bar = _TwoLines(
                TextColumn(
                    "{task.description}",
                    table_column=Column(no_wrap=True, overflow="ellipsis", max_width=24),
                ),
                BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=3)),
                MofNCompleteColumn(table_column=Column(**fixed)),  # type: ignore[arg-type]
                _Elapsed(table_column=Column(**fixed)),  # type: ignore[arg-type]
                _Remaining(table_column=Column(**fixed)),  # type: ignore[arg-type]
                counts=self._ref,
                console=self.console,
            )
            self._task = self._bar.add_task(description, total=total)

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
        return self._ref.last

    def update(self, progress: BatchProgress) -> None:
        self._ref.last = progress
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=progress.done)
        elif time.monotonic() - self._printed_at >= self._interval:
            self._print_line()

    def note(self, text: str) -> None:
        """A message on stderr, above the bar if there is one."""
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _print_line(self) -> None:
        self._printed_at = time.monotonic()
        last = self._ref.last
        self.console.print(
            f"{self._description}: {last.done}/{self._total} done, {counts_text(last)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
