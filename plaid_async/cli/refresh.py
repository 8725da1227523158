"""``plaid-async refresh``: every token of a file, fetched into a JSON-lines file, resumable.

Made for cron: progress on stderr, a summary on stdout, an exit status that says how it went,
and a run that can be stopped (SIGINT, SIGTERM) and started again without fetching anything
twice or losing anything (see :mod:`.results` and :mod:`.stopping`).

Split among machines with ``--shard K/N`` (the tokens of the shard, and a results file of the
shard's own: :mod:`.sharding`), and paced by one budget for all of them with ``--redis-url``
(:mod:`.shared_limit`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path

import click
from attrs import define, field, frozen

from plaid_async import BatchSummary, ItemResult, PlaidInputError
from plaid_async._compat import uncancel
from plaid_async.client import DEFAULT_CONCURRENCY
from plaid_async.endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH

from .credentials import Connection, base_url_option, make_client
from .output import SetupError
from .progress import ProgressDisplay
from .report import plural, summary_lines
from .results import ResultsFile, ResultsFileError, ResultsWriteError, result_line
from .sharding import Shard, shard_option
from .shared_limit import BUDGET_PRESETS, Preset, SharedLimit
from .stopping import StopRequest
from .telemetry import exporting
from .tokens import (
    RetryMode,
    StdinTokens,
    TokenPlan,
    TokensFileError,
    TokensSource,
    every_token,
    has_tokens,
    pending_tokens,
    plan_tokens,
)

__all__ = ["RefreshOptions", "RefreshRun", "refresh", "run_refresh"]


@frozen
class RefreshOptions:
    tokens_file: Path
    out: Path
    concurrency: int = DEFAULT_CONCURRENCY
    rate_limit: float | None = None
    cached: bool = False
    base_url: str | None = None
    shard: Shard | None = None
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    budgets: Preset | None = None
    retry: RetryMode = "transient"

    @property
    def from_stdin(self) -> bool:
        return str(self.tokens_file) == "-"

    @property
    def endpoint(self) -> str:
        return ACCOUNTS_GET_PATH if self.cached else ACCOUNTS_BALANCE_GET_PATH

    def shared_limit(self, connection: Connection) -> SharedLimit | None:
        """The limiters on Redis for ``--redis-url``; None without it."""
        if self.redis_url is None:
            if self.budgets is not None:
                raise SetupError("--budgets is the budget shared on Redis: give --redis-url too")
            return None
        return SharedLimit.build(
            self.redis_url,
            client_id=connection.client_id,
            environment=connection.environment,
            endpoint=self.endpoint,
            budgets=self.budgets,
            rate_limit=self.rate_limit,
        )


@define
class RefreshRun:
    """How a run went: its results, and whether a signal cut it short."""

    summary: BatchSummary = field(factory=BatchSummary)
    retries: int = 0
    seconds: float = 0.0
    stopped_by: int | None = None  # the signal that stopped it
    abandoned: int = 0  # requests in flight dropped by a second signal
    write_error: str | None = None  # why a line could not be written: the run stopped there


def exit_status(run: RefreshRun, plan: TokenPlan) -> int:
    """2 if a line could not be written; 128 + the signal if stopped early (the shell's rule:
    130 for SIGINT, 143 for SIGTERM), else 1 if any token of the file has a failed result
    (from this run or an earlier one), else 0."""
    if run.write_error is not None:
        return 2
    if run.stopped_by is not None:
        return 128 + run.stopped_by
    return 1 if run.summary.failed or plan.done_failed else 0


async def fetch_all(
    connection: Connection,
    options: RefreshOptions,
    plan: TokenPlan,
    out: ResultsFile,
    display: ProgressDisplay,
    shared: SharedLimit | None = None,
    source: TokensSource | None = None,
) -> RefreshRun:
    """Fetch ``plan.pending`` into ``out``, a line as each result comes, until done, told to
    stop, or a line cannot be written (then nothing more is fetched)."""
    run = RefreshRun()
    source = options.tokens_file if source is None else source
    secrets = (connection.secret,)

    def write(result: ItemResult) -> None:
        out.append(result_line(result, secrets=secrets, shard=options.shard))
        run.summary.add(result)

    def unusable(number: int, token: str, problem: str) -> None:
        error = PlaidInputError(
            f"line {number} of {source} is not a usable access token: {problem}"
        )
        write(ItemResult(-1, token, None, error))

    def stopping(signum: int) -> None:
        display.note(
            f"{signal.Signals(signum).name}: taking no new tokens, letting the "
            f"{display.last.in_flight} in flight finish (send it again to abandon them)"
        )

    stop = StopRequest(stopping)
    client = connection.client
    many = client.accounts_get_many if options.cached else client.accounts_balance_get_many
    tokens = pending_tokens(source, plan, stop.requested, unusable)
    start = time.monotonic()
    async with client:
        with stop, display, contextlib.closing(tokens):
            results = many(
                tokens,
                concurrency=options.concurrency,
                rate_limit=options.rate_limit if shared is None else shared,
                on_progress=display.update,
            )
            try:
                async with contextlib.aclosing(results):
                    async for result in results:
                        write(result)
            except ResultsWriteError as exc:  # the requests in flight are dropped
                run.write_error = str(exc)
                run.abandoned = display.last.in_flight
            except asyncio.CancelledError:
                if not stop.forced:
                    raise
                run.abandoned = display.last.in_flight
                uncancel(asyncio.current_task())  # the second signal's (3.11+ counts them)
    run.seconds = time.monotonic() - start
    run.retries = display.last.retried
    run.stopped_by = stop.signum
    return run


def run_refresh(options: RefreshOptions) -> int:
    """The whole command; its exit status. Setup problems are :class:`SetupError`."""
    connection = make_client(options.base_url)
    shared = options.shared_limit(connection)
    if not options.from_stdin:
        paths = (options.out, options.tokens_file)
        if all(path.exists() for path in paths) and options.out.samefile(options.tokens_file):
            raise SetupError("--out must not be the tokens file")
    try:
        source: TokensSource = options.tokens_file
        if options.from_stdin:
            source = StdinTokens(sys.stdin.buffer)
        try:
            if not has_tokens(source):
                raise SetupError(f"no tokens in {source}: nothing was sent")
            with exporting(
                connection.client, "plaid-async refresh"
            ):  # if OTEL_EXPORTER_OTLP_ENDPOINT
                return asyncio.run(_refresh(connection, options, shared, source))
        finally:
            if isinstance(source, StdinTokens):
                source.close()
    except TokensFileError as exc:
        raise SetupError(str(exc)) from None


async def _refresh(
    connection: Connection,
    options: RefreshOptions,
    shared: SharedLimit | None,
    source: TokensSource,
) -> int:
    """The run, in one event loop (the limiters' Redis connections belong to it): Redis is
    checked first, so that a Redis that cannot be used leaves --out untouched."""
    async with contextlib.AsyncExitStack() as stack:
        if shared is not None:
            await stack.enter_async_context(shared)
            await shared.check()  # before --out is touched
        try:
            out = ResultsFile.open(options.out, options.shard)
        except ResultsFileError as exc:
            raise SetupError(str(exc)) from None
        try:
            keep = every_token if options.shard is None else options.shard.holds
            plan = plan_tokens(source, out.done, keep, options.retry)
            display = ProgressDisplay(plan.to_fetch, "refresh")
            if out.repair:
                display.note(f"--out {options.out}: {out.repair}")
            display.note(_plan_note(plan, options, source))
            if shared is not None:
                display.note(f"rate limit: {shared.description}")
                if shared.warning is not None:
                    display.note(shared.warning)
            run = await fetch_all(connection, options, plan, out, display, shared, source)
        except TokensFileError as exc:
            with contextlib.suppress(ResultsWriteError):
                out.close()
            raise SetupError(str(exc)) from None
        except BaseException:
            with contextlib.suppress(ResultsWriteError):
                out.close()
            raise
        try:
            out.close()
        except ResultsWriteError as exc:  # the flush to the disk: the end may be lost
            run.write_error = run.write_error or str(exc)
    _report(run, plan, options, display)
    return exit_status(run, plan)


def _plan_note(plan: TokenPlan, options: RefreshOptions, source: TokensSource) -> str:
    """The run's first line: what it has to do, and what it leaves out."""
    where, others = f"{source}", ""
    if options.shard is not None:
        where += f", shard {options.shard}"
        others = f"; {plan.left_out} in other shards"
    again = f" ({plan.retried} of them again after a failure)" if plan.retried else ""
    return (
        f"{where}: {plan.to_do} tokens to fetch from {options.endpoint}{again}, "
        f"{plan.done_ok + plan.done_failed} with a result in {options.out} already{others}"
    )


def _report(
    run: RefreshRun, plan: TokenPlan, options: RefreshOptions, display: ProgressDisplay
) -> None:
    if run.summary.total:
        for line in summary_lines(run.summary, seconds=run.seconds, retries=run.retries):
            click.echo(line)
    else:
        click.echo("Nothing fetched")
    for line in resume_lines(plan, options.retry):
        click.echo(line)
    if options.shard is not None:
        click.echo(
            f"  others   {plan.left_out:>6}  in the other shards of {options.shard.count} "
            f"(this is shard {options.shard})"
        )
    click.echo(f"  results  {options.out}")
    if run.write_error is not None:
        left = plan.to_do + run.abandoned
        click.echo(
            f"Error: {run.write_error}; stopped after {run.summary.total} results, "
            f"{left} tokens not fetched: run the same command again to resume",
            err=True,
        )
    elif run.stopped_by is not None:
        left = plan.to_fetch + run.abandoned
        abandoned = f" ({run.abandoned} abandoned in flight)" if run.abandoned else ""
        display.note(
            f"stopped by {signal.Signals(run.stopped_by).name}: {left} tokens not fetched"
            f"{abandoned}; run the same command again to fetch them"
        )


def resume_lines(plan: TokenPlan, retry: RetryMode) -> list[str]:
    """What the run did with the results already in the file: kept, or fetched again."""
    kept = plan.done_ok + plan.done_failed
    duplicates = f"; {plural(plan.duplicates, 'duplicate line')}" if plan.duplicates else ""
    if kept == 0:
        why = ""
    elif plan.done_failed == 0:
        why = ": all ok"
    elif retry == "none":
        why = f": {plan.done_ok} ok, {plan.done_failed} failed (--no-retry)"
    else:
        why = f": {plan.done_ok} ok, {plan.done_failed} failed for good (--retry-failed refetches)"
    lines = [f"  skipped  {kept:>6}  already in the results{why}{duplicates}"]
    if plan.retried:
        parts = []
        if plan.retried_transient:
            parts.append(f"{plan.retried_transient} after a transient failure")
        if plan.retried_permanent:
            parts.append(f"{plan.retried_permanent} after a permanent one (--retry-failed)")
        lines.append(f"  retried  {plan.retried:>6}  fetched again: {', '.join(parts)}")
    return lines


@click.command()
@click.argument(
    "tokens_file",
    type=click.Path(exists=True, dir_okay=False, readable=True, allow_dash=True, path_type=Path),
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
    help="At most R requests a second, retries included (Plaid counts them all); with "
    "--redis-url, R for all the processes of the run together.",
)
@click.option(
    "--cached",
    is_flag=True,
    help="Cached accounts (/accounts/get: free, fast) instead of real-time balances "
    "(/accounts/balance/get: billed per Item).",
)
@click.option(
    "--shard",
    metavar="K/N",
    callback=shard_option,
    help="Only the tokens of shard K of N (by their SHA-256), so N machines split one file "
    "without talking to each other; each shard needs its own --out.",
)
@click.option(
    "--redis-url",
    metavar="URL",
    envvar="PLAID_ASYNC_REDIS_URL",
    show_envvar=True,
    help="Share the rate limit through this Redis with every process of this client_id: "
    "Plaid's limits (--budgets), and --rate-limit for all the run's processes together. "
    "A URL with a password belongs in the environment variable, not on the command line.",
)
@click.option(
    "--budgets",
    type=click.Choice(BUDGET_PRESETS),
    help="With --redis-url: Plaid's published limits to share (default: those of PLAID_ENV, "
    "sandbox unless set), or none (then --rate-limit alone).",
)
@click.option(
    "--retry-failed",
    "retry",
    flag_value="failed",
    help="Fetch again every token whose current result failed, permanent failures too.",
)
@click.option(
    "--no-retry",
    "retry",
    flag_value="none",
    help="Fetch only the tokens without a result: keep every failed one, transient or not.",
)
@base_url_option
def refresh(
    tokens_file: Path,
    out: Path,
    concurrency: int,
    rate_limit: float | None,
    cached: bool,
    shard: Shard | None,
    redis_url: str | None,
    budgets: Preset | None,
    retry: RetryMode | None,
    base_url: str | None,
) -> None:
    """Fetch every token of a file into a JSON-lines file; resumable.

    Balances (or cached accounts with --cached) for each token of TOKENS_FILE, one JSON
    line per token in --out.

    TOKENS_FILE has one access token a line ('-' reads them from stdin); blank lines and
    lines starting with # are skipped, and a token given twice is fetched once. A line of
    --out names its token by SHA-256, never the token. Run it again with the same --out
    after a stop or a crash: a token's last line is its current result, and the run fetches
    the tokens without one and those whose current result is a transient failure (an
    outage, a timeout, a 5xx or 429, a bank not responding).

    Exit status: 0 all ok, 1 some Items failed, 2 a usage error or --out cannot be written,
    130/143 stopped by SIGINT/SIGTERM (run it again to finish).
    """
    options = RefreshOptions(
        tokens_file,
        out,
        concurrency,
        rate_limit,
        cached,
        base_url,
        shard,
        redis_url,
        budgets,
        retry or "transient",
    )
    try:
        status = run_refresh(options)
    except KeyboardInterrupt:  # before the signal handlers are in place, or on Windows
        click.echo("interrupted", err=True)
        status = 128 + signal.SIGINT
    raise SystemExit(status)
