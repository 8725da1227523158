"""``plaid-async enqueue``: one refresh job per token of a file, on a Redis Stream, once.

Each job names its token by line and SHA-256 (:mod:`.item_refs`), never the token. A token is
enqueued once per ``--run`` (its dedupe key is the run's label and the token's SHA-256), so
running the command again, or on two machines at once, adds nothing twice: not while the job
waits, not after it is done. Give a new ``--run`` (the date, say) to refresh again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from plaid_async.endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH

from .item_refs import item_ref, parse_item_ref
from .output import SetupError
from .queue_options import checked_redis, queue_options
from .tokens import TokensFileError, has_tokens, numbered_tokens

__all__ = ["enqueue"]


async def _enqueue(
    tokens_file: Path, redis_url: str, stream: str, endpoint: str, run: str | None
) -> tuple[int, int]:
    """The jobs added and the tokens enqueued before (a token given twice in the file is
    enqueued before by its first line). The file is streamed: memory does not grow with it."""
    from plaid_async.streams import enqueue_many

    def dedupe_key(ref: str) -> str:
        digest = parse_item_ref(ref)[1]
        return digest if run is None else f"{run}:{digest}"

    refs = (item_ref(line, token) for line, _, token in numbered_tokens(tokens_file))
    async with checked_redis(redis_url) as redis:
        try:
            return await enqueue_many(redis, stream, refs, endpoint=endpoint, dedupe_key=dedupe_key)
        except TokensFileError as exc:
            raise SetupError(f"{exc} (the jobs of the lines before it were enqueued)") from None


@click.command()
@click.argument(
    "tokens_file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@queue_options
@click.option(
    "--cached",
    is_flag=True,
    help="Jobs for cached accounts (/accounts/get) instead of real-time balances.",
)
@click.option(
    "--run",
    metavar="LABEL",
    help="Enqueue each token once per LABEL (e.g. the date) instead of once for good.",
)
def enqueue(
    tokens_file: Path,
    redis_url: str,
    stream: str,
    cached: bool,
    run: str | None,
) -> None:
    """Add one refresh job per token of TOKENS_FILE to a Redis Stream; never one twice.

    A job names its token by line and SHA-256, never the token itself: every worker reads
    the token from its own copy of TOKENS_FILE. Run it again (after a crash, or with more
    tokens in the file) and it adds only the tokens not enqueued before (for this --run).
    """
    endpoint = ACCOUNTS_GET_PATH if cached else ACCOUNTS_BALANCE_GET_PATH
    try:
        if not has_tokens(tokens_file):  # a broken export must not look green in cron
            raise SetupError(f"no tokens in {tokens_file}: nothing was enqueued")
    except TokensFileError as exc:
        raise SetupError(str(exc)) from None
    added, known = asyncio.run(_enqueue(tokens_file, redis_url, stream, endpoint, run))
    click.echo(f"enqueued {added} jobs on {stream} ({known} enqueued before)")
