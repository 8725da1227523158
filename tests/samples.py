"""Sample data shared by the tests: Plaid's own example response, error bodies, test credentials."""

from __future__ import annotations

import copy
from typing import Any

CLIENT_ID = "test-client-id"
SECRET = "test-secret-0123456789abcdef"
TOKEN = "access-sandbox-3b1d3b77-6e59-4f5e-9d4a-0c7e2d1a9f10"

_RESPONSE: dict[str, Any] = {
    "accounts": [
        {
            "account_id": "BxBXxLj1m4HMXBm9WZZmCWVbPjX16EHwv99vp",
            "balances": {
                "available": 100,
                "current": 110,
                "iso_currency_code": "USD",
                "limit": None,
                "unofficial_currency_code": None,
            },
            "mask": "0000",
            "name": "Plaid Checking",
            "official_name": "Plaid Gold Standard 0% Interest Checking",
            "subtype": "checking",
            "type": "depository",
        },
        {
            "account_id": "dVzbVMLjrxTnLjX4G66XUp5GLklm4oiZy88yK",
            "balances": {
                "available": None,
                "current": 23631.9805,
                "iso_currency_code": "USD",
                "limit": None,
                "unofficial_currency_code": None,
            },
            "mask": "6666",
            "name": "Plaid 401k",
            "official_name": None,
            "subtype": "401k",
            "type": "investment",
        },
    ],
    "item": {
        "available_products": ["balance", "identity"],
        "billed_products": ["auth", "transactions"],
        "consent_expiration_time": None,
        "error": None,
        "institution_id": "ins_109508",
        "institution_name": "First Platypus Bank",
        "item_id": "Ed6bjNrDLJfGvZWwnkQlfxwoNz54B5C97ejBr",
        "update_type": "background",
        "webhook": "https://www.genericwebhookurl.com/webhook",
    },
    "request_id": "bkVE1BHWMAZ9Rnr",
}


def response_doc() -> dict[str, Any]:
    """A fresh copy of a realistic ``AccountsGetResponse`` document (Plaid's own example)."""
    return copy.deepcopy(_RESPONSE)


def error_doc(error_type: str, error_code: str, **extra: Any) -> dict[str, Any]:
    """A Plaid error body as Plaid sends it."""
    return {
        "error_type": error_type,
        "error_code": error_code,
        "error_message": f"{error_code.lower().replace('_', ' ')} happened",
        "display_message": None,
        "request_id": "req-" + error_code.lower(),
        "causes": [],
        "status": None,
        "documentation_url": f"https://plaid.com/docs/?ref-id={error_code}",
        "suggested_action": None,
        **extra,
    }
