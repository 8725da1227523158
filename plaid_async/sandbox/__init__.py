"""An embedded emulator of Plaid's Accounts API, for tests and demos without Plaid.

``SandboxServer`` answers ``POST /accounts/get`` and ``POST /accounts/balance/get`` on loopback
as Plaid's Sandbox does (deterministic Items per access token, Plaid's validation and error
bodies, Item error states) and misbehaves on request: latency, 5xx, gateway pages, 429s,
resets, hangs, truncated and dripping bodies, Plaid's rate limits. See ``docs/testing.md``.

The core package never imports this one.
"""

from .catalog import CATALOG, ITEM_STATE_CODES, RATE_LIMIT_CODES
from .data import SandboxItem, error_token, sandbox_token
from .faults import FAULT_KINDS, Faults
from .ratelimits import RateLimits
from .server import DEFAULT_CLIENT_ID, DEFAULT_SECRET, SandboxServer
from .stats import Stats

__all__ = [
    "CATALOG",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_SECRET",
    "FAULT_KINDS",
    "ITEM_STATE_CODES",
    "RATE_LIMIT_CODES",
    "Faults",
    "RateLimits",
    "SandboxItem",
    "SandboxServer",
    "Stats",
    "error_token",
    "sandbox_token",
]
