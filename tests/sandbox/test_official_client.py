"""The official plaid-python client against the emulator: its models come back, with no error.

plaid-python type-checks every response against its generated models (``_check_return_type``
is on, as it is by default), so this holds the emulator to what Plaid's own client accepts:
every account type and subtype the emulator serves, its nulls, its error bodies. The client is
synchronous (urllib3), so each call runs in a thread while the emulator serves on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import plaid
import pytest
from plaid.api import plaid_api
from plaid.model.accounts_balance_get_request import (
    AccountsBalanceGetRequest,
)
from plaid.model.accounts_balance_get_request_options import (
    AccountsBalanceGetRequestOptions,
)
from plaid.model.accounts_get_request import (
    AccountsGetRequest,
)
from plaid.model.accounts_get_request_options import (
    AccountsGetRequestOptions,
)
from plaid.model.accounts_get_response import (
    AccountsGetResponse,
)

from plaid_async.sandbox import CATALOG, SandboxServer
from tests.spec_schema import validate

T = TypeVar("T")
TOKENS = 25  # enough Items to serve every account kind the emulator has


@contextlib.contextmanager
def official_client(sandbox: SandboxServer, secret: str | None = None) -> Iterator[Any]:
    """plaid-python's ``PlaidApi`` for the emulator, configured as its README shows."""
    configuration = plaid.Configuration(
        host=sandbox.url,
        api_key={"clientId": sandbox.client_id, "secret": secret or sandbox.secret},
    )
    with plaid.ApiClient(configuration) as api_client:
        yield plaid_api.PlaidApi(api_client)


@pytest.fixture
def api(plaid_sandbox: SandboxServer) -> Iterator[Any]:
    with official_client(plaid_sandbox) as client:
        yield client


async def in_thread(call: Callable[[], T]) -> T:
    """Run one blocking plaid-python call off the loop (the emulator runs on the loop)."""
    return await asyncio.to_thread(call)


def same_accounts(official: Any, sandbox: SandboxServer, token: str) -> None:
    """The official model holds what the emulator served for ``token``."""
    expected = sandbox.item(token)
    assert [a.account_id for a in official.accounts] == list(expected.account_ids)
    for model, served in zip(official.accounts, expected.accounts, strict=True):
        assert str(model.type) == served["type"]
        assert str(model.subtype) == served["subtype"]
        balances = served["balances"]
        for field in ("current", "available", "limit"):
            value = getattr(model.balances, field)
            assert (value is None) == (balances[field] is None)
            if value is not None:
                assert value == pytest.approx(float(balances[field]))  # plaid-python: floats
    assert official.item.item_id == expected.item["item_id"]


@pytest.mark.parametrize("endpoint", ["accounts_get", "accounts_balance_get"])
async def test_the_official_client_gets_its_models_back(
    plaid_sandbox: SandboxServer, api: Any, endpoint: str
) -> None:
    requests = {
        "accounts_get": AccountsGetRequest,
        "accounts_balance_get": AccountsBalanceGetRequest,
    }
    kinds: set[tuple[str, str]] = set()
    for n in range(TOKENS):
        token = plaid_sandbox.token(n)
        request = requests[endpoint](access_token=token)
        response = await in_thread(functools.partial(getattr(api, endpoint), request))
        assert isinstance(response, AccountsGetResponse)
        same_accounts(response, plaid_sandbox, token)
        kinds |= {(str(a.type), str(a.subtype)) for a in response.accounts}
    assert len(kinds) == 7  # every kind of account the emulator serves was type-checked
    # The official client sent headers, not body fields: the emulator took them.
    assert plaid_sandbox.stats.by_status == {200: TOKENS}


async def test_the_official_clients_options_are_accepted(
    plaid_sandbox: SandboxServer, api: Any
) -> None:
    token = next(
        t for t in map(plaid_sandbox.token, range(50)) if len(plaid_sandbox.item(t).accounts) >= 2
    )
    wanted = [plaid_sandbox.item(token).account_ids[1]]
    got = await in_thread(
        lambda: api.accounts_get(
            AccountsGetRequest(
                access_token=token, options=AccountsGetRequestOptions(account_ids=wanted)
            )
        )
    )
    assert [a.account_id for a in got.accounts] == wanted
    since = dt.datetime(2024, 1, 31, 12, 0, tzinfo=dt.timezone.utc)
    options = AccountsBalanceGetRequestOptions(account_ids=wanted, min_last_updated_datetime=since)
    got = await in_thread(
        lambda: api.accounts_balance_get(
            AccountsBalanceGetRequest(access_token=token, options=options)
        )
    )
    assert [a.account_id for a in got.accounts] == wanted


@pytest.mark.parametrize(
    ("code", "exception"),
    [
        ("ITEM_LOGIN_REQUIRED", "ApiException"),
        ("INSTITUTION_DOWN", "ApiException"),
        ("INTERNAL_SERVER_ERROR", "ServiceException"),  # plaid-python's class for 5xx
    ],
)
@pytest.mark.parametrize("endpoint", ["accounts_get", "accounts_balance_get"])
async def test_an_error_is_the_official_clients_api_exception_with_plaids_body(
    plaid_sandbox: SandboxServer, api: Any, code: str, exception: str, endpoint: str
) -> None:
    requests = {
        "accounts_get": AccountsGetRequest,
        "accounts_balance_get": AccountsBalanceGetRequest,
    }
    request = requests[endpoint](access_token=plaid_sandbox.error_token(code))
    with pytest.raises(plaid.ApiException) as info:
        await in_thread(lambda: getattr(api, endpoint)(request))
    assert type(info.value).__name__ == exception
    assert info.value.status == CATALOG[code].status
    body = json.loads(info.value.body)  # as plaid-python's README reads it
    validate(body, "PlaidError")
    assert (body["error_type"], body["error_code"]) == (CATALOG[code].error_type, code)


async def test_wrong_keys_are_an_api_exception(plaid_sandbox: SandboxServer) -> None:
    request = AccountsGetRequest(access_token=plaid_sandbox.token(1))
    with (
        official_client(plaid_sandbox, secret="wrong") as api,
        pytest.raises(plaid.ApiException) as info,
    ):
        await in_thread(functools.partial(api.accounts_get, request))
    assert info.value.status == 400
    assert json.loads(info.value.body)["error_code"] == "INVALID_API_KEYS"
