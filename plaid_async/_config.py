"""Checks for the client's configuration, so a bad value fails where it is written."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from urllib.parse import urlsplit

from .endpoints import ENDPOINTS

__all__ = [
    "ENVIRONMENTS",
    "check_credential",
    "check_positive_int",
    "check_seconds",
    "resolve_base_url",
    "timeouts_for",
]

ENVIRONMENTS: Mapping[str, str] = {
    "sandbox": "https://sandbox.plaid.com",
    "production": "https://production.plaid.com",
}


def check_credential(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def check_seconds(name: str, value: object) -> float:
    """A positive, finite number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, not {value!r}")
    return float(value)


def check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(environment: str, base_url: str | None) -> str:
    """The URL calls go to: ``base_url`` if given (checked), else the environment's host."""
    if base_url is None:
        if environment == "development":
            raise ValueError(
                "Plaid retired the Development environment; use 'sandbox' or 'production'"
            )
        if environment not in ENVIRONMENTS:
            raise ValueError(
                f"unknown environment {environment!r}: expected 'sandbox' or 'production'"
            )
        return ENVIRONMENTS[environment]
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, not {type(base_url).__name__}")
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"base_url must be an https:// URL with a host, not {base_url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            "base_url may use http:// only on a loopback host (127.0.0.1, ::1, localhost); "
            "anything else must be https://"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("base_url must not carry a query, a fragment or user information")
    return base_url.rstrip("/")


def timeouts_for(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Per-endpoint attempt timeouts: the defaults, with ``overrides`` merged over them."""
    timeouts = {path: endpoint.default_timeout for path, endpoint in ENDPOINTS.items()}
    for path, seconds in (overrides or {}).items():
        if path not in ENDPOINTS:
            raise ValueError(f"timeouts: unknown endpoint {path!r}; known: {sorted(ENDPOINTS)}")
        timeouts[path] = check_seconds(f"timeouts[{path!r}]", seconds)
    return timeouts
