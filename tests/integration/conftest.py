"""Fixtures for the integration tests: real servers on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.rawserver import Server


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    await srv.start()
    yield srv
    await srv.stop()
