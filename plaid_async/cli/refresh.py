"""``plaid-async refresh``: every token of a file, fetched into a JSON-lines file, resumable.

Made for cron: progress on stderr, a summary on stdout, an exit status that says how it went,
and a run that can be stopped (SIGINT, SIGTERM) and started again without fetching anything
twice or losing anything (see :mod:`.results` and :mod:`.stopping`).

Where later options plug in: which tokens a run owns is the ``keep`` filter of
:func:`~.tokens.plan_tokens` (a ``--shard K/N`` of the SHA-256 digests), and what paces the
requests is the batch's ``rate_limit``, which takes a limiter object as well as a number
(``--redis-url``: a limiter shared by every process of one Plaid client).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

import click
from attrs import define, field, frozen

from plaid_async import BatchSummary
from plaid_async.client import DEFAULT_CONCURRENCY

from .credentials import Connection, base_url_option, make_client
from .output import SetupError
from .progress import ProgressDisplay
from .report import plural, summary_lines
from .results import ResultsFile, ResultsFileError, result_line
from .stopping import StopRequest
from .tokens import TokenPlan, TokensFileError, pending_tokens, plan_tokens

__all__ = ["RefreshOptions", "RefreshRun", "refresh", "run_refresh"]


@frozen
class RefreshOptions:
    tokens_file: Path
    out: Path
    concurrency: int = DEFAULT_CONCURRENCY
    rate_limit: float | None = None
    cached: bool = False
    base_url: str | None = None

    @property
    def endpoint(self) -> str:
        return "/accounts/get" if self.cached else "/accounts/balance/get"


@define
class RefreshRun:
    """How a run went: its results, and whether a signal cut it short."""

    summary: BatchSummary = field(factory=BatchSummary)
    retries: int = 0
    seconds: float = 0.0
    stopped_by: int | None = None  # the signal that stopped it
    abandoned: int = 0  # requests in flight dropped by a second signal


def exit_status(run: RefreshRun, plan: TokenPlan) -> int:
    """128 + the signal if stopped early (the shell's rule: 130 for SIGINT, 143 for SIGTERM),
    else 1 if any token of the file has a failed result (from this run or an earlier one),
    else 0."""
    if run.stopped_by is not None:
        return 128 + run.stopped_by
    return 1 if run.summary.failed or plan.done_failed else 0


async def fetch_all(
    connection: Connection,
    options: RefreshOptions,
    plan: TokenPlan,
    out: ResultsFile,
    display: ProgressDisplay,
) -> RefreshRun:
    """Fetch ``plan.pending`` into ``out``, a line as each result comes, until done or told
    to stop."""
    run = RefreshRun()

    def stopping(signum: int) -> None:
        display.note(
            f"{signal.Signals(signum).name}: taking no new tokens, letting the "
            f"{display.last.in_flight} in flight finish (send it again to abandon them)"
        )

    stop = StopRequest(stopping)
    client = connection.client
    many = client.accounts_get_many if options.cached else client.accounts_balance_get_many
    tokens = pending_tokens(options.tokens_file, plan, stop.requested)
    start = time.monotonic()
    async with client:
        with stop, display, contextlib.closing(tokens):
            results = many(
                tokens,
                concurrency=options.concurrency,
                rate_limit=options.rate_limit,
                on_progress=display.update,
            )
            try:
                async with contextlib.aclosing(results):
                    async for result in results:
                        out.append(result_line(result, secrets=(connection.secret,)))
                        run.summary.add(result)
            except asyncio.CancelledError:
                if not stop.forced:
                    raise
                run.abandoned = display.last.in_flight
                _uncancel()
    run.seconds = time.monotonic() - start
    run.retries = display.last.retried
    run.stopped_by = stop.signum
    return run


def _uncancel() -> None:
    """Take back the cancellation a second signal made (Python 3.11+ counts them)."""
    task = asyncio.current_task()
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


def run_refresh(options: RefreshOptions) -> int:
    """The whole command; its exit status. Setup problems are :class:`SetupError`."""
    connection = make_client(options.base_url)
    paths = (options.out, options.tokens_file)
    if all(path.exists() for path in paths) and options.out.samefile(options.tokens_file):
        raise SetupError("--out must not be the tokens file")
    try:
        out = ResultsFile.open(options.out)
    except ResultsFileError as exc:
        raise SetupError(str(exc)) from None
    try:
        plan = plan_tokens(options.tokens_file, out.done)
        display = ProgressDisplay(plan.to_fetch, "refresh")
        if out.repair:
            display.note(f"--out {options.out}: {out.repair}")
        display.note(
            f"{options.tokens_file}: {plan.to_fetch} tokens to fetch from {options.endpoint}, "
            f"{plan.done_ok + plan.done_failed} with a result in {options.out} already"
        )
        run = asyncio.run(fetch_all(connection, options, plan, out, display))
    except TokensFileError as exc:
        raise SetupError(str(exc)) from None
    finally:
        out.close()
    _report(run, plan, options, display)
    return exit_status(run, plan)


def _report(
    run: RefreshRun, plan: TokenPlan, options: RefreshOptions, display: ProgressDisplay
) -> None:
    if run.summary.total:
        for line in summary_lines(run.summary, seconds=run.seconds, retries=run.retries):
            click.echo(line)
    else:
        click.echo("Nothing fetched")
    done = plan.done_ok + plan.done_failed
    duplicates = f"; {plural(plan.duplicates, 'duplicate line')}" if plan.duplicates else ""
    click.echo(
        f"  skipped  {done:>6}  already in the results ({plan.done_failed} of them failed)"
        f"{duplicates}"
    )
    click.echo(f"  results  {options.out}")
    if run.stopped_by is not None:
        left = plan.to_fetch + run.abandoned
        abandoned = f" ({run.abandoned} abandoned in flight)" if run.abandoned else ""
        display.note(
            f"stopped by {signal.Signals(run.stopped_by).name}: {left} tokens not fetched"
            f"{abandoned}; run the same command again to fetch them"
        )


@click.command()
@click.argument(
    "tokens_file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSON-lines results file: created, or resumed if it exists.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Requests in flight.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    metavar="R",
    help="At most R requests a second, retries included (Plaid counts them all).",
)
@click.option(
    "--cached",
    is_flag=True,
    help="Cached accounts (/accounts/get: free, fast) instead of real-time balances "
    "(/accounts/balance/get: billed per Item).",
)
@base_url_option
def refresh(
    tokens_file: Path,
    out: Path,
    concurrency: int,
    rate_limit: float | None,
    cached: bool,
    base_url: str | None,
) -> None:
    """Fetch every token of a file into a JSON-lines file; resumable.

    Balances (or cached accounts with --cached) for each token of TOKENS_FILE, one JSON
    line per token in --out.

    TOKENS_FILE has one access token a line; blank lines and lines starting with # are
    skipped, and a token given twice is fetched once. A line of --out names its token by
    SHA-256, never the token. Run it again with the same --out after a stop or a crash: it
    fetches only the tokens without a line.

    Exit status: 0 all ok, 1 some Items failed, 2 a usage error, 130/143 stopped by
    SIGINT/SIGTERM (run it again to finish).
    """
    options = RefreshOptions(tokens_file, out, concurrency, rate_limit, cached, base_url)
    try:
        status = run_refresh(options)
    except KeyboardInterrupt:  # before the signal handlers are in place, or on Windows
        click.echo("interrupted", err=True)
        status = 128 + signal.SIGINT
    raise SystemExit(status)
