"""The endpoints this client speaks: one row each, with the default per-attempt timeout.

Why these timeouts: ``/accounts/balance/get`` asks the bank in real time. Plaid documents p50
about 3 s, p95 about 11 s, and "occasionally up to 30 seconds or more", and bills every call
that succeeds, also one whose answer we stopped waiting for. 60 s is twice the documented
"up to 30 s": slow calls finish instead of being cut off and billed again on a retry.
``/accounts/get`` reads Plaid's cache and answers in well under a second; 10 s leaves room for
a slow network without letting a stuck connection hold a request handler.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from .models import AccountsBalanceGetRequest, AccountsGetRequest, AccountsGetResponse

__all__ = ["ACCOUNTS_BALANCE_GET", "ACCOUNTS_GET", "ENDPOINTS", "Endpoint"]


@frozen
class Endpoint:
    path: str
    request_type: type[AccountsGetRequest] | type[AccountsBalanceGetRequest]
    response_type: type[AccountsGetResponse]
    default_timeout: float
    billed: bool  # Plaid bills each successful call: a retry after a timeout may bill twice


ACCOUNTS_GET = Endpoint(
    path="/accounts/get",
    request_type=AccountsGetRequest,
    response_type=AccountsGetResponse,
    default_timeout=10.0,
    billed=False,
)
ACCOUNTS_BALANCE_GET = Endpoint(
    path="/accounts/balance/get",
    request_type=AccountsBalanceGetRequest,
    response_type=AccountsGetResponse,
    default_timeout=60.0,
    billed=True,
)
ENDPOINTS: Mapping[str, Endpoint] = {e.path: e for e in (ACCOUNTS_GET, ACCOUNTS_BALANCE_GET)}
