"""The endpoints this client speaks: one row each, with the default per-attempt timeout.

Why these timeouts: ``/accounts/balance/get`` asks the bank in real time. Plaid documents p50
about 3 s, p95 about 11 s, and "occasionally up to 30 seconds or more", and bills every call
that succeeds, also one whose answer we stopped waiting for. 60 s is twice the documented
"up to 30 s": slow calls finish instead of being cut off and billed again on a retry.
``/accounts/get`` reads Plaid's cache and answers in well under a second; 10 s leaves room for
a slow network without letting a stuck connection hold a request handler.

Every other module takes the paths from here: ``ACCOUNTS_GET_PATH`` and
``ACCOUNTS_BALANCE_GET_PATH`` are the strings, ``ACCOUNTS_GET`` and ``ACCOUNTS_BALANCE_GET`` the
:class:`Endpoint` rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from .models import AccountsGetResponse

__all__ = [
    "ACCOUNTS_BALANCE_GET",
    "ACCOUNTS_BALANCE_GET_PATH",
    "ACCOUNTS_GET",
    "ACCOUNTS_GET_PATH",
    "ENDPOINTS",
    "Endpoint",
]

ACCOUNTS_GET_PATH = "/accounts/get"
ACCOUNTS_BALANCE_GET_PATH = "/accounts/balance/get"
"""Billed per successful call, also one whose answer we stopped waiting for: a retry after a
timeout may bill twice (``RetryPolicy.retry_timeouts``)."""


@frozen
class Endpoint:
    path: str
    response_type: type[AccountsGetResponse]
    default_timeout: float


ACCOUNTS_GET = Endpoint(ACCOUNTS_GET_PATH, AccountsGetResponse, default_timeout=10.0)
ACCOUNTS_BALANCE_GET = Endpoint(
    ACCOUNTS_BALANCE_GET_PATH, AccountsGetResponse, default_timeout=60.0
)
ENDPOINTS: Mapping[str, Endpoint] = {e.path: e for e in (ACCOUNTS_GET, ACCOUNTS_BALANCE_GET)}
