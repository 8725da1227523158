"""Everything a failed call raises, and the pure function that turns an answer into one.

::

    PlaidError                      base of everything a failed call raises
    ├── PlaidAPIError               Plaid answered with its error object
    │   ├── InvalidRequestError     INVALID_REQUEST: the request was malformed
    │   ├── InvalidInputError       INVALID_INPUT: bad keys, token or account id
    │   ├── InvalidResultError      INVALID_RESULT: e.g. no balance recent enough
    │   ├── ItemError               ITEM_ERROR: the Item needs the user (or is not ready)
    │   ├── InstitutionError        INSTITUTION_ERROR: the bank is down or unsupported
    │   ├── RateLimitExceededError  RATE_LIMIT_EXCEEDED: a Plaid or bank rate limit
    │   ├── APIError                API_ERROR: Plaid's own failure (5xx)
    │   └── OAuthError              OAUTH_ERROR
    ├── PlaidTimeoutError           the last attempt timed out, or the deadline passed
    │   └── RateLimitWaitTimeout    ... while waiting for rate-limit budget (nothing sent)
    ├── RateLimiterUnavailableError the shared limiter (Redis) is down, failing closed
    ├── PlaidConnectionError        no HTTP answer: refused, reset, DNS, TLS
    └── PlaidResponseError          an answer that is not what Plaid sends

An unknown ``error_type`` gives a plain :class:`PlaidAPIError`. No message contains the secret or
an access token: server text is redacted before it is kept.
"""

from __future__ import annotations

import email.utils
import html
import math
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ._convert import converter, loads
from ._redact import redact
from .models import PlaidErrorBody

__all__ = [
    "APIError",
    "InstitutionError",
    "InvalidInputError",
    "InvalidRequestError",
    "InvalidResultError",
    "ItemError",
    "OAuthError",
    "PlaidAPIError",
    "PlaidConnectionError",
    "PlaidError",
    "PlaidResponseError",
    "PlaidTimeoutError",
    "RateLimitExceededError",
    "RateLimitWaitTimeout",
    "RateLimiterUnavailableError",
    "error_from_response",
    "retry_after_seconds",
]

_EXCERPT_CHARS = 200


class PlaidError(Exception):
    """Base of everything the client raises on a failed call."""


class PlaidAPIError(PlaidError):
    """Plaid answered with its error object; every field of it is an attribute.

    ``status`` is the HTTP status as an ``int`` (never ``http.HTTPStatus``, which cannot hold
    Plaid's or a gateway's odd codes). ``retry_after`` is the server's ``Retry-After`` in
    seconds, if it sent one (Plaid does not, today).
    """

    def __init__(
        self, body: PlaidErrorBody, *, status: int, retry_after: float | None = None
    ) -> None:
        self.body = body
        self.status = status
        self.retry_after = retry_after
        self.error_type = body.error_type
        self.error_code = body.error_code
        self.error_message = body.error_message
        self.display_message = body.display_message
        self.request_id = body.request_id
        self.documentation_url = body.documentation_url
        self.suggested_action = body.suggested_action
        self.causes = body.causes
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.error_type} {self.error_code}"
        if self.error_message:
            text += f": {self.error_message}"
        return f"{text} (HTTP {self.status}, request_id={self.request_id})"

    def __reduce__(self) -> Any:
        return (_rebuild_api_error, (type(self), self.body, self.status, self.retry_after))


def _rebuild_api_error(
    cls: type[PlaidAPIError], body: PlaidErrorBody, status: int, retry_after: float | None
) -> PlaidAPIError:
    return cls(body, status=status, retry_after=retry_after)


class InvalidRequestError(PlaidAPIError):
    """``INVALID_REQUEST``: missing, unknown or invalid fields, or a bad body or headers."""


class InvalidInputError(PlaidAPIError):
    """``INVALID_INPUT``: wrong API keys, a bad or wrong-environment access token, an unknown
    account id."""


class InvalidResultError(PlaidAPIError):
    """``INVALID_RESULT``: for example no balance recent enough for
    ``min_last_updated_datetime``."""


class ItemError(PlaidAPIError):
    """``ITEM_ERROR``: most need the user (``ITEM_LOGIN_REQUIRED`` means Link's update mode);
    ``PRODUCT_NOT_READY`` clears by itself and is retried."""


class InstitutionError(PlaidAPIError):
    """``INSTITUTION_ERROR``: the bank is down, not responding or unsupported. Plaid advises
    retrying in hours, not seconds, so these are never retried."""


