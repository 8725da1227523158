"""``--redis-url``: the rate limit of a run shared through Redis by every process of its client.

Two budgets, both in Redis, asked in this order before every attempt:

- the run's own, ``--rate-limit R``: R requests a second for all the processes of the run
  together (every shard), under keys of its own (``plaid-async-refresh:...``), so the refresh
  never takes more than that share. Asked first, so that a request waiting for it holds no
  room in Plaid's budget;
- Plaid's, ``--budgets`` (the preset of the client's environment unless told
  ``production``, ``sandbox`` or ``none``), per client and per Item, under the keys every
  :class:`~plaid_async.RedisRateLimiter` of this ``client_id`` uses by default: the refresh
  shares it with the web app and the webhook consumers on the same Redis.

A Redis that does not answer at the start is a usage error, and nothing is sent: a mistyped URL
must not leave N machines each spending the whole budget. Once the run is going, a Redis that
goes away is the limiter's documented fallback (one WARNING; each process then keeps the same
budgets in memory; every token still gets its line). The URL's password is never shown.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

from attrs import define, field

from plaid_async import Budget, Budgets, RateLimiterUnavailableError

from .output import SetupError

if TYPE_CHECKING:
    from plaid_async import RedisRateLimiter

__all__ = ["BUDGET_PRESETS", "RUN_KEY_PREFIX", "SharedLimit", "hide_password"]

BUDGET_PRESETS = ("production", "sandbox", "none")
RUN_KEY_PREFIX = "plaid-async-refresh"
"""The start of the keys of the run's own budget (``--rate-limit``), apart from Plaid's."""

Preset = Literal["production", "sandbox", "none"]


def _passwords(url: str) -> list[str]:
    """The password of ``url`` (of its user part and of a ``password=`` in its query), as
    written and decoded. Read by hand as well as by urlsplit, so a malformed URL hides it too."""
    authority, _, query = url.partition("://")[2].partition("?")
    userinfo = authority.rpartition("@")[0]  # up to the last "@": even an unencoded "/" in it
    found = [userinfo.partition(":")[2]]
    found += [
        value
        for name, _, value in (p.partition("=") for p in query.split("&"))
        if name == "password"
    ]
    with contextlib.suppress(ValueError):  # urlsplit: an invalid IPv6 address
        found.append(urlsplit(url).password or "")
    return [p for secret in found for p in (secret, unquote(secret)) if p]


def hide_password(text: str, url: str) -> str:
    """``text`` with the password of ``url`` written as ``***``, wherever it appears."""
    for password in sorted(_passwords(url), key=len, reverse=True):
        text = text.replace(password, "***")
    return text


def slower_than(budgets: Budgets, preset: str, endpoint: str, rate_limit: float) -> str | None:
    """A line saying that ``budgets`` hold the run below ``rate_limit``; None if they do not."""
    budget = budgets.per_client.get(endpoint)
    if budget is None or budget.limit / budget.per >= rate_limit:
        return None
    return (
        f"warning: Plaid's {preset} limits allow {budget.limit} requests per {budget.per:g} s "
        f"on {endpoint} ({budget.limit / budget.per:.3g}/s), below --rate-limit "
        f"{rate_limit:g}: the run goes at that pace (--budgets to choose another)"
    )


@define
class SharedLimit:
    """The limiters of a run on Redis; a rate limiter itself, for the batch's ``rate_limit``.

    Use :meth:`build`, then ``async with`` it (closing its connections) and :meth:`check`.
    """

    url: str = field(repr=False)
    description: str
    """What is shared, for the run's first line (the URL without its password)."""
    limiters: list[RedisRateLimiter]
    warning: str | None = None
    """One line for the start of the run when Plaid's budget is below ``--rate-limit``."""

    @classmethod
    def build(
        cls,
        url: str,
        *,
        client_id: str,
        environment: str,
        endpoint: str,
        budgets: Preset | None,
        rate_limit: float | None,
    ) -> SharedLimit:
        """The limiters for ``--redis-url url``; a :class:`SetupError` if they cannot be."""
        preset = budgets or environment
        if preset == "none" and rate_limit is None:
            raise SetupError("--budgets none leaves nothing to share: give --rate-limit R too")
        try:
            from plaid_async import RedisRateLimiter

            limiters = []
            shares = []
            if rate_limit is not None:
                run = Budgets(per_client={endpoint: Budget.rate(rate_limit)})
                limiters.append(
                    RedisRateLimiter(
                        url,
                        client_id=client_id,
                        environment=environment,
                        budgets=run,
                        key_prefix=RUN_KEY_PREFIX,
                    )
                )
                shares.append(f"{rate_limit:g} requests/s for this run's processes together")
            if preset != "none":
                limiters.append(
                    RedisRateLimiter(
                        url,
                        client_id=client_id,
                        environment=environment,
                        budgets=Budgets.for_environment(preset),
                    )
                )
                shares.insert(0, f"Plaid's {preset} limits")
        except (ImportError, ValueError, TypeError) as exc:
            raise SetupError(f"--redis-url: {hide_password(str(exc), url)}") from None
        description = f"{' and '.join(shares)}, shared through {hide_password(url, url)}"
        warning = None
        if preset != "none" and rate_limit is not None:
            warning = slower_than(Budgets.for_environment(preset), preset, endpoint, rate_limit)
        return cls(url, description, limiters, warning)

    async def check(self) -> None:
        """Fail the run before anything is sent if Redis does not answer."""
        try:
            for limiter in self.limiters:
                await limiter.ping()
        except RateLimiterUnavailableError as exc:
            cause = exc.__cause__
            reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
            raise SetupError(
                hide_password(
                    f"--redis-url {self.url}: cannot use Redis ({reason}); nothing was sent",
                    self.url,
                )
            ) from None

    async def acquire(self, path: str, item_key: str) -> None:
        for limiter in self.limiters:
            await limiter.acquire(path, item_key)

    async def aclose(self) -> None:
        for limiter in self.limiters:
            await limiter.aclose()

    async def __aenter__(self) -> SharedLimit:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
