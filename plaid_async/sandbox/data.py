"""Deterministic Items: the same access token always gives the same Item and accounts.

Everything is drawn from SHAKE-256 of the token (not from ``random``, whose algorithms may change
between Python versions), so a test can rely on an Item's shape without a fixture file. The
accounts mix Plaid's types and subtypes and carry the values real answers have: amounts with up
to 4 decimal places and integral ones, ``available`` null on loans, ``limit`` null off credit
accounts, a null ``mask`` or ``official_name`` here and there, and an unofficial currency (with
``iso_currency_code`` null) on crypto accounts.
"""

from __future__ import annotations

import functools
import hashlib
import re
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from attrs import frozen

from .._checks import check_instance

__all__ = [
    "ACCESS_TOKEN_PREFIX",
    "SandboxItem",
    "error_token",
    "item_for",
    "parse_access_token",
    "sandbox_token",
]

ACCESS_TOKEN_PREFIX = "access-sandbox-"  # noqa: S105 - a prefix, not a secret
_TOKEN = re.compile(r"access-sandbox-([A-Za-z0-9][A-Za-z0-9_.-]*)")
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]*")
_ERROR_ID = re.compile(r"error_([A-Z][A-Z0-9_]*)(?:-.*)?")
_ID_ALPHABET = string.ascii_letters + string.digits


@frozen
class _AccountKind:
    type: str
    subtype: str
    name: str
    official_name: str | None
    mask: str | None


_KINDS: tuple[_AccountKind, ...] = (
    _AccountKind(
        "depository",
        "checking",
        "Plaid Checking",
        "Plaid Gold Standard 0% Interest Checking",
        "0000",
    ),
    _AccountKind(
        "depository",
        "savings",
        "Plaid Saving",
        "Plaid Silver Standard 0.1% Interest Saving",
        "1111",
    ),
    _AccountKind(
        "credit",
        "credit card",
        "Plaid Credit Card",
        "Plaid Diamond 12.5% APR Interest Credit Card",
        "3333",
    ),
    _AccountKind("investment", "401k", "Plaid 401k", None, "6666"),
    _AccountKind("loan", "student", "Plaid Student Loan", None, "7777"),
    _AccountKind("loan", "mortgage", "Plaid Mortgage", None, "8888"),
    _AccountKind("investment", "crypto exchange", "Plaid Crypto Exchange", None, None),
)

_INSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("ins_109508", "First Platypus Bank"),
    ("ins_109509", "First Gingham Credit Union"),
    ("ins_109510", "Tattersall Federal Credit Union"),
    ("ins_109511", "Tartan Bank"),
    ("ins_109512", "Houndstooth Bank"),
    ("ins_130016", "First Platypus Balance Bank"),
)


@frozen
class SandboxItem:
    """What the emulator serves for one access token, as JSON-ready data (money as ``Decimal``).

    ``item`` is the ``Item`` object and ``accounts`` the ``AccountBase`` objects, in the order
    ``/accounts/get`` lists them.
    """

    item: Mapping[str, Any]
    accounts: tuple[Mapping[str, Any], ...]

    @property
    def account_ids(self) -> tuple[str, ...]:
        return tuple(account["account_id"] for account in self.accounts)


def sandbox_token(n: int | str = 0) -> str:
    """A valid sandbox access token, the same for the same ``n``: ``access-sandbox-<uuid>``."""
    if isinstance(n, bool):
        raise TypeError("n must be an int or a str, not bool")
    check_instance("n", n, (int, str), "an int or a str")
    digest = hashlib.sha256(f"plaid-async-sandbox-token:{n}".encode()).hexdigest()
    uuid = f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"
    return ACCESS_TOKEN_PREFIX + uuid


def error_token(code: str, n: int | str = 0) -> str:
    """A token whose Item answers with Plaid error ``code``, as Plaid's sandbox password
    ``error_<CODE>`` makes it: ``access-sandbox-error_ITEM_LOGIN_REQUIRED-<uuid>``."""
    check_instance("code", code, str)
    if not _ERROR_CODE.fullmatch(code):
        raise ValueError(f"code must be an error code such as ITEM_LOGIN_REQUIRED, not {code!r}")
    return f"{ACCESS_TOKEN_PREFIX}error_{code}-{sandbox_token(n).removeprefix(ACCESS_TOKEN_PREFIX)}"


