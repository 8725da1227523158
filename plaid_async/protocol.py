"""Plaid's wire protocol without I/O: the headers and body to send, and what an answer means.

Everything here is a pure function of bytes and models, in the manner of gidgethub's ``sansio``:
the transport moves bytes, this module gives them meaning, and most tests need no network.
:func:`decode_response` is the one place that decides what an answer means, as gidgethub's
``decipher_response`` does: the response model of a 2xx, or the typed
:class:`~plaid_async.PlaidError` of anything else (:func:`error_from_response`).
"""

from __future__ import annotations

import email.utils
import html
import json
import math
import platform
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from ._convert import converter, loads
from ._redact import redact
from ._version import __version__
from .errors import API_ERROR_CLASSES, PlaidAPIError, PlaidError, PlaidResponseError
from .models import PlaidErrorBody

__all__ = [
    "USER_AGENT",
    "decode_response",
    "encode_request",
    "error_from_response",
    "excerpt_of",
    "request_headers",
    "retry_after_seconds",
]

USER_AGENT = f"plaid-async/{__version__} (Python {platform.python_version()})"

_EXCERPT_CHARS = 200

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
    is not: it would not fit on the next try either. Anything outside 2xx is
    :func:`error_from_response`'s.
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


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str] = ()
) -> PlaidError:
    """The exception for a failed answer (any status outside 2xx).

    A body with Plaid's error object gives the :class:`~plaid_async.PlaidAPIError` subclass of
    its ``error_type``; anything else (an HTML gateway page, an empty or broken body) gives a
    :class:`~plaid_async.PlaidResponseError` that is transient for 408, 429 and 5xx.
    """
    secrets = tuple(secrets)
    data = _error_object(body, secrets)
    if data is None:
        kind = "a redirect" if 300 <= status < 400 else "an answer that is not Plaid's error"
        return PlaidResponseError(
            f"HTTP {status}: {kind}: {_readable_excerpt(body, secrets) or '(empty body)'}",
            status=status,
            excerpt=excerpt_of(body, secrets),
            transient=_transient_status(status),
        )
    try:
        error_body = converter.structure(data, PlaidErrorBody)
    except Exception:  # a Plaid-shaped body we still cannot read: keep what we can
        error_body = PlaidErrorBody(
            error_type=_text(data.get("error_type")),
            error_code=_text(data.get("error_code")),
            error_message=_text(data.get("error_message")),
            request_id=_text(data.get("request_id")),
        )
    cls = API_ERROR_CLASSES.get(str(error_body.error_type), PlaidAPIError)
    return cls(error_body, status=status, retry_after=retry_after_seconds(headers))


def excerpt_of(body: bytes, secrets: Iterable[str] = ()) -> str:
    """The start of a body as text, for a message: short, one line, no secret."""
    # Redacted whole, then cut: a secret the cut went through would no longer match.
    text = redact(body.decode("utf-8", errors="replace"), secrets)
    text = " ".join(text[: _EXCERPT_CHARS * 4].split())
    return text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else "")


_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


def _readable_excerpt(body: bytes, secrets: Iterable[str] = ()) -> str:
    """An excerpt for a message: for an HTML page (a gateway's), its title or its text
    without the markup; at most :data:`_EXCERPT_CHARS` characters either way."""
    text = redact(body.decode("utf-8", errors="replace"), secrets)[: _EXCERPT_CHARS * 20]
    if not text.lstrip().startswith("<"):
        return excerpt_of(body, secrets)
    title = _TITLE.search(text)
    text = html.unescape(title[1] if title else _MARKUP.sub(" ", text))
    return excerpt_of(text.encode(), secrets)


def _transient_status(status: int) -> bool:
    """Statuses worth another try when the body is not Plaid's: gateways and rate limits."""
    return status >= 500 or status in (408, 429)


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The ``Retry-After`` header in seconds (delay or HTTP-date form), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _error_object(body: bytes, secrets: tuple[str, ...]) -> dict[str, Any] | None:
    """Plaid's error object from a body, redacted, or None if the body is not one."""
    try:
        text = body.decode("utf-8")
        data = loads(redact(text, secrets))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if type(data) is not dict or not ("error_type" in data or "error_code" in data):
        return None
    return data


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
