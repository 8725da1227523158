"""Plaid's answer to one request, without I/O: checks, Item states, rate limits, accounts.

The server hands it the method, path, headers and body; it returns the status and the JSON
object to send. Faults (gateways, resets, latency) are the server's business, not this module's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from ..endpoints import ACCOUNTS_BALANCE_GET_PATH
from .catalog import BALANCE_ONLY_CODES, CATALOG, ITEM_STATE_CODES, error_body
from .data import item_for, parse_access_token
from .ratelimits import RateLimitCounter
from .validation import ENDPOINT_OPTIONS, Rejected, Request, parse

__all__ = ["Answer", "PlaidLogic", "fingerprint", "new_request_id"]

_REQUEST_ID_ALPHABET = string.ascii_letters + string.digits


def new_request_id() -> str:
    """A fresh id in the form of Plaid's (15 letters and digits, e.g. ``bkVE1BHWMAZ9Rnr``)."""
    return "".join(secrets.choice(_REQUEST_ID_ALPHABET) for _ in range(15))


def fingerprint(token: str) -> str:
    """How a log names an access token: the start of its SHA-256, never the token."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


@frozen
class Answer:
    """A status and a JSON object; ``error_code`` is set for Plaid error bodies, and
    ``token`` is the fingerprint of the access token asked about, for the log."""

    status: int
    payload: Mapping[str, Any]
    error_code: str | None = None
    token: str | None = None


def error_answer(code: str, detail: str | None = None, token: str | None = None) -> Answer:
    """Plaid's error ``code`` with a fresh ``request_id``."""
    return Answer(CATALOG[code].status, error_body(code, new_request_id(), detail), code, token)


class PlaidLogic:
    """The emulator's state that Plaid's answers depend on: credentials, Item errors, limits."""

    def __init__(self, client_id: str, secret: str) -> None:
        self.client_id = client_id
        self.secret = secret
        self.limiter: RateLimitCounter | None = None
        self._item_errors: dict[str, str | None] = {}

    def set_item_error(self, access_token: str, code: str) -> None:
        if code not in ITEM_STATE_CODES:
            raise ValueError(
                f"{code!r} is not an Item or institution error; known: {sorted(ITEM_STATE_CODES)}"
            )
        self._item_errors[access_token] = code

    def clear_item_error(self, access_token: str) -> None:
        """The Item answers normally from now on, even if its token asked for an error."""
        self._item_errors[access_token] = None

    def answer(
        self, method: str, path: str, content_type: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        if method != "POST" or path not in ENDPOINT_OPTIONS:
            return error_answer("NOT_FOUND", f"{method} {path} is not a Plaid endpoint")
        token: str | None = None
        try:
            request = parse(path, content_type, headers, body)
            token = fingerprint(request.access_token)
            return self._serve(path, request, token)
        except Rejected as rejected:
            return error_answer(rejected.code, rejected.detail, token)

    def _serve(self, path: str, request: Request, token: str) -> Answer:
        self._authenticate(request)
        item_error = self._item_error(request.access_token)
        if self.limiter is not None:
            code = self.limiter.admit(path, request.access_token)
            if code is not None:
                raise Rejected(code)
        if item_error is not None and (
            path == ACCOUNTS_BALANCE_GET_PATH or item_error not in BALANCE_ONLY_CODES
        ):
            raise Rejected(item_error)
        sandbox_item = item_for(request.access_token)
        accounts = list(sandbox_item.accounts)
        if request.account_ids is not None:
            known = {account["account_id"] for account in accounts}
            if any(account_id not in known for account_id in request.account_ids):
                raise Rejected("INVALID_ACCOUNT_ID")
            wanted = set(request.account_ids)
            accounts = [account for account in accounts if account["account_id"] in wanted]
        payload = {"accounts": accounts, "item": sandbox_item.item, "request_id": new_request_id()}
        return Answer(200, payload, token=token)

    def _authenticate(self, request: Request) -> None:
        client_ok = hmac.compare_digest(request.client_id.encode(), self.client_id.encode())
        secret_ok = hmac.compare_digest(request.secret.encode(), self.secret.encode())
        if not (client_ok and secret_ok):
            raise Rejected("INVALID_API_KEYS")

    def _item_error(self, access_token: str) -> str | None:
        """The error code this Item is in, or None; :class:`Rejected` for a bad token."""
        valid, code = parse_access_token(access_token)
        if not valid:
            environment = access_token.split("-")[1] if access_token.count("-") >= 2 else ""
            if access_token.startswith("access-") and environment != "sandbox":
                raise Rejected(
                    "INVALID_ACCESS_TOKEN",
                    "provided access token is for the wrong environment: "
                    "this is the Sandbox emulator, which accepts access-sandbox-<identifier>",
                )
            raise Rejected("INVALID_ACCESS_TOKEN")
        if access_token in self._item_errors:
            return self._item_errors[access_token]
        if code is not None and code not in ITEM_STATE_CODES:
            raise Rejected(
                "INVALID_ACCESS_TOKEN",
                f"the token asks for error_{code}, which the emulator does not know; "
                f"known: {', '.join(sorted(ITEM_STATE_CODES))}",
            )
        return code
