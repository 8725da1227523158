"""The ``plaid-async`` command (extra ``cli``): ``demo``, ``accounts``, ``refresh``, ``sandbox``.

``main`` is the console script. It checks for the ``cli`` extra first, so a plain
``pip install plaid-async`` gets one line saying what to install, not an ImportError. The click
group is ``plaid_async.cli.cli`` (loaded on first use, for the same reason).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["cli", "main"]

_EXTRA_MODULES = ("click", "rich")


def main() -> None:
    """The ``plaid-async`` console script."""
    try:
        from .app import cli
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in _EXTRA_MODULES:
            raise
        sys.exit(
            f"Error: plaid-async needs {missing}, from the cli extra: "
            "pip install 'plaid-async[cli]'"
        )
    cli(prog_name="plaid-async")


def __getattr__(name: str) -> Any:
    if name == "cli":
        from .app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
