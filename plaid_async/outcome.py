"""What a consumer does with a message after a call: done, retry later, or dead-letter.

One pure decision, broker-independent, so that a Redis Streams, Kafka or SQS consumer applies
the same rules (see ``docs/event-consumer.md``):

- **done**: the call succeeded, or failed for good: an Item that needs its user
  (``ITEM_LOGIN_REQUIRED``), an invalid token, a schema mismatch. Trying again in seconds gives
  the same answer; the result is final, hand it to the application and acknowledge.
- **retry later**: a failure the client's :class:`~plaid_async.RetryPolicy` counts as transient
  (no answer, a timeout, 5xx, 429, ``PRODUCT_NOT_READY``) and outlived the call's own retries;
  an institution outage (``INSTITUTION_DOWN``, ``INSTITUTION_NOT_RESPONDING``, which a call
  does not retry because it lasts hours, and a re-run of a refresh does); the rate limiter
  out of budget or unreachable (nothing was sent); or the application's own code raised
  (``token_for``, the handler). Leave the message unacknowledged and deliver it
  again after :meth:`DeliveryPolicy.backoff`.
- **dead-letter**: a message that cannot be a job (bad fields), or one delivered
  ``max_deliveries`` times without a final outcome.

Cancellation is never an outcome: a consumer that is cancelled leaves its message for another.
"""

from __future__ import annotations

import enum
import random

from attrs import field, frozen

from ._checks import check_positive_int, check_seconds, validator
from .errors import PlaidAPIError, PlaidError, RateLimiterUnavailableError, RateLimitWaitTimeout
from .policy import RetryPolicy, is_institution_outage

__all__ = [
    "Action",
    "ApplicationError",
    "Decision",
    "DeliveryPolicy",
    "decide",
    "describe_error",
    "is_retried_later",
]

_REASON_CHARS = 300


class ApplicationError(Exception):
    """The application's own code failed for a job (its token lookup, its handler); the
    message names the step and the exception. Retried later, dead-lettered at the limit."""

    def __init__(self, step: str, exc: BaseException) -> None:
        super().__init__(f"{step} raised {type(exc).__name__}: {exc}")
        self.step = step


class Action(str, enum.Enum):
    """What to do with the message."""

    DONE = "done"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


@frozen
class DeliveryPolicy:
    """How often a message is delivered before it is dead-lettered, and the wait between.

    ``max_deliveries=5``: the first delivery and four more. ``backoff_initial=2.0`` and
    ``backoff_max=60.0``: the n-th wait is drawn between half and all of
    ``min(backoff_max, backoff_initial * 2**(n-1))``, in the broker's time rather than the
    call's: a transient failure that outlived a call's retries (seconds) rarely clears in the
    next second, so the wait never drops near zero as full jitter's can. Keep ``backoff_max``
    under the time after which another consumer may take the message over (the Redis
    consumer's ``claim_idle``), so that the consumer that failed it is the one to try again.
    """

    max_deliveries: int = field(default=5, validator=validator(check_positive_int))
    backoff_initial: float = field(default=2.0, validator=validator(check_seconds))
    backoff_max: float = field(default=60.0, validator=validator(check_seconds))

    def __attrs_post_init__(self) -> None:
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max must not be less than backoff_initial")

    def backoff(self, deliveries: int) -> float:
        """Seconds to wait before the next delivery, after the ``deliveries``-th failed."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** min(deliveries - 1, 64))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


@frozen
class Decision:
    """The action, and a short reason fit for a log line or a dead letter (no token in it).

    ``retry_in`` is the backoff for ``Action.RETRY``, else None.
    """

    action: Action
    reason: str
    retry_in: float | None = None


def describe_error(error: BaseException, *, hide: tuple[str, ...] = ()) -> str:
    """One safe line about ``error``: Plaid's type and code, or the exception's class and
    message, with each string of ``hide`` (the access token) cut out and the length capped.

    The client's own errors never hold the token; an exception from application code might.
    """
    if isinstance(error, PlaidAPIError):
        text = f"{error.error_type}/{error.error_code} (HTTP {error.status})"
    elif isinstance(error, ApplicationError):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    for secret in hide:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = " ".join(text.split())
    return text[:_REASON_CHARS]


def is_retried_later(error: BaseException, retry: RetryPolicy) -> bool:
    """Whether a message whose call ended with ``error`` is worth delivering again later.

    Which Plaid failures are transient is the client's own rule, ``RetryPolicy.should_retry``
    (this is the one place that asks it); an institution outage, which a call does not retry
    because it lasts hours, is worth a later delivery too, as it is worth a re-run of
    ``plaid-async refresh``."""
    if isinstance(error, RateLimitWaitTimeout | RateLimiterUnavailableError):
        return True  # nothing was sent: the budget was full or out of reach
    if isinstance(error, PlaidError):
        return retry.should_retry(error) or is_institution_outage(error)
    return True  # application code failed (token_for, the handler): maybe a passing fault


def decide(
    error: BaseException | None,
    *,
    deliveries: int,
    policy: DeliveryPolicy | None = None,
    retry: RetryPolicy | None = None,
    bad_message: str | None = None,
    hide: tuple[str, ...] = (),
) -> Decision:
    """What to do with a message delivered ``deliveries`` times (1 the first time), whose
    processing ended with ``error`` (None for success).

    :param policy: the :class:`DeliveryPolicy`; the defaults if None.
    :param retry: the client's :class:`~plaid_async.RetryPolicy`, whose ``should_retry`` says
        which Plaid failures are transient (``retry_timeouts=False`` makes a timeout final).
    :param bad_message: why the message cannot be a job, if it cannot: dead-lettered at once.
    :param hide: strings to cut out of the reason (the access token).
    """
    policy = policy or DeliveryPolicy()
    retry = retry or RetryPolicy()
    if bad_message is not None:
        return Decision(Action.DEAD_LETTER, f"bad message: {bad_message}"[:_REASON_CHARS])
    if error is None:
        return Decision(Action.DONE, "ok")
    described = describe_error(error, hide=hide)
    if not is_retried_later(error, retry):
        return Decision(Action.DONE, f"failed for good: {described}")
    if deliveries >= policy.max_deliveries:
        return Decision(
            Action.DEAD_LETTER,
            f"delivered {deliveries} times, the limit: last error {described}"[:_REASON_CHARS],
        )
    return Decision(Action.RETRY, f"will retry: {described}", policy.backoff(deliveries))
