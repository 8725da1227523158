"""The emulator's JSON writer: money as exact JSON numbers (see :mod:`plaid_async._json`)."""

from __future__ import annotations

from plaid_async._json import dumps, format_decimal

__all__ = ["dumps", "format_decimal"]
