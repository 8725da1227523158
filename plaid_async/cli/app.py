"""The ``plaid-async`` click group, with every subcommand attached."""

from __future__ import annotations

import click

from plaid_async._version import __version__

from .accounts import accounts
from .demo import demo
from .enqueue import enqueue
from .queue_status import status
from .refresh import refresh
from .sandbox import sandbox
from .worker import worker

__all__ = ["cli"]


@click.group()
@click.version_option(__version__, prog_name="plaid-async")
def cli() -> None:
    """An asyncio client for Plaid's Accounts API."""


cli.add_command(demo)
cli.add_command(accounts)
cli.add_command(refresh)
cli.add_command(sandbox)
cli.add_command(enqueue)
cli.add_command(worker)
cli.add_command(status)
