"""The client's configuration: where calls go and how long an attempt may take, checked so
that a bad value fails where it is written (by the rules of :mod:`plaid_async._checks`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from ._checks import check_instance, check_seconds, check_str
from .endpoints import ENDPOINTS

__all__ = ["ENVIRONMENTS", "resolve_base_url", "timeouts_for"]

ENVIRONMENTS: Mapping[str, str] = {
    "sandbox": "https://sandbox.plaid.com",
    "production": "https://production.plaid.com",
}


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(environment: str, base_url: str | None) -> str:
    """The URL calls go to: ``base_url`` if given (checked), else the environment's host."""
    check_str("environment", environment)
    if base_url is None:
        if environment == "development":
            raise ValueError(
                "environment: Plaid retired the Development environment; "
                "use 'sandbox' or 'production'"
            )
        if environment not in ENVIRONMENTS:
            raise ValueError(
                f"environment must be 'sandbox' or 'production', not {environment!r} "
                "(unknown environment)"
            )
        return ENVIRONMENTS[environment]
    check_instance("base_url", base_url, str)
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
    if overrides is None:
        return timeouts
    check_instance("timeouts", overrides, Mapping, "a mapping of endpoint path to seconds")
    for path, seconds in overrides.items():
        check_instance("timeouts", path, str, "keyed by endpoint path strings")
        if path not in ENDPOINTS:
            raise ValueError(f"timeouts: unknown endpoint {path!r}; known: {sorted(ENDPOINTS)}")
        timeouts[path] = check_seconds(f"timeouts[{path!r}]", seconds)
    return timeouts
