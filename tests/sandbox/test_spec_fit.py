"""Everything the emulator can answer fits Plaid's spec: many Items' accounts, every error body,
with the HTTP status Plaid gives each error type (plaid-facts.md section 4)."""

from __future__ import annotations

import json
from decimal import Decimal

import jsonschema
import pytest

from plaid_async.sandbox import CATALOG, sandbox_token
from plaid_async.sandbox.api import error_answer
from plaid_async.sandbox.data import item_for
from plaid_async.sandbox.wire import dumps
from tests.spec_schema import json_schema

RESPONSE = jsonschema.Draft7Validator(json_schema("AccountsGetResponse"))
ERROR = jsonschema.Draft7Validator(json_schema("PlaidError"))


def test_the_accounts_of_many_items_fit_the_spec() -> None:
    for n in range(300):
        item = item_for(sandbox_token(n))
        payload = {"accounts": list(item.accounts), "item": item.item, "request_id": "x" * 15}
        RESPONSE.validate(json.loads(dumps(payload), parse_float=Decimal))


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_error_body_fits_the_spec_with_plaids_status(code: str) -> None:
    answer = error_answer(code)
    body = json.loads(dumps(answer.payload))
    ERROR.validate(body)
    expected_status = {
        "RATE_LIMIT_EXCEEDED": 429,
        "API_ERROR": 500 if code == "INTERNAL_SERVER_ERROR" else 503,
    }.get(body["error_type"], 404 if code == "NOT_FOUND" else 400)
    assert answer.status == expected_status
    assert body["error_code"] == code
    # Plaid's pages, as in plaid-facts.md section 4: /docs/errors/item/, .../invalid-input/
    page = body["error_type"].removesuffix("_ERROR").lower().replace("_", "-")
    assert body["documentation_url"] == f"https://plaid.com/docs/errors/{page}/#{code.lower()}"
