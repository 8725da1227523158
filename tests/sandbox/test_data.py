"""Deterministic Items: one token, the same accounts; across tokens, every shape Plaid sends."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from plaid_async.sandbox import SandboxServer, error_token, sandbox_token
from plaid_async.sandbox.data import item_for, parse_access_token

TOKENS = [sandbox_token(n) for n in range(200)]
ACCOUNTS = [account for token in TOKENS for account in item_for(token).accounts]


def _places(value: Decimal) -> int:
    return max(0, -int(value.normalize().as_tuple().exponent))


def test_same_token_same_item_and_different_tokens_differ() -> None:
    assert item_for(TOKENS[0]) == item_for(TOKENS[0])
    assert SandboxServer.item(TOKENS[0]) == item_for(TOKENS[0])
    assert item_for(TOKENS[0]).item["item_id"] != item_for(TOKENS[1]).item["item_id"]
    ids = [account["account_id"] for account in ACCOUNTS]
    assert len(set(ids)) == len(ids)


def test_a_known_token_gives_known_values() -> None:
    """Pinned: a change to the generator (which users' tests may rely on) must be deliberate."""
    item = item_for("access-sandbox-pinned")
    assert item.item["item_id"] == "DzgQYyAGMzoEuhkuF5x57Dn9M4cZAb8fjiscw"
    assert [(a["type"], a["subtype"], a["balances"]["current"]) for a in item.accounts] == [
        ("credit", "credit card", Decimal("862.71")),
        ("loan", "mortgage", Decimal("262806")),
    ]


def test_item_returns_a_copy() -> None:
    copy = SandboxServer.item(TOKENS[0])
    copy.accounts[0]["balances"]["current"] = Decimal(-1)
    assert item_for(TOKENS[0]).accounts[0]["balances"]["current"] != Decimal(-1)


def test_items_have_one_to_five_accounts_of_mixed_kinds() -> None:
    counts = {len(item_for(token).accounts) for token in TOKENS}
    assert counts == {1, 2, 3, 4, 5}
    kinds = {(a["type"], a["subtype"]) for a in ACCOUNTS}
    assert {
        ("depository", "checking"),
        ("depository", "savings"),
        ("credit", "credit card"),
        ("loan", "student"),
        ("loan", "mortgage"),
        ("investment", "401k"),
        ("investment", "crypto exchange"),
    } <= kinds


def test_amounts_have_up_to_four_places_and_some_are_integral() -> None:
    amounts = [a["balances"]["current"] for a in ACCOUNTS]
    assert all(isinstance(v, Decimal) for v in amounts)
    places = {_places(v) for v in amounts}
    assert max(places) == 4
    assert 0 in places


def test_the_nulls_plaid_sends() -> None:
    def having(pred: Any) -> list[Mapping[str, Any]]:
        return [a for a in ACCOUNTS if pred(a)]

    for loan in having(lambda a: a["type"] == "loan"):
        assert loan["balances"]["available"] is None
    for account in having(lambda a: a["type"] != "credit"):
        assert account["balances"]["limit"] is None
    for card in having(lambda a: a["type"] == "credit"):
        assert card["balances"]["limit"] is not None
    assert having(lambda a: a["mask"] is None)
    assert having(lambda a: a["official_name"] is None)
    unofficial = having(lambda a: a["balances"]["unofficial_currency_code"] is not None)
    assert unofficial
    for account in ACCOUNTS:  # exactly one currency code, as Plaid documents
        balances = account["balances"]
        assert (balances["iso_currency_code"] is None) != (
            balances["unofficial_currency_code"] is None
        )


def test_tokens_are_stable_and_of_plaid_form() -> None:
    assert sandbox_token(3) == sandbox_token(3) != sandbox_token(4)
    assert sandbox_token("a").startswith("access-sandbox-")
    assert len(sandbox_token(0).removeprefix("access-sandbox-")) == 36
    assert SandboxServer.token(5) == sandbox_token(5)
    assert error_token("ITEM_LOCKED", 2).startswith("access-sandbox-error_ITEM_LOCKED-")


@pytest.mark.parametrize(
    ("token", "parsed"),
    [
        (sandbox_token(1), (True, None)),
        ("access-sandbox-x", (True, None)),
        (error_token("ITEM_LOGIN_REQUIRED"), (True, "ITEM_LOGIN_REQUIRED")),
        ("access-sandbox-error_INSTITUTION_DOWN", (True, "INSTITUTION_DOWN")),
        ("access-sandbox-error_NO_ACCOUNTS-anything-at-all", (True, "NO_ACCOUNTS")),
        ("access-sandbox-", (False, None)),
        ("access-production-abc", (False, None)),
        ("public-sandbox-abc", (False, None)),
        ("access-sandbox-a b", (False, None)),
    ],
)
def test_parse_access_token(token: str, parsed: tuple[bool, str | None]) -> None:
    assert parse_access_token(token) == parsed
