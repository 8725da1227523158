"""The ``plaid-async`` command (extra ``cli``): ``demo``, ``accounts``, ``refresh``, ``sandbox``,
``enqueue``, ``worker``, ``status``.

``main`` is the console script. It checks for the ``cli`` extra first, so a plain
``pip install plaid-async`` gets one line saying what to install, not an ImportError. The click
group is ``plaid_async.cli.cli`` (loaded on first use, for the same reason).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["cli", "main"]

_EXTRA_MODULES = ("click", "rich")


def _version_only() -> bool:
    """``--version`` or ``-V`` alone: answered without click, so it works without the extra."""
    if sys.argv[1:] not in (["--version"], ["-V"]):
        return False
    from plaid_async._version import __version__

    print(f"plaid-async, version {__version__}")
    return True


def main() -> None:
    """The ``plaid-async`` console script. click's errors become one line on stderr (click
    alone prints usage over four lines), with click's exit codes: 2 for a usage error, 130
    for Ctrl+C."""
    if _version_only():
        sys.exit(0)
    try:
        import click

        from .app import cli
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in _EXTRA_MODULES:
            raise
        sys.exit(
            f"Error: plaid-async needs {missing}, from the cli extra: "
            "pip install 'plaid-async[cli]'"
        )
    try:
        code = cli.main(prog_name="plaid-async", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"Error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # click's word for Ctrl+C
            click.echo("interrupted", err=True)
            sys.exit(130)
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def __getattr__(name: str) -> Any:
    if name == "cli":
        from .app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
