"""pytest fixtures for a test suite that talks to Plaid: a running emulator and a client for it.

Registered through the ``pytest11`` entry point, so installing plaid-async is enough:

- ``plaid_sandbox``: a started :class:`~plaid_async.sandbox.SandboxServer`, one per test;
- ``plaid_client``: a :class:`~plaid_async.PlaidClient` connected to it, with fast retries and
  short timeouts, so a test of failure handling takes milliseconds.

``@pytest.mark.plaid_sandbox(seed=..., faults=..., rate_limits=...)`` passes its keyword
arguments to the ``SandboxServer``. The fixtures are async (declared with
``pytest_asyncio.fixture``, so they work in pytest-asyncio's strict and auto modes); without
pytest-asyncio, using one fails with a message saying so, and nothing else is affected. Nothing
heavy is imported until a fixture is used.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from ..endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH

if TYPE_CHECKING:
    from plaid_async import PlaidClient, RetryPolicy
    from plaid_async.sandbox import SandboxServer

pytest_asyncio: types.ModuleType | None
try:
    import pytest_asyncio
except ImportError:  # the fixtures then fail with a clear message when used
    pytest_asyncio = None

__all__ = ["FAST_TIMEOUTS", "fast_retry", "plaid_client", "plaid_sandbox"]

FAST_TIMEOUTS = {ACCOUNTS_GET_PATH: 2.0, ACCOUNTS_BALANCE_GET_PATH: 2.0}
"""Per-attempt timeouts of ``plaid_client``: long for loopback, short for a stuck test."""

_NEEDS_PYTEST_ASYNCIO = (
    "the plaid_sandbox and plaid_client fixtures are async and need pytest-asyncio: "
    "pip install pytest-asyncio"
)


def fast_retry() -> RetryPolicy:
    """``plaid_client``'s retry policy: 3 attempts, waits of 1 to 10 ms, a 5 s deadline."""
    from plaid_async import RetryPolicy

    return RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.01, deadline=5.0)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "plaid_sandbox(**kwargs): keyword arguments for the plaid_sandbox fixture's "
        "SandboxServer (seed, faults, rate_limits, client_id, secret)",
    )


def _async_fixture(func: Callable[..., Any]) -> Any:
    """``pytest_asyncio.fixture(func)``, or without pytest-asyncio a fixture of the same name
    that fails with a message saying what to install."""
    if pytest_asyncio is not None:
        return pytest_asyncio.fixture(func)

    def missing() -> NoReturn:
        pytest.fail(_NEEDS_PYTEST_ASYNCIO, pytrace=False)

    missing.__doc__ = func.__doc__
    return pytest.fixture(name=func.__name__)(missing)


@_async_fixture
async def plaid_sandbox(request: pytest.FixtureRequest) -> AsyncIterator[SandboxServer]:
    """A running Plaid emulator on loopback, stopped after the test."""
    from plaid_async.sandbox import SandboxServer

    marker = request.node.get_closest_marker("plaid_sandbox")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    async with SandboxServer(**kwargs) as sandbox:
        yield sandbox


@_async_fixture
async def plaid_client(plaid_sandbox: SandboxServer) -> AsyncIterator[PlaidClient]:
    """A ``PlaidClient`` for ``plaid_sandbox``, with fast retries and 2 s timeouts."""
    async with plaid_sandbox.client(
        retry=fast_retry(), timeouts=FAST_TIMEOUTS, connect_timeout=1.0
    ) as client:
        yield client
