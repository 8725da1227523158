"""Item and institution error states: special tokens (Plaid's ``error_<CODE>`` passwords) and
``set_item_error`` (Plaid's ``/sandbox/item/reset_login``)."""

from __future__ import annotations

import aiohttp
import pytest

from plaid_async import InstitutionError, ItemError, PlaidClient
from plaid_async.sandbox import CATALOG, ITEM_STATE_CODES, SandboxServer
from tests.sandbox.helpers import assert_accounts, assert_plaid_error, post

BALANCE = "/accounts/balance/get"
BALANCE_ONLY = {"PRODUCTS_NOT_SUPPORTED", "LAST_UPDATED_DATETIME_OUT_OF_RANGE"}


def test_the_documented_states_are_known_with_plaids_types_and_statuses() -> None:
    expected = {
        "ITEM_LOGIN_REQUIRED": ("ITEM_ERROR", 400),
        "ITEM_LOCKED": ("ITEM_ERROR", 400),
        "NO_ACCOUNTS": ("ITEM_ERROR", 400),
        "ACCESS_NOT_GRANTED": ("ITEM_ERROR", 400),
        "PRODUCT_NOT_READY": ("ITEM_ERROR", 400),
        "PRODUCTS_NOT_SUPPORTED": ("ITEM_ERROR", 400),
        "INSTITUTION_DOWN": ("INSTITUTION_ERROR", 400),
        "INSTITUTION_NOT_RESPONDING": ("INSTITUTION_ERROR", 400),
        "INSTITUTION_NO_LONGER_SUPPORTED": ("INSTITUTION_ERROR", 400),
        "INTERNAL_SERVER_ERROR": ("API_ERROR", 500),
    }
    assert set(expected) <= ITEM_STATE_CODES
    for code, (error_type, status) in expected.items():
        assert (CATALOG[code].error_type, CATALOG[code].status) == (error_type, status)


@pytest.mark.parametrize("code", sorted(ITEM_STATE_CODES))
@pytest.mark.parametrize("path", ["/accounts/get", BALANCE])
async def test_an_error_token_makes_the_item_answer_with_its_error(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, code: str, path: str
) -> None:
    reply = await post(http, plaid_sandbox, path, token=plaid_sandbox.error_token(code, 3))
    if code in BALANCE_ONLY and path != BALANCE:
        assert_accounts(reply)  # /accounts/get reads Plaid's cache
    else:
        assert_plaid_error(reply, code)


async def test_set_and_clear_item_error(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    token, other = plaid_sandbox.token(1), plaid_sandbox.token(2)
    plaid_sandbox.set_item_error(token, "ITEM_LOGIN_REQUIRED")
    assert_plaid_error(await post(http, plaid_sandbox, token=token), "ITEM_LOGIN_REQUIRED")
    assert_plaid_error(await post(http, plaid_sandbox, BALANCE, token=token), "ITEM_LOGIN_REQUIRED")
    assert_accounts(await post(http, plaid_sandbox, token=other))
    plaid_sandbox.clear_item_error(token)
    assert_accounts(await post(http, plaid_sandbox, token=token))


async def test_clearing_repairs_an_error_token_too(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    token = plaid_sandbox.error_token("ITEM_LOGIN_REQUIRED")
    assert_plaid_error(await post(http, plaid_sandbox, token=token), "ITEM_LOGIN_REQUIRED")
    plaid_sandbox.clear_item_error(token)
    assert_accounts(await post(http, plaid_sandbox, token=token))
    plaid_sandbox.set_item_error(token, "ITEM_LOCKED")
    assert_plaid_error(await post(http, plaid_sandbox, token=token), "ITEM_LOCKED")


@pytest.mark.parametrize("code", ["INVALID_API_KEYS", "RATE_LIMIT", "NOT_A_CODE", "item_locked"])
def test_set_item_error_takes_only_item_states(plaid_sandbox: SandboxServer, code: str) -> None:
    with pytest.raises(ValueError, match="not an Item or institution error"):
        plaid_sandbox.set_item_error(plaid_sandbox.token(1), code)


async def test_the_client_sees_the_errors_classes(
    plaid_sandbox: SandboxServer, plaid_client: PlaidClient
) -> None:
    with pytest.raises(ItemError) as item_error:
        await plaid_client.accounts_get(plaid_sandbox.error_token("ITEM_LOGIN_REQUIRED"))
    assert item_error.value.error_code == "ITEM_LOGIN_REQUIRED"
    with pytest.raises(InstitutionError):
        await plaid_client.accounts_balance_get(plaid_sandbox.error_token("INSTITUTION_DOWN"))
    assert plaid_sandbox.stats.requests == 2  # neither is retried


async def test_product_not_ready_is_retried_by_the_client_until_cleared(
    plaid_sandbox: SandboxServer, plaid_client: PlaidClient
) -> None:
    token = plaid_sandbox.token(1)
    plaid_sandbox.enqueue("PRODUCT_NOT_READY", "PRODUCT_NOT_READY")
    resp = await plaid_client.accounts_get(token)
    assert len(resp.accounts) == len(plaid_sandbox.item(token).accounts)
    assert plaid_sandbox.stats.errors == {"PRODUCT_NOT_READY": 2}
