"""``plaid-async accounts``: one Item's accounts, as a table or as JSON with exact balances."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from plaid_async import PlaidClient, PlaidError, converter
from plaid_async._json import format_decimal
from plaid_async.models import AccountsGetResponse

from .credentials import base_url_option, make_client
from .output import response_json
from .tokens import token_problem

__all__ = ["accounts", "accounts_table"]

_MONEY = ("current", "available", "limit")


def _money(value: Any) -> str:
    return "" if value is None else format_decimal(value)


def accounts_table(response: AccountsGetResponse) -> Table:
    """The accounts of ``response``, one a row, balances exactly as Plaid sent them."""
    data = converter.unstructure(response)
    item = data.get("item") or {}
    institution = item.get("institution_name") or item.get("institution_id") or "?"
    table = Table(
        title=f"Item {item.get('item_id', '?')} at {institution}",
        caption=f"request_id {data['request_id']}",
    )
    table.add_column("name", overflow="fold")
    table.add_column("mask", no_wrap=True)
    table.add_column("type", overflow="fold")
    rows = []
    for account in data["accounts"]:
        balances = account.get("balances") or {}
        currency = balances.get("iso_currency_code") or balances.get("unofficial_currency_code")
        kind = " / ".join(str(account[key]) for key in ("type", "subtype") if account.get(key))
        money = [_money(balances.get(name)) for name in _MONEY]
        rows.append([account.get("name") or "", account.get("mask") or "", kind, *money])
        rows[-1].append(currency or "")
    for i, name in enumerate(_MONEY, 3):  # money is never cut short or wrapped
        width = max([len(name), *(len(row[i]) for row in rows)])
        table.add_column(name, justify="right", no_wrap=True, min_width=width)
    table.add_column("currency", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def _read_token(value: str) -> str:
    token = sys.stdin.readline().strip() if value == "-" else value.strip()
    if not token:
        raise click.BadParameter("the access token is empty", param_hint="ACCESS_TOKEN")
    problem = token_problem(token)
    if problem is not None:
        raise click.BadParameter(f"not a usable access token: {problem}", param_hint="ACCESS_TOKEN")
    return token


async def _fetch(client: PlaidClient, token: str, balance: bool) -> AccountsGetResponse:
    async with client:
        if balance:
            return await client.accounts_balance_get(token)
        return await client.accounts_get(token)


@click.command()
@click.argument("access_token", metavar="ACCESS_TOKEN")
@click.option(
    "--balance",
    is_flag=True,
    help="Real-time balances (/accounts/balance/get: slower, billed) instead of the cached "
    "ones (/accounts/get).",
)
@click.option("--json", "as_json", is_flag=True, help="The whole response as JSON.")
@base_url_option
def accounts(access_token: str, balance: bool, as_json: bool, base_url: str | None) -> None:
    """One Item's accounts and balances.

    ACCESS_TOKEN '-' reads the token from stdin, which keeps it out of the process list and
    the shell's history. Keys come from PLAID_CLIENT_ID and PLAID_SECRET, the host from
    PLAID_ENV (sandbox or production) or --base-url.
    """
    token = _read_token(access_token)
    client = make_client(base_url).client
    try:
        response = asyncio.run(_fetch(client, token, balance))
    except PlaidError as exc:
        raise click.ClickException(" ".join(str(exc).split())) from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise SystemExit(130) from None
    if as_json:
        click.echo(response_json(response))
    else:
        Console().print(accounts_table(response))
