"""The Plaid errors the emulator can answer with: type, HTTP status and wording, one row each.

Statuses and types are Plaid's (plaid-facts.md section 4); messages follow the wording of Plaid's
error pages. ``error_body`` builds the JSON object Plaid sends, with every field its real error
bodies carry (``documentation_url``, ``suggested_action: null``, ``causes: []``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

__all__ = [
    "BALANCE_ONLY_CODES",
    "CATALOG",
    "ITEM_STATE_CODES",
    "RATE_LIMIT_CODES",
    "PlaidErrorSpec",
    "error_body",
]


@frozen
class PlaidErrorSpec:
    error_type: str
    error_code: str
    status: int
    message: str
    display_message: str | None = None


_DOC_PAGES: Mapping[str, str] = {
    "INVALID_REQUEST": "invalid-request",
    "INVALID_INPUT": "invalid-input",
    "INVALID_RESULT": "invalid-result",
    "ITEM_ERROR": "item",
    "INSTITUTION_ERROR": "institution",
    "RATE_LIMIT_EXCEEDED": "rate-limit-exceeded",
    "API_ERROR": "api",
}

_BANK_DOWN = (
    "This financial institution is not currently responding to requests. "
    "We apologize for the inconvenience."
)

_ROWS: tuple[tuple[str, str, int, str, str | None], ...] = (
    # INVALID_REQUEST: the request itself is wrong.
    ("INVALID_REQUEST", "INVALID_BODY", 400, "body could not be parsed as a JSON object", None),
    ("INVALID_REQUEST", "INVALID_HEADERS", 400, "Content-Type must be application/json", None),
    ("INVALID_REQUEST", "MISSING_FIELDS", 400, "the following required fields are missing", None),
    ("INVALID_REQUEST", "UNKNOWN_FIELDS", 400, "the following fields are not recognized", None),
    ("INVALID_REQUEST", "INVALID_FIELD", 400, "a field has an invalid value", None),
    ("INVALID_REQUEST", "NOT_FOUND", 404, "not found", None),
    # INVALID_INPUT: well-formed, but not valid here.
    ("INVALID_INPUT", "INVALID_API_KEYS", 400, "invalid client_id or secret provided", None),
    (
        "INVALID_INPUT",
        "INVALID_ACCESS_TOKEN",
        400,
        "provided access token is in an invalid format. "
        "expected format: access-<environment>-<identifier>",
        None,
    ),
    (
        "INVALID_INPUT",
        "INVALID_ACCOUNT_ID",
        400,
        "one or more of the account IDs is invalid: it is not associated with this Item",
        None,
    ),
    # ITEM_ERROR: the Item needs the user, or is not ready.
    (
        "ITEM_ERROR",
        "ITEM_LOGIN_REQUIRED",
        400,
        "the login details of this item have changed (credentials, MFA, or required user "
        "action) and a user login is required to update this information. use Link's update "
        "mode to restore the item to a good state",
        None,
    ),
    (
        "ITEM_ERROR",
        "ITEM_LOCKED",
        400,
        "the account is locked. prompt the user to visit the institution's site and unlock "
        "their account",
        None,
    ),
    ("ITEM_ERROR", "NO_ACCOUNTS", 400, "no valid accounts were found for this item", None),
    (
        "ITEM_ERROR",
        "ACCESS_NOT_GRANTED",
        400,
        "the user did not grant the necessary permissions for their account",
        None,
    ),
    (
        "ITEM_ERROR",
        "ADDITIONAL_CONSENT_REQUIRED",
        400,
        "the user has not consented to share the data this request needs",
        None,
    ),
    (
        "ITEM_ERROR",
        "PRODUCT_NOT_READY",
        400,
        "the requested product is not yet ready. please provide a webhook or try the request "
        "again later",
        None,
    ),
    (
        "ITEM_ERROR",
        "PRODUCTS_NOT_SUPPORTED",
        400,
        "the following products are not supported by this item: balance",
        None,
    ),
    (
        "ITEM_ERROR",
        "USER_SETUP_REQUIRED",
        400,
        "the account has not been fully set up. prompt the user to visit the issuing "
        "institution's site and finish the setup process",
        None,
    ),
    (
        "ITEM_ERROR",
        "PASSWORD_RESET_REQUIRED",
        400,
        "user must reset their password at the institution's site",
        None,
    ),
    ("ITEM_ERROR", "ITEM_NOT_SUPPORTED", 400, "this item is not supported by Plaid", None),
    ("ITEM_ERROR", "MFA_NOT_SUPPORTED", 400, "this account requires an unsupported MFA", None),
    # INSTITUTION_ERROR: the bank. HTTP 400, not 5xx.
    (
        "INSTITUTION_ERROR",
        "INSTITUTION_DOWN",
        400,
        "this institution is not currently responding to this request. please try again soon",
        _BANK_DOWN,
    ),
    (
        "INSTITUTION_ERROR",
        "INSTITUTION_NOT_RESPONDING",
        400,
        "this institution is not currently responding to this request. please try again soon",
        _BANK_DOWN,
    ),
    (
        "INSTITUTION_ERROR",
        "INSTITUTION_NOT_AVAILABLE",
        400,
        "this institution is not available at this time",
        _BANK_DOWN,
    ),
    (
        "INSTITUTION_ERROR",
        "INSTITUTION_NO_LONGER_SUPPORTED",
        400,
        "this institution is no longer supported",
        "This financial institution is no longer supported. We apologize for the inconvenience.",
    ),
    (
        "INSTITUTION_ERROR",
        "UNSUPPORTED_RESPONSE",
        400,
        "the data returned from the financial institution is not in a supported format",
        None,
    ),
    # INVALID_RESULT
    (
        "INVALID_RESULT",
        "LAST_UPDATED_DATETIME_OUT_OF_RANGE",
        400,
        "no balance is available as recent as min_last_updated_datetime; "
        "use a cached balance from /accounts/get",
        None,
    ),
    # RATE_LIMIT_EXCEEDED: HTTP 429.
    (
        "RATE_LIMIT_EXCEEDED",
        "RATE_LIMIT",
        429,
        "rate limit exceeded. please try again later",
        None,
    ),
    (
        "RATE_LIMIT_EXCEEDED",
        "ACCOUNTS_LIMIT",
        429,
        "rate limit exceeded for attempts to access this item. please try again later",
        None,
    ),
    (
        "RATE_LIMIT_EXCEEDED",
        "BALANCE_LIMIT",
        429,
        "rate limit exceeded for attempts to access real-time balance for this item. "
        "please try again later",
        None,
    ),
    (
        "RATE_LIMIT_EXCEEDED",
        "ACCOUNTS_BALANCE_GET_LIMIT",
        429,
        "rate limit exceeded for /accounts/balance/get for this client. please try again later",
        None,
    ),
    (
        "RATE_LIMIT_EXCEEDED",
        "INSTITUTION_RATE_LIMIT",
        429,
        "the institution is receiving too many requests. please try again later",
        None,
    ),
    # API_ERROR: Plaid's own failures, 5xx.
    ("API_ERROR", "INTERNAL_SERVER_ERROR", 500, "an unexpected error occurred", None),
    (
        "API_ERROR",
        "PLANNED_MAINTENANCE",
        503,
        "the Plaid API is temporarily unavailable due to planned maintenance. "
        "visit https://status.plaid.com/ for more information",
        None,
    ),
)

CATALOG: Mapping[str, PlaidErrorSpec] = {row[1]: PlaidErrorSpec(*row) for row in _ROWS}
"""Every error code the emulator knows, by code."""

ITEM_STATE_CODES: frozenset[str] = frozenset(
    spec.error_code
    for spec in CATALOG.values()
    if spec.error_type in ("ITEM_ERROR", "INSTITUTION_ERROR", "API_ERROR", "INVALID_RESULT")
)
"""Codes an Item can be put in (a special token or ``set_item_error``): it answers with them."""

BALANCE_ONLY_CODES: frozenset[str] = frozenset(
    {"PRODUCTS_NOT_SUPPORTED", "LAST_UPDATED_DATETIME_OUT_OF_RANGE"}
)
"""Item states that only ``/accounts/balance/get`` reports: ``/accounts/get`` reads the cache."""

RATE_LIMIT_CODES: frozenset[str] = frozenset(
    spec.error_code for spec in CATALOG.values() if spec.status == 429
)


def error_body(code: str, request_id: str, detail: str | None = None) -> dict[str, Any]:
    """Plaid's error object for ``code``; ``detail`` replaces the message where it says more
    (which fields are missing, which is invalid)."""
    spec = CATALOG[code]
    page = _DOC_PAGES[spec.error_type]
    return {
        "display_message": spec.display_message,
        "documentation_url": f"https://plaid.com/docs/errors/{page}/#{code.lower()}",
        "error_code": code,
        "error_message": detail or spec.message,
        "error_type": spec.error_type,
        "request_id": request_id,
        "suggested_action": None,
        "causes": [],
        "error_code_reason": None,
    }
