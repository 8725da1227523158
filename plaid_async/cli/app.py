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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="plaid-async")
def cli() -> None:
    """An asyncio client for Plaid's Accounts API.

    Shell completion: eval "$(_PLAID_ASYNC_COMPLETE=bash_source plaid-async)" in ~/.bashrc
    (zsh_source, fish_source for those shells).
    """


cli.add_command(demo)
cli.add_command(accounts)
cli.add_command(refresh)
cli.add_command(sandbox)
cli.add_command(enqueue)
cli.add_command(worker)
cli.add_command(status)
