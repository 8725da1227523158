"""Everything a failed call raises: the exception classes, and nothing else.

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
    ├── PlaidInputError             a batch's token that could not be sent (nothing sent)
    ├── PlaidConnectionError        no HTTP answer: refused, reset, DNS, TLS
    └── PlaidResponseError          an answer that is not what Plaid sends

An unknown ``error_type`` gives a plain :class:`PlaidAPIError`. No message contains the secret or
an access token: server text is redacted before it is kept. Which answer means which error is
decided in one place, :func:`plaid_async.protocol.decode_response`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    "PlaidInputError",
    "PlaidResponseError",
    "PlaidTimeoutError",
    "RateLimitExceededError",
    "RateLimitWaitTimeout",
    "RateLimiterUnavailableError",
]


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


API_ERROR_CLASSES: Mapping[str, type[PlaidAPIError]] = {
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


class PlaidInputError(PlaidError):
    """A token in a batch's input that could not be sent (not a string, empty, whitespace).

    The single-call methods raise ``ValueError``/``TypeError`` for these; a batch turns them
    into this error on the token's own result, so the run goes on. The original is
    ``__cause__``.
    """


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


def __getattr__(name: str) -> Any:
    """``error_from_response`` and ``retry_after_seconds`` moved to :mod:`plaid_async.protocol`
    (where answers are read); the old names still work."""
    if name in ("error_from_response", "retry_after_seconds"):
        from . import protocol

        return getattr(protocol, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
