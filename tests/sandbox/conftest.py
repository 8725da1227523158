"""Fixtures of the emulator's tests; the emulator itself comes from the plugin's
``plaid_sandbox`` fixture, so these tests use it as a user's suite would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


def pytest_configure(config: pytest.Config) -> None:
    # The plugin tests need ``pytester``. pytest refuses ``pytest_plugins`` in a conftest below
    # the top level when the whole suite runs, so load the plugin when this conftest is.
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A bare aiohttp session, to see exactly what the emulator puts on the wire."""
    async with aiohttp.ClientSession() as session:
        yield session
