"""Fixtures of the emulator's tests; the emulator itself comes from the plugin's
``plaid_sandbox`` fixture, so these tests use it as a user's suite would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A bare aiohttp session, to see exactly what the emulator puts on the wire."""
    async with aiohttp.ClientSession() as session:
        yield session