class RateLimitExceededError(PlaidAPIError):
    """``RATE_LIMIT_EXCEEDED``: a per-client, per-Item or per-institution limit (HTTP 429)."""


class APIError(PlaidAPIError):
    """``API_ERROR``: a failure inside Plaid (``INTERNAL_SERVER_ERROR``,
    ``PLANNED_MAINTENANCE``)."""


class OAuthError(PlaidAPIError):
    """``OAUTH_ERROR``: the institution's OAuth consent is invalid."""


_API_ERROR_CLASSES: Mapping[str, type[PlaidAPIError]] = {
    "INVALID_REQUEST": InvalidRequestError,
    "INVALID_INPUT": InvalidInputError,
    "INVALID_RESULT": InvalidResultError,
    "ITEM_ERROR": ItemError,
    "INSTITUTION_ERROR": InstitutionError,
    "RATE_LIMIT_EXCEEDED": RateLimitExceededError,
    "API_ERROR": APIError,
    "OAUTH_ERROR": OAuthError,
}


class PlaidTimeoutError(PlaidError):
    """The last attempt timed out, or the call's deadline passed.

    ``timeout`` is the limit that applied, in seconds.
    """

    def __init__(self, message: str, *, timeout: float | None = None) -> None:
        super().__init__(message)
        self.timeout = timeout

    def __reduce__(self) -> Any:
        return (_rebuild_timeout, (type(self), str(self), self.timeout))


def _rebuild_timeout(
    cls: type[PlaidTimeoutError], message: str, timeout: float | None
) -> PlaidTimeoutError:
    return cls(message, timeout=timeout)


class RateLimitWaitTimeout(PlaidTimeoutError):
    """The deadline passed while the call waited for rate-limit budget: nothing was sent."""


class RateLimiterUnavailableError(PlaidError):
    """The shared rate limiter (Redis) could not be reached and the limiter fails closed:
    nothing was sent. The cause is ``__cause__``."""


class PlaidConnectionError(PlaidError):
    """No HTTP answer: refused, reset, DNS, TLS. The cause is ``__cause__``.

    ``transient`` is False when trying again cannot help: a TLS certificate that does not
    verify.
    """

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient

    def __reduce__(self) -> Any:
        return (_rebuild_connection_error, (str(self), self.transient))


def _rebuild_connection_error(message: str, transient: bool) -> PlaidConnectionError:
    return PlaidConnectionError(message, transient=transient)


class PlaidResponseError(PlaidError):
    """An answer that is not what Plaid sends.

    HTML from a gateway, an empty, truncated or invalid JSON body, a body over the size cap, a
    redirect, or a 2xx body that does not fit the schema. ``status`` is the HTTP status and
    ``excerpt`` the start of the body, redacted. ``transient`` says whether trying again can
    help: a gateway's 5xx or a cut-short 2xx can, a schema mismatch cannot.
    """

    def __init__(self, message: str, *, status: int, excerpt: str = "", transient: bool) -> None:
        super().__init__(message)
        self.status = status
        self.excerpt = excerpt
        self.transient = transient

    def __reduce__(self) -> Any:
        return (_rebuild_response_error, (str(self), self.status, self.excerpt, self.transient))


def _rebuild_response_error(
    message: str, status: int, excerpt: str, transient: bool
) -> PlaidResponseError:
    return PlaidResponseError(message, status=status, excerpt=excerpt, transient=transient)


# --------------------------------------------------------------------------------------------
# Classification: pure functions of (status, headers, body)
# --------------------------------------------------------------------------------------------


def excerpt_of(body: bytes, secrets: Iterable[str] = ()) -> str:
    """The start of a body as text, for a message: short, one line, no secret."""
    text = body[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    text = redact(text, secrets)
    text = " ".join(text.split())
    return text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else "")


_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


def _readable_excerpt(body: bytes, secrets: Iterable[str] = ()) -> str:
    """An excerpt for a message: for an HTML page (a gateway's), its title or its text
    without the markup; at most :data:`_EXCERPT_CHARS` characters either way."""
    text = body[: _EXCERPT_CHARS * 20].decode("utf-8", errors="replace")
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


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str] = ()
) -> PlaidError:
    """The exception for a failed answer (any status outside 2xx).

    A body with Plaid's error object gives the :class:`PlaidAPIError` subclass of its
    ``error_type``; anything else (an HTML gateway page, an empty or broken body) gives a
    :class:`PlaidResponseError` that is transient for 408, 429 and 5xx.
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
    cls = _API_ERROR_CLASSES.get(str(error_body.error_type), PlaidAPIError)
    return cls(error_body, status=status, retry_after=retry_after_seconds(headers))


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