def parse_access_token(token: str) -> tuple[bool, str | None]:
    """Whether ``token`` is a sandbox access token, and the error code it asks for, if any."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return False, None
    error = _ERROR_ID.fullmatch(match.group(1))
    return True, (error.group(1) if error else None)


class _Draws:
    """A stream of deterministic numbers from one seed string."""

    def __init__(self, seed: str) -> None:
        self._bytes = hashlib.shake_256(seed.encode("utf-8")).digest(1024)
        self._pos = 0

    def below(self, n: int) -> int:
        chunk = self._bytes[self._pos : self._pos + 6]
        self._pos += 6
        return int.from_bytes(chunk, "big") % n

    def chance(self, one_in: int) -> bool:
        return self.below(one_in) == 0

    def money(self, whole_max: int, places: int) -> Decimal:
        """An amount below ``whole_max`` with ``places`` decimal places."""
        return Decimal(self.below(whole_max * 10**places)).scaleb(-places)

    def places(self) -> int:
        return (0, 2, 2, 4)[self.below(4)]


def _plaid_id(seed: str) -> str:
    """A 37-character id in Plaid's alphabet, stable for ``seed``."""
    draws = _Draws(seed)
    return "".join(_ID_ALPHABET[draws.below(len(_ID_ALPHABET))] for _ in range(37))


@functools.lru_cache(maxsize=4096)
def item_for(access_token: str) -> SandboxItem:
    """The Item and accounts of ``access_token`` (any string; the emulator checks the form)."""
    draws = _Draws(access_token)
    kinds = list(_KINDS)
    for i in range(len(kinds) - 1, 0, -1):  # Fisher-Yates: a mixed selection per token
        j = draws.below(i + 1)
        kinds[i], kinds[j] = kinds[j], kinds[i]
    count = 1 + draws.below(5)
    accounts = tuple(_account(access_token, kind, draws) for kind in kinds[:count])
    institution_id, institution_name = _INSTITUTIONS[draws.below(len(_INSTITUTIONS))]
    item = {
        "item_id": _plaid_id(f"{access_token}:item"),
        "institution_id": institution_id,
        "institution_name": institution_name,
        "webhook": None if draws.chance(2) else "https://www.genericwebhookurl.com/webhook",
        "auth_method": "INSTANT_AUTH" if draws.chance(2) else None,
        "error": None,
        "available_products": ["balance", "identity", "investments"],
        "billed_products": ["auth", "transactions"],
        "products": ["auth", "transactions"],
        "consent_expiration_time": None,
        "update_type": "background",
    }
    return SandboxItem(item=item, accounts=accounts)


def _account(access_token: str, kind: _AccountKind, draws: _Draws) -> dict[str, Any]:
    account: dict[str, Any] = {
        "account_id": _plaid_id(f"{access_token}:account:{kind.subtype}"),
        "balances": _balances(kind, draws),
        "mask": None if draws.chance(6) else kind.mask,
        "name": kind.name,
        "official_name": None if draws.chance(4) else kind.official_name,
        "type": kind.type,
        "subtype": kind.subtype,
    }
    if kind.type == "depository":
        account["holder_category"] = "personal"
    return account


def _balances(kind: _AccountKind, draws: _Draws) -> dict[str, Any]:
    available: Decimal | None
    limit: Decimal | None = None
    iso: str | None = "USD"
    unofficial: str | None = None
    if kind.type == "depository":
        current = draws.money(50_000, draws.places())
        available = current - draws.money(500, 2) if draws.chance(2) else current
    elif kind.type == "credit":
        limit = Decimal((1_000, 2_000, 5_000, 10_000)[draws.below(4)])
        current = draws.money(int(limit), draws.places())
        available = limit - current
    elif kind.type == "loan":
        current = draws.money(400_000, draws.places())
        available = None
    elif kind.subtype == "crypto exchange":
        current = draws.money(10, 4)
        available = current
        iso, unofficial = None, "BTC"
    else:  # a retirement account: no withdrawable cash reported
        current = draws.money(100_000, 4)
        available = None
    return {
        "available": available,
        "current": current,
        "limit": limit,
        "iso_currency_code": iso,
        "unofficial_currency_code": unofficial,
    }
