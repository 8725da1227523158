"""plaid-async: an asyncio client for Plaid's Accounts API.

Typed models with exact ``Decimal`` money and open enums, Plaid-aware retries, per-endpoint
timeouts and a call-wide deadline, on aiohttp.
"""

from ._convert import converter
from ._version import __version__
from .batch import BatchProgress, BatchSummary, ItemResult, PlaidInputError
from .budgets import Budget, Budgets
from .client import PlaidClient
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
from .errors import (
    APIError,
    InstitutionError,
    InvalidInputError,
    InvalidRequestError,
    InvalidResultError,
    ItemError,
    OAuthError,
    PlaidAPIError,
    PlaidConnectionError,
    PlaidError,
    PlaidResponseError,
    PlaidTimeoutError,
    RateLimiterUnavailableError,
    RateLimitExceededError,
    RateLimitWaitTimeout,
)
from .models import (
    AccountBalance,
    AccountBase,
    AccountsBalanceGetRequest,
    AccountsBalanceGetRequestOptions,
    AccountsGetRequest,
    AccountsGetRequestOptions,
    AccountsGetResponse,
    AccountVerificationInsights,
    Item,
    NetworkStatus,
    PlaidErrorBody,
    PreviousReturns,
)
from .policy import RetryPolicy
from .ratelimit import LocalRateLimiter, RateLimiter
from .redis_ratelimit import RedisRateLimiter

__all__ = [
    "APIError",
    "AccountBalance",
    "AccountBase",
    "AccountHolderCategory",
    "AccountNumberFormat",
    "AccountSubtype",
    "AccountType",
    "AccountVerificationInsights",
    "AccountsBalanceGetRequest",
    "AccountsBalanceGetRequestOptions",
    "AccountsGetRequest",
    "AccountsGetRequestOptions",
    "AccountsGetResponse",
    "BatchProgress",
    "BatchSummary",
    "Budget",
    "Budgets",
    "InstitutionError",
    "InvalidInputError",
    "InvalidRequestError",
    "InvalidResultError",
    "Item",
    "ItemAuthMethod",
    "ItemError",
    "ItemResult",
    "ItemUpdateType",
    "LocalRateLimiter",
    "NetworkStatus",
    "OAuthError",
    "PlaidAPIError",
    "PlaidClient",
    "PlaidConnectionError",
    "PlaidError",
    "PlaidErrorBody",
    "PlaidErrorType",
    "PlaidInputError",
    "PlaidResponseError",
    "PlaidTimeoutError",
    "PreviousReturns",
    "Products",
    "RateLimitExceededError",
    "RateLimitWaitTimeout",
    "RateLimiter",
    "RateLimiterUnavailableError",
    "RedisRateLimiter",
    "RetryPolicy",
    "VerificationStatus",
    "__version__",
    "converter",
]
