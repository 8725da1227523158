"""Requests and responses of ``/accounts/get`` and ``/accounts/balance/get``, as attrs classes.

Responses are lenient, because Plaid adds fields and enum values and sends ``null`` where its
schema says otherwise: every field may be ``None`` except ``account_id``, ``item_id`` and
``request_id``, enums are open (see :mod:`plaid_async.enums`), and fields this version does not
know are kept in ``extra`` and written back by ``converter.unstructure``. Each response model
also remembers which of its keys Plaid did not send (``_absent``, private), so that
``converter.unstructure`` leaves them out again: what comes back out is what came in.

Requests are strict, because Plaid rejects unknown and unexpected fields: they are checked when
built, and only the fields the caller gave are sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from ._checks import check_str
from ._redact import short_fingerprint
from .enums import (
    AccountHolderCategory,
    AccountNumberFormat,
    AccountSubtype,
    AccountType,
    ItemAuthMethod,
    ItemUpdateType,
    PlaidErrorType,
    Products,
    VerificationStatus,
)

__all__ = [
    "AccountBalance",
    "AccountBase",
    "AccountVerificationInsights",
    "AccountsBalanceGetRequest",
    "AccountsBalanceGetRequestOptions",
    "AccountsGetRequest",
    "AccountsGetRequestOptions",
    "AccountsGetResponse",
    "Item",
    "NetworkStatus",
    "PlaidErrorBody",
    "PreviousReturns",
]


def _extra() -> Any:
    """The field that holds what Plaid sent and this version does not know."""
    return field(factory=dict, kw_only=True, hash=False)


def _absent_keys() -> Any:
    """The names of the fields whose keys were not in the document (none for a model built
    in code): ``converter.unstructure`` leaves them out, so a round trip is exact. Not part of
    equality: an absent key and a ``null`` both mean "no value"."""
    return field(factory=frozenset, kw_only=True, eq=False, hash=False, repr=False, alias="_absent")


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


@frozen
class AccountBalance:
    """Balances in the account's currency, as exact ``Decimal``s.

    ``available`` and ``current`` may both be ``None`` (limited-purpose checking accounts);
    exactly one of ``iso_currency_code`` and ``unofficial_currency_code`` is usually set, but
    nothing here relies on it.
    """

    available: Decimal | None = None
    current: Decimal | None = None
    limit: Decimal | None = None
    iso_currency_code: str | None = None
    unofficial_currency_code: str | None = None
    last_updated_datetime: dt.datetime | None = None  # Capital One only
    extra: Mapping[str, Any] = _extra()
    _absent: frozenset[str] = _absent_keys()


@frozen
class NetworkStatus:
    has_numbers_match: bool | None = None
    is_numbers_match_verified: bool | None = None
    extra: Mapping[str, Any] = _extra()
    _absent: frozenset[str] = _absent_keys()


@frozen
class PreviousReturns:
    has_previous_administrative_return: bool | None = None
    extra: Mapping[str, Any] = _extra()
    _absent: frozenset[str] = _absent_keys()


@frozen
class AccountVerificationInsights:
    """Database Insights results for an account verified that way."""

    name_match_score: int | None = None
    network_status: NetworkStatus | None = None
    previous_returns: PreviousReturns | None = None
    account_number_format: AccountNumberFormat | str | None = None
    extra: Mapping[str, Any] = _extra()
    _absent: frozenset[str] = _absent_keys()


@frozen
class AccountBase:
    """One account of an Item.

    A ``null`` ``balances`` (which Plaid's schema forbids) becomes an ``AccountBalance`` whose
    fields are all ``None``, so ``account.balances.current`` never needs a guard.
    """

    account_id: str
    balances: AccountBalance = field(factory=AccountBalance)
    mask: str | None = None
    name: str | None = None
    official_name: str | None = None
    type: AccountType | str | None = None
    subtype: AccountSubtype | str | None = None
    verification_status: VerificationStatus | str | None = None
    verification_name: str | None = None
    verification_insights: AccountVerificationInsights | None = None
    persistent_account_id: str | None = None
    holder_category: AccountHolderCategory | str | None = None
    # Newer than the 2020-09-14_1.697.4 schema: spec 1.721.1 adds an annual percentage yield.
    apy: Decimal | None = None
    extra: Mapping[str, Any] = _extra()
    _absent: frozenset[str] = _absent_keys()


@frozen
class PlaidErrorBody:
    """Plaid's error object: the body of a failed call, and ``Item.error``."""

    error_type: PlaidErrorType | str | None = None
    error_code: str | None = None
    error_message: str | None = None
    display_message: str | None = None
    error_code_reason: str | None = None
    request_id: str | None = None
    causes: tuple[Any, ...] = ()
    status: int | None = None
    documentation_url: str | None = None
    suggested_action: str | None = None
    required_account_subtypes: tuple[str, ...] = ()
    provided_account_subtypes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = _extra()
    _absent: frozenset[str] = _absent_keys()


@frozen
class Item:
    """The Item (one login at one institution) that the accounts belong to."""

    item_id: str
    institution_id: str | None = None
    institution_name: str | None = None
    webhook: str | None = None
    auth_method: ItemAuthMethod | str | None = None
    error: PlaidErrorBody | None = None
    available_products: tuple[Products | str, ...] = ()
    billed_products: tuple[Products | str, ...] = ()
    # Optional in Plaid's schema: None when Plaid did not send them, () when it sent [].
    products: tuple[Products | str, ...] | None = None
    consented_products: tuple[Products | str, ...] | None = None
    consent_expiration_time: dt.datetime | None = None
    update_type: ItemUpdateType | str | None = None
    extra: Mapping[str, Any] = _extra()
    _absent: frozenset[str] = _absent_keys()


@frozen
class AccountsGetResponse:
    """What both ``/accounts/get`` and ``/accounts/balance/get`` return.

    The three keys must be there (a body without them is not an answer to these calls), but
    ``accounts: null`` becomes an empty tuple and ``item: null`` is ``None``, which Plaid's
    schema forbids and this client still reads.
    """

    accounts: tuple[AccountBase, ...]
    item: Item | None
    request_id: str
    extra: Mapping[str, Any] = _extra()
    _absent: frozenset[str] = _absent_keys()


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


def _account_ids(value: Iterable[str] | None) -> tuple[str, ...] | None:
    """Check ``account_ids`` and freeze it: a string is a mistake, not a list of letters."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(
            f"account_ids must be a list of account id strings, not {type(value).__name__}"
        )
    ids = tuple(value)
    if not ids:
        raise ValueError("account_ids must not be empty: pass None to get every account")
    for account_id in ids:
        if not isinstance(account_id, str):
            raise TypeError(f"account_ids must contain strings, not {type(account_id).__name__}")
        if not account_id.strip():
            raise ValueError("account_ids must not contain an empty string")
    return ids


def _check_access_token(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str):
        raise TypeError(f"access_token must be a str, not {type(value).__name__}")
    words = value.split()  # split, strip and isspace agree on what whitespace is
    if not words:
        raise ValueError("access_token must not be empty")
    if len(words) != 1 or words[0] != value:
        raise ValueError("access_token must not contain whitespace")


def _check_optional_str(_: object, attribute: Any, value: Any) -> None:
    if value is not None:  # None on every call the client makes: the short way
        check_str(attribute.name, value)


def _check_aware_datetime(_: object, __: object, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dt.datetime):
        raise TypeError(f"min_last_updated_datetime must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            "min_last_updated_datetime must be timezone-aware, "
            "for example datetime.now(timezone.utc)"
        )


@frozen
class AccountsGetRequestOptions:
    account_ids: tuple[str, ...] | None = field(default=None, converter=_account_ids)


@frozen
class AccountsBalanceGetRequestOptions:
    account_ids: tuple[str, ...] | None = field(default=None, converter=_account_ids)
    # Required by Plaid only for Capital One non-depository accounts; ignored elsewhere.
    min_last_updated_datetime: dt.datetime | None = field(
        default=None, validator=_check_aware_datetime
    )


@frozen
class AccountsGetRequest:
    """The body of ``/accounts/get``.

    ``client_id`` and ``secret`` exist because Plaid's schema has them; :class:`PlaidClient`
    sends credentials in headers and leaves them out.
    """

    access_token: str = field(validator=_check_access_token, repr=short_fingerprint)
    options: AccountsGetRequestOptions | None = None
    client_id: str | None = field(default=None, validator=_check_optional_str)
    secret: str | None = field(default=None, validator=_check_optional_str, repr=False)


@frozen
class AccountsBalanceGetRequest:
    """The body of ``/accounts/balance/get``; see :class:`AccountsGetRequest`."""

    access_token: str = field(validator=_check_access_token, repr=short_fingerprint)
    options: AccountsBalanceGetRequestOptions | None = None
    client_id: str | None = field(default=None, validator=_check_optional_str)
    secret: str | None = field(default=None, validator=_check_optional_str, repr=False)
