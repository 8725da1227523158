"""Shared fixtures."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import aioresponses.core
import pytest
from aioresponses import aioresponses as _aioresponses

from tests.samples import response_doc

pytest_plugins = ("pytester",)  # the plugin and docs tests run pytest on example suites

_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters


class _CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` that aiohttp 3.14
    requires (aioresponses issue #289); give it a stand-in that reports no bytes written."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER and "stream_writer" not in kwargs:
            kwargs["stream_writer"] = SimpleNamespace(output_size=0)
        super().__init__(method, url, **kwargs)


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[_aioresponses]:
    """aioresponses, working on every aiohttp this package supports."""
    monkeypatch.setattr(aioresponses.core, "ClientResponse", _CompatResponse)
    with _aioresponses() as m:
        yield m


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of Plaid's example ``AccountsGetResponse`` document."""
    return response_doc()
