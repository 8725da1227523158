"""``plaid-async worker``: refresh jobs from a Redis Stream into a JSON-lines file, until stopped.

A :class:`plaid_async.streams.StreamConsumer` whose ``token_for`` reads the tokens file every
worker has (:mod:`.item_refs`) and whose handler appends each final result to ``--out`` in the
format of ``refresh`` (:mod:`.results`), before the job is acknowledged. Calls go through one
client under the budget shared on the same Redis (:mod:`.shared_limit`). SIGTERM or SIGINT:
take no new jobs, finish those in hand, acknowledge them, exit 0; a second signal abandons the
jobs in hand (they stay pending, and another worker takes them over after ``--claim-idle``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import click
from attrs import field, frozen

from plaid_async import BatchSummary, ItemResult
from plaid_async.endpoints import ACCOUNTS_BALANCE_GET_PATH
from plaid_async.outcome import Action, DeliveryPolicy

from .credentials import Connection, base_url_option, make_client
from .item_refs import TokenIndex
from .output import SetupError
from .queue_options import checked_redis, group_option, queue_options
from .report import summary_lines
from .results import ResultsFile, ResultsFileError, result_line
from .shared_limit import BUDGET_PRESETS, Preset, SharedLimit
from .stopping import StopRequest
from .tokens import TokensFileError, has_tokens

__all__ = ["WorkerOptions", "run_worker", "worker"]


@frozen
class WorkerOptions:
    tokens_file: Path
    out: Path
    redis_url: str = field(repr=False)  # may hold a password
    stream: str
    group: str = "plaid-async"
    name: str | None = None
    concurrency: int = 8
    rate_limit: float | None = None
    budgets: Preset | None = None
    max_deliveries: int = 5
    backoff: float = 2.0
    claim_idle: float | None = None
    drain: bool = False
    verbose: bool = False
    base_url: str | None = None


def run_worker(options: WorkerOptions) -> int:
    """The whole command; its exit status. Setup problems are :class:`SetupError`."""
    try:
        if not has_tokens(options.tokens_file):
            raise SetupError(f"no tokens in {options.tokens_file}: no job could be done")
    except TokensFileError as exc:
        raise SetupError(str(exc)) from None
    connection = make_client(options.base_url)
    shared = SharedLimit.build(
        options.redis_url,
        client_id=connection.client_id,
        environment=connection.environment,
        endpoint=ACCOUNTS_BALANCE_GET_PATH,
        budgets=options.budgets,
        rate_limit=options.rate_limit,
    )
    return asyncio.run(_work(connection, options, shared))


async def _work(connection: Connection, options: WorkerOptions, shared: SharedLimit) -> int:
    from plaid_async.streams import StreamConsumer

    summary = BatchSummary()
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(shared)
        await shared.check()
        redis = await stack.enter_async_context(checked_redis(options.redis_url))
        try:
            index = TokenIndex(options.tokens_file)
            out = ResultsFile.open(options.out)
        except (TokensFileError, ResultsFileError) as exc:
            raise SetupError(str(exc)) from None
        stack.callback(out.close)
        secrets = (connection.secret,)

        async def handler(_: object, result: ItemResult) -> None:
            out.append(result_line(result, secrets=secrets))
            summary.add(result)

        policy = DeliveryPolicy(
            max_deliveries=options.max_deliveries,
            backoff_initial=options.backoff,
            backoff_max=max(options.backoff, min(60.0, 16 * options.backoff)),
        )
        try:
            consumer = StreamConsumer(
                redis,
                stream=options.stream,
                group=options.group,
                consumer=options.name,
                client=connection.client,
                token_for=index.token_for,
                handler=handler,
                concurrency=options.concurrency,
                policy=policy,
                claim_idle=options.claim_idle,
                rate_limit=shared,
            )
        except (TypeError, ValueError) as exc:
            raise SetupError(str(exc)) from None
        stack.enter_context(_log_to_stderr(options.verbose))
        _note(
            f"worker {consumer.name} on {options.stream} (group {options.group}): "
            f"{len(index)} tokens in {options.tokens_file}, results in {options.out}; "
            f"rate limit: {shared.description}"
        )

        def stopping(signum: int) -> None:
            consumer.stop()
            _note(
                f"{signal.Signals(signum).name}: taking no new jobs, finishing the "
                f"{consumer.in_hand} in hand (send it again to abandon them)"
            )

        stop = StopRequest(stopping)
        start = time.monotonic()
        async with connection.client:
            with stop:
                try:
                    await consumer.run(until_empty=options.drain)
                except asyncio.CancelledError:
                    if not stop.forced:
                        raise
                    _uncancel()
        seconds = time.monotonic() - start
    _report(summary, seconds, consumer.processed)
    return 128 + stop.signum if stop.forced and stop.signum is not None else 0


def _report(summary: BatchSummary, seconds: float, processed: Mapping[Action, int]) -> None:
    for line in summary_lines(summary, seconds=seconds, retries=0)[:3]:
        click.echo(line)
    click.echo(f"  retry    {processed[Action.RETRY]:>6}  deliveries failed, to be tried again")
    click.echo(f"  dead     {processed[Action.DEAD_LETTER]:>6}  jobs dead-lettered")


def _uncancel() -> None:
    task = asyncio.current_task()
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


def _note(text: str) -> None:
    click.echo(text, err=True)


@contextlib.contextmanager
def _log_to_stderr(verbose: bool) -> Iterator[None]:
    """The consumer's log lines (dead letters, Redis trouble; with -v, each retry) on stderr."""
    logger = logging.getLogger("plaid_async.streams")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield None
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@click.command()
@click.argument(
    "tokens_file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@queue_options
@group_option
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSON-lines results file (refresh's format): created, or appended to.",
)
@click.option(
    "--name",
    metavar="NAME",
    help="This worker's name in the group (default: host, pid and a random part).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    default=8,
    show_default=True,
    help="Jobs in hand at once.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    metavar="R",
    help="At most R balance requests a second for all the workers together, retries included.",
)
@click.option(
    "--budgets",
    type=click.Choice(BUDGET_PRESETS),
    help="Plaid's published limits to share (default: those of PLAID_ENV, sandbox unless "
    "set), or none (then --rate-limit alone).",
)
@click.option(
    "--max-deliveries",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Deliveries of a job before it is dead-lettered (a transient failure each time).",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    metavar="S",
    help="Seconds before a failed job's second delivery; doubling, jittered, at most 16 S.",
)
@click.option(
    "--claim-idle",
    type=click.FloatRange(min=0, min_open=True),
    metavar="S",
    help="Take over the jobs of a worker silent for S seconds (it died). Default: the call's "
    "deadline plus 15 s.",
)
@click.option("--drain", is_flag=True, help="Exit once no job waits and none is pending.")
@click.option("-v", "--verbose", is_flag=True, help="Log each retry, not only dead letters.")
@base_url_option
def worker(
    tokens_file: Path,
    redis_url: str,
    stream: str,
    group: str,
    out: Path,
    name: str | None,
    concurrency: int,
    rate_limit: float | None,
    budgets: Preset | None,
    max_deliveries: int,
    backoff: float,
    claim_idle: float | None,
    drain: bool,
    verbose: bool,
    base_url: str | None,
) -> None:
    """Process refresh jobs from a Redis Stream into a JSON-lines file, until stopped.

    Start any number of workers, on any number of machines, each with the same TOKENS_FILE
    and its own --out. Each job is acknowledged once its result is in --out; a job whose
    worker died is taken over by another after --claim-idle; a job that keeps failing is
    dead-lettered to STREAM:dead. See 'plaid-async status'.

    Exit status: 0 when stopped (SIGTERM, SIGINT: the jobs in hand are finished first) or
    drained, 2 a usage error, 130/143 when a second signal abandoned the jobs in hand.
    """
    options = WorkerOptions(
        tokens_file,
        out,
        redis_url,
        stream,
        group,
        name,
        concurrency,
        rate_limit,
        budgets,
        max_deliveries,
        backoff,
        claim_idle,
        drain,
        verbose,
        base_url,
    )
    if out.exists() and out.samefile(tokens_file):
        raise SetupError("--out must not be the tokens file")
    try:
        status = run_worker(options)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        status = 128 + signal.SIGINT
    raise SystemExit(status)
