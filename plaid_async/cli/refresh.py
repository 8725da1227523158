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
import time
from pathlib import Path

import click
from attrs import define, field, frozen

from plaid_async import BatchSummary
from plaid_async._compat import uncancel
from plaid_async.client import DEFAULT_CONCURRENCY
from plaid_async.endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH

from .credentials import Connection, base_url_option, make_client
from .output import SetupError
from .progress import ProgressDisplay
from .report import plural, summary_lines
from .results import ResultsFile, ResultsFileError, result_line
from .sharding import Shard, shard_option
from .shared_limit import BUDGET_PRESETS, Preset, SharedLimit
from .stopping import StopRequest
from .telemetry import exporting
from .tokens import TokenPlan, TokensFileError, every_token, pending_tokens, plan_tokens

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
    shared: SharedLimit | None = None,
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
                rate_limit=options.rate_limit if shared is None else shared,
                on_progress=display.update,
            )
            secrets = (connection.secret,)
            try:
                async with contextlib.aclosing(results):
                    async for result in results:
                        out.append(result_line(result, secrets=secrets, shard=options.shard))
                        run.summary.add(result)
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
    paths = (options.out, options.tokens_file)
    if all(path.exists() for path in paths) and options.out.samefile(options.tokens_file):
        raise SetupError("--out must not be the tokens file")
    with exporting(connection.client, "plaid-async refresh"):  # if OTEL_EXPORTER_OTLP_ENDPOINT
        return asyncio.run(_refresh(connection, options, shared))


async def _refresh(
    connection: Connection, options: RefreshOptions, shared: SharedLimit | None
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
            plan = plan_tokens(options.tokens_file, out.done, keep)
            display = ProgressDisplay(plan.to_fetch, "refresh")
            if out.repair:
                display.note(f"--out {options.out}: {out.repair}")
            display.note(_plan_note(plan, options))
            if shared is not None:
                display.note(f"rate limit: {shared.description}")
            run = await fetch_all(connection, options, plan, out, display, shared)
        except TokensFileError as exc:
            raise SetupError(str(exc)) from None
        finally:
            out.close()
    _report(run, plan, options, display)
    return exit_status(run, plan)


def _plan_note(plan: TokenPlan, options: RefreshOptions) -> str:
    """The run's first line: what it has to do, and what it leaves out."""
    source, others = f"{options.tokens_file}", ""
    if options.shard is not None:
        source += f", shard {options.shard}"
        others = f"; {plan.left_out} in other shards"
    return (
        f"{source}: {plan.to_fetch} tokens to fetch from {options.endpoint}, "
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
    done = plan.done_ok + plan.done_failed
    duplicates = f"; {plural(plan.duplicates, 'duplicate line')}" if plan.duplicates else ""
    click.echo(
        f"  skipped  {done:>6}  already in the results ({plan.done_failed} of them failed)"
        f"{duplicates}"
    )
    if options.shard is not None:
        click.echo(
            f"  others   {plan.left_out:>6}  in the other shards of {options.shard.count} "
            f"(this is shard {options.shard})"
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
    options = RefreshOptions(
        tokens_file, out, concurrency, rate_limit, cached, base_url, shard, redis_url, budgets
    )
    try:
        status = run_refresh(options)
    except KeyboardInterrupt:  # before the signal handlers are in place, or on Windows
        click.echo("interrupted", err=True)
        status = 128 + signal.SIGINT
    raise SystemExit(status)
