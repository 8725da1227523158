"""Request checks, in the order and with the codes Plaid uses, as pure functions.

Plaid's request side is strict: a wrong Content-Type, a body that is not a JSON object, an
unknown field, a missing one or one of the wrong type is an ``INVALID_REQUEST`` error (HTTP 400).
The emulator is as strict, so a client that passes here sends nothing Plaid would refuse. A
``null`` for an optional field is refused too: Plaid's clients never send one.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from ..endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH

__all__ = [
    "ENDPOINT_OPTIONS",
    "Rejected",
    "Request",
    "parse",
]


ENDPOINT_OPTIONS: Mapping[str, frozenset[str]] = {
    ACCOUNTS_GET_PATH: frozenset({"account_ids"}),
    ACCOUNTS_BALANCE_GET_PATH: frozenset({"account_ids", "min_last_updated_datetime"}),
}
"""The endpoints and the ``options`` fields each accepts."""

_TOP_LEVEL = ("client_id", "secret", "access_token", "options")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


class Rejected(Exception):
    """The request breaks a rule: answer with Plaid error ``code`` (``detail`` says which)."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code if detail is None else f"{code}: {detail}")
        self.code = code
        self.detail = detail


@frozen
class Request:
    """A request that passed every check of its form; the credentials are not checked yet."""

    client_id: str
    secret: str
    access_token: str
    account_ids: tuple[str, ...] | None


def parse(path: str, content_type: str, headers: Mapping[str, str], body: bytes) -> Request:
    """The request, or :class:`Rejected` with the code Plaid would answer."""
    if content_type != "application/json":
        raise Rejected("INVALID_HEADERS", "Content-Type must be application/json")
    data = _json_object(body)
    allowed = ENDPOINT_OPTIONS[path]
    unknown = [key for key in data if key not in _TOP_LEVEL]
    options = data.get("options", {})
    if "options" in data and not isinstance(options, dict):
        raise Rejected("INVALID_FIELD", "options must be an object")
    unknown += [f"options.{key}" for key in options if key not in allowed]
    if unknown:
        raise Rejected(
            "UNKNOWN_FIELDS",
            f"the following fields are not recognized by this endpoint: {', '.join(unknown)}",
        )
    client_id = _credential(data, headers, "client_id", "PLAID-CLIENT-ID")
    secret = _credential(data, headers, "secret", "PLAID-SECRET")
    access_token = data.get("access_token")
    if client_id is None or secret is None or access_token is None:
        missing = {"client_id": client_id, "secret": secret, "access_token": access_token}
        raise Rejected(
            "MISSING_FIELDS",
            "the following required fields are missing: "
            + ", ".join(name for name, value in missing.items() if value is None),
        )
    if not isinstance(access_token, str):
        raise Rejected("INVALID_FIELD", "access_token must be a string")
    account_ids = _account_ids(options)
    if "min_last_updated_datetime" in options:
        _check_date_time(options["min_last_updated_datetime"])
    return Request(client_id, secret, access_token, account_ids)


def _not_json(name: str) -> Any:
    """Python reads ``NaN`` and ``Infinity``; JSON (RFC 8259), and so Plaid, does not."""
    raise ValueError(f"{name} is not JSON")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Rejected("INVALID_BODY", "body could not be parsed as JSON") from None
    if not isinstance(data, dict):
        raise Rejected("INVALID_BODY", "body must be a JSON object")
    return data


def _credential(
    data: Mapping[str, Any], headers: Mapping[str, str], field: str, header: str
) -> str | None:
    """A credential from the body, else from its header (Plaid takes either)."""
    if field in data:
        value = data[field]
        if not isinstance(value, str):
            raise Rejected("INVALID_FIELD", f"{field} must be a string")
        return value
    return headers.get(header)


def _account_ids(options: Mapping[str, Any]) -> tuple[str, ...] | None:
    if "account_ids" not in options:
        return None
    ids = options["account_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Rejected("INVALID_FIELD", "options.account_ids must be an array of strings")
    if not ids:
        raise Rejected("INVALID_FIELD", "options.account_ids must not be empty")
    return tuple(ids)


def _check_date_time(value: object) -> None:
    """An RFC 3339 date-time with an offset, with a real date and time in it."""
    match = _DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
        if (
            1 <= month <= 12
            and 1 <= day <= calendar.monthrange(year, month)[1]
            and hour < 24
            and minute < 60
            and second <= 60
        ):
            return
    raise Rejected(
        "INVALID_FIELD",
        "options.min_last_updated_datetime must be an ISO 8601 date-time "
        "such as 2024-01-31T12:00:00Z",
    )
