"""``plaid-async status``: how a queue of refresh jobs stands, from Redis alone."""

from __future__ import annotations

import asyncio
import json

import click

from .queue_options import checked_redis, group_option, queue_options

__all__ = ["status"]


async def _status(redis_url: str, stream: str, group: str) -> object:
    from plaid_async.streams import stream_status

    async with checked_redis(redis_url) as redis:
        return await stream_status(redis, stream, group)


@click.command()
@queue_options
@group_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
def status(redis_url: str, stream: str, group: str, as_json: bool) -> None:
    """How the jobs of a Redis Stream stand: waiting, pending per worker, done, dead.

    waiting: not yet delivered to any worker; pending: delivered and not acknowledged (in
    hand, waiting for a retry, or left by a worker that died, until another takes them
    over); done: acknowledged with a final result; dead: in STREAM:dead.
    """
    from attrs import asdict

    from plaid_async.streams import StreamStatus

    state = asyncio.run(_status(redis_url, stream, group))
    assert isinstance(state, StreamStatus)
    if as_json:
        click.echo(json.dumps(asdict(state)))
        return
    waiting = "?" if state.waiting is None else str(state.waiting)
    click.echo(f"stream {state.stream}, group {state.group}")
    click.echo(f"  waiting  {waiting:>8}  not yet delivered")
    click.echo(f"  pending  {state.pending:>8}  delivered, not acknowledged")
    click.echo(f"  done     {state.done:>8}")
    click.echo(f"  dead     {state.dead:>8}  dead letters in {state.stream}:dead")
    click.echo(f"  enqueued {state.enqueued:>8}  distinct jobs ever enqueued")
    for consumer in sorted(state.consumers, key=lambda c: c.name):
        click.echo(
            f"  worker {consumer.name}: {consumer.pending} pending, idle {consumer.idle:.1f} s"
        )
