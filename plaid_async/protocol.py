"""Plaid's wire protocol without I/O: the headers and body to send, and what an answer means.

Everything here is a pure function of bytes and models, in the manner of gidgethub's ``sansio``:
the transport moves bytes, this module gives them meaning, and most tests need no network.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from ._convert import converter, loads
from ._redact import redact
from ._version import __version__
from .errors import PlaidResponseError, error_from_response, excerpt_of

__all__ = ["USER_AGENT", "decode_response", "encode_request", "request_headers"]

USER_AGENT = f"plaid-async/{__version__} (Python {platform.python_version()})"

T = TypeVar("T")


def request_headers(client_id: str, secret: str, plaid_version: str) -> dict[str, str]:
    """The headers of every call: credentials in headers, as Plaid's own clients send them."""
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        "Plaid-Version": plaid_version,
        "PLAID-CLIENT-ID": client_id,
        "PLAID-SECRET": secret,
    }


def encode_request(request: object) -> bytes:
    """A request model as compact UTF-8 JSON, with only the fields that were given."""
    return _ENCODER.encode(converter.unstructure(request)).encode("utf-8")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""Built once: ``json.dumps`` with these arguments builds an encoder on every call."""


def decode_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    response_type: type[T],
    *,
    secrets: Iterable[str] = (),
) -> T:
    """The model for a 2xx answer, or raise the :class:`~plaid_async.PlaidError` it means.

    A 2xx body that is not JSON, or not a JSON object, is transient (a proxy's page, a body cut
    short): it is retried like a dropped connection. A JSON object that does not fit the schema
    is not: it would not fit on the next try either.
    """
    if not 200 <= status < 300:
        raise error_from_response(status, headers, body, secrets=secrets)
    # Exceptions are turned into messages inside each ``except`` and raised outside it, so
    # that none holds the body (``JSONDecodeError.doc`` is all of it) as ``__context__``.
    problem = None
    try:
        data: Any = loads(body)
    except (ValueError, RecursionError):
        problem = "is not valid JSON"
    else:
        if type(data) is not dict:
            problem = "is not a JSON object"
    if problem is not None:
        raise _bad_body(status, body, secrets, problem, transient=True)
    try:
        return converter.structure(data, response_type)
    except Exception as exc:  # cattrs raises many types; the caller gets one
        problem = f"does not fit {response_type.__name__}: {type(exc).__name__}: {exc}"
    raise _bad_body(status, body, secrets, problem, transient=False)


def _bad_body(
    status: int, body: bytes, secrets: Iterable[str], reason: str, *, transient: bool
) -> PlaidResponseError:
    secrets = tuple(secrets)
    excerpt = excerpt_of(body, secrets)
    return PlaidResponseError(
        redact(f"HTTP {status}: the body {reason}: {excerpt or '(empty body)'}", secrets),
        status=status,
        excerpt=excerpt,
        transient=transient,
    )
