"""What the command writes: JSON with exact money, and one-line errors with the right exit code."""

from __future__ import annotations

import click

from plaid_async import converter
from plaid_async._json import dumps
from plaid_async.models import AccountsGetResponse

__all__ = ["SetupError", "response_json"]


class SetupError(click.ClickException):
    """A usage problem found after the flags parsed (no credentials, an unreadable file):
    ``Error: <message>`` on one line and exit status 2, like click's own usage errors."""

    exit_code = 2


def response_json(response: AccountsGetResponse) -> str:
    """The whole response as compact JSON, unknown fields kept, balances as exact numbers."""
    return dumps(converter.unstructure(response)).decode("utf-8")
