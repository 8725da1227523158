"""``plaid-async accounts``: a table or JSON with exact balances; one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from plaid_async._json import format_decimal
from plaid_async.sandbox import SandboxServer

from .conftest import ThreadedSandbox, assert_no_leak, invoke, one_line_error

TOKEN = SandboxServer.token("accounts-1")


def test_a_table_of_the_accounts(sandbox: ThreadedSandbox) -> None:
    result = invoke("accounts", TOKEN, "--base-url", sandbox.url)

    assert result.exit_code == 0, result.output
    item = SandboxServer.item(TOKEN)
    assert item.item["item_id"] in result.stdout
    for account in item.accounts:
        assert account["mask"] is None or account["mask"] in result.stdout
        for name in ("current", "available", "limit"):
            value = account["balances"][name]
            if value is not None:
                assert format_decimal(value) in result.stdout  # whole, never cut short
    assert sandbox.stats.by_path == {"/accounts/get": 1}
    assert_no_leak([result.stdout, result.stderr], [TOKEN, sandbox.server.secret])


def test_json_with_exact_balances_from_balance_get(sandbox: ThreadedSandbox) -> None:
    result = invoke("accounts", TOKEN, "--balance", "--json", "--base-url", sandbox.url)

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_float=Decimal)
    served = SandboxServer.item(TOKEN)
    assert data["item"]["item_id"] == served.item["item_id"]
    fields = ("current", "available", "limit")
    assert [[a["balances"][f] for f in fields] for a in data["accounts"]] == [
        [a["balances"][f] for f in fields] for a in served.accounts
    ]
    assert all(not isinstance(a["balances"]["current"], str) for a in data["accounts"])
    assert sandbox.stats.by_path == {"/accounts/balance/get": 1}


def test_the_token_can_come_from_stdin(sandbox: ThreadedSandbox) -> None:
    result = invoke("accounts", "-", "--json", "--base-url", sandbox.url, input=TOKEN + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["item"]["item_id"] == SandboxServer.item(TOKEN).item["item_id"]


def test_credentials_from_the_environment(
    sandbox_factory: Callable[..., ThreadedSandbox],
) -> None:
    secret = "accounts-test-secret-value"
    sandbox = sandbox_factory(client_id="acct-client", secret=secret)
    env = {"PLAID_CLIENT_ID": "acct-client", "PLAID_SECRET": secret}
    result = invoke("accounts", TOKEN, "--base-url", sandbox.url, env=env)
    assert result.exit_code == 0, result.output

    env["PLAID_SECRET"] = "a-wrong-secret-value"
    result = invoke("accounts", TOKEN, "--base-url", sandbox.url, env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: INVALID_INPUT INVALID_API_KEYS")
    assert_no_leak([result.stdout, result.stderr], [TOKEN, secret, env["PLAID_SECRET"]])


def test_an_item_error_is_one_line_and_exit_status_1(sandbox: ThreadedSandbox) -> None:
    token = SandboxServer.error_token("ITEM_LOGIN_REQUIRED", "accounts")
    result = invoke("accounts", token, "--base-url", sandbox.url)
    assert result.exit_code == 1
    assert "ITEM_LOGIN_REQUIRED" in one_line_error(result.stderr)
    assert_no_leak([result.stdout, result.stderr], [token])


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([TOKEN], {}, "set PLAID_CLIENT_ID and PLAID_SECRET"),
        ([TOKEN], {"PLAID_CLIENT_ID": "id"}, "set PLAID_SECRET"),
        (
            [TOKEN],
            {"PLAID_CLIENT_ID": "i", "PLAID_SECRET": "s", "PLAID_ENV": "development"},
            "retired",
        ),
        ([TOKEN, "--base-url", "ftp://127.0.0.1"], {}, "base_url must be an https:// URL"),
        (["-"], {}, "the access token is empty"),
        ([TOKEN, "--bogus"], {}, "No such option"),
    ],
)
def test_usage_errors_are_one_line_and_exit_status_2(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = invoke("accounts", *args, env=env, input="")
    assert result.exit_code == 2
    assert message in one_line_error(result.stderr)
