"""One rule for bad arguments, held for every public constructor, method and setter.

A wrong type is a ``TypeError``, a wrong value (NaN, an infinity, a negative, zero where it is
not allowed, out of range, empty) a ``ValueError``; ``bool`` is not a number; the message starts
with the argument's name; and it is raised at the call, before anything is sent or started.

:data:`TABLE` is every bad call, one row each: what is called, its arguments, the exception,
and the name the message must start with. A method of an object is written ``CLIENT.method``
(``EMULATOR``, ...): the test makes the objects afresh for each row.

To cover a new public callable, add its rows; the sweeps make one row per kind of bad value::

    bad(Thing, TypeError, "sink", 5),              # Thing(sink=5) is a TypeError naming sink
    *seconds(Thing, "flush_interval", zero=True),  # "5", True, NaN, +-inf, -1, None ...
    *count(Thing, "max_items"),                    # "5", 2.0, True, 0, -1, None ...
    *probability(Thing, "sample_rate"),
    *text(Thing, "name"),                          # None, 5, b"x", "", "  "

For a method, give :class:`Subjects` an instance (``thing: Thing``) and write
``On("thing").method``; for a constructor, add its class to
:func:`test_the_table_has_a_row_for_every_argument_of_the_named_classes`.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import math
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from plaid_async import (
    AccountsBalanceGetRequestOptions,
    AccountsGetRequest,
    AccountsGetRequestOptions,
    BatchSummary,
    Budget,
    Budgets,
    LocalRateLimiter,
    PlaidClient,
    RedisRateLimiter,
    RetryPolicy,
)
from plaid_async.batch import run_many
from plaid_async.events import observe
from plaid_async.otel import OpenTelemetryObserver, instrument
from plaid_async.outcome import DeliveryPolicy
from plaid_async.sandbox import (
    FAULT_KINDS,
    Faults,
    RateLimits,
    SandboxServer,
    error_token,
    sandbox_token,
)
from plaid_async.sandbox.ratelimits import RateLimitCounter
from plaid_async.shard import digest_in_shard, in_shard, parse_shard
from plaid_async.streams import StreamConsumer
from plaid_async.testing import MockTransport, Request
from plaid_async.transport import AiohttpTransport

NAN, INF = math.nan, math.inf
TOKEN = "access-sandbox-00000000-0000-4000-a000-000000000000"
GET = "/accounts/get"
NAIVE = dt.datetime(2024, 1, 1)  # the bad value under test: no time zone
DIGEST = bytes(32)

# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """``subject.name``, looked up on the objects the test makes for each row."""

    subject: str
    name: str

    def __str__(self) -> str:
        return f"{self.subject}.{self.name}"


class On:
    """``On("client").accounts_get`` is the :class:`Method` ``client.accounts_get``."""

    def __init__(self, subject: str) -> None:
        self.subject = subject

    def __getattr__(self, name: str) -> Method:
        return Method(self.subject, name)


CLIENT = On("client")  # a PlaidClient on a MockTransport that records what it is sent
EMULATOR = On("emulator")  # a running SandboxServer
POLICY, BUDGET, BUDGETS, SUMMARY, FAULTS, REDIS = map(
    On, ("policy", "budget", "budgets", "summary", "faults", "redis")
)


@dataclass(frozen=True)
class Row:
    """One bad call: ``call(*args, **kwargs)`` raises ``error``, its message starting ``name``."""

    call: Callable[..., object] | Method
    kwargs: Mapping[str, object]
    error: type[Exception]
    name: str
    args: tuple[object, ...] = field(default=())

    def __str__(self) -> str:
        call = self.call
        while isinstance(call, functools.partial):
            call = call.func
        where = str(call) if isinstance(call, Method) else call.__qualname__
        given = [_show(a) for a in self.args] + [f"{k}={_show(v)}" for k, v in self.kwargs.items()]
        return f"{where}({', '.join(given)})"[:90]


def _show(value: object) -> str:
    """A value as a test id shows it: its repr if that is stable, else its type."""
    if isinstance(value, int | float | complex | str | bytes | list | dict | tuple | type(None)):
        return repr(value)
    return type(value).__name__


def bad(
    call: Callable[..., object] | Method,
    error: type[Exception],
    name: str,
    value: object,
    /,
    **fixed: object,
) -> Row:
    """``call(**fixed, name=value)`` raises ``error`` naming ``name``."""
    return Row(call, {**fixed, name: value}, error, name)


def sweep(
    call: Callable[..., object] | Method,
    name: str,
    /,
    values: Iterable[tuple[object, type[Exception]]],
    *,
    wrap: Callable[[object], object] = lambda value: value,
    **fixed: object,
) -> list[Row]:
    return [bad(call, error, name, wrap(value), **fixed) for value, error in values]


WRONG_NUMBER_TYPES = [("5", TypeError), (True, TypeError), ([1], TypeError)]
NOT_FINITE = [(NAN, ValueError), (INF, ValueError), (-INF, ValueError)]


def seconds(
    call: Callable[..., object] | Method,
    name: str,
    /,
    *,
    zero: bool = False,
    none: bool = False,
    **options: Any,
) -> list[Row]:
    """A number of seconds: positive and finite (also 0 if ``zero``, None if ``none``)."""
    values = [*WRONG_NUMBER_TYPES, *NOT_FINITE, (-1, ValueError), (-0.5, ValueError)]
    if not zero:
        values.append((0, ValueError))
    if not none:
        values.append((None, TypeError))
    return sweep(call, name, values, **options)


positive = seconds  # a rate, a factor: the same values are wrong


def probability(call: Callable[..., object] | Method, name: str, /, **options: Any) -> list[Row]:
    values = [*WRONG_NUMBER_TYPES, *NOT_FINITE, (-0.1, ValueError), (1.5, ValueError)]
    return sweep(call, name, values, **options)


def count(
    call: Callable[..., object] | Method, name: str, /, *, none: bool = False, **options: Any
) -> list[Row]:
    """An int of at least 1 (or None if ``none``)."""
    values = [*WRONG_NUMBER_TYPES, (2.0, TypeError), (NAN, TypeError), (0, ValueError)]
    values.append((-1, ValueError))
    if not none:
        values.append((None, TypeError))
    return sweep(call, name, values, **options)


def text(call: Callable[..., object] | Method, name: str, /, **options: Any) -> list[Row]:
    """A non-empty str."""
    values = [(None, TypeError), (5, TypeError), (b"x", TypeError), ("", ValueError)]
    return sweep(call, name, [*values, ("  ", ValueError)], **options)


def _answer(request: Request) -> tuple[int, dict[str, str], object]:
    return 200, {}, {"accounts": [], "item": None, "request_id": "r"}


def unverified_context() -> ssl.SSLContext:
    return ssl._create_unverified_context()  # noqa: S323 - the bad value under test


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

NEW_CLIENT = functools.partial(PlaidClient, "client-id", "secret")
REDIS_AT = functools.partial(RedisRateLimiter, "redis://127.0.0.1:1/0")  # never connected
BATCHES = (CLIENT.accounts_get_many, CLIENT.accounts_balance_get_many)
CALLS = (CLIENT.accounts_get, CLIENT.accounts_balance_get)
WHEN = "min_last_updated_datetime"
BAD_WHEN = [(NAIVE, ValueError), ("2024-01-01", TypeError), (dt.date(2024, 1, 1), TypeError)]


async def _token_for(item: str) -> str:
    return "access-sandbox-token"


async def _handle(job: object, result: object) -> None:
    pass


CONSUMER = functools.partial(
    StreamConsumer,
    redis="redis://127.0.0.1:1/0",
    stream="jobs",
    client=PlaidClient("client-id", "secret", transport=MockTransport(_answer)),
    token_for=_token_for,
    handler=_handle,
)
"""A consumer never started: its arguments are checked as it is made."""


TABLE: list[Row] = [
    # -- PlaidClient ---------------------------------------------------------------------------
    *text(PlaidClient, "client_id", secret="secret"),
    *text(PlaidClient, "secret", client_id="client-id"),
    *text(NEW_CLIENT, "plaid_version"),
    bad(NEW_CLIENT, TypeError, "environment", 5),
    bad(NEW_CLIENT, TypeError, "environment", None),
    bad(NEW_CLIENT, ValueError, "environment", ""),
    bad(NEW_CLIENT, ValueError, "environment", "staging"),
    bad(NEW_CLIENT, ValueError, "environment", "development"),
    bad(NEW_CLIENT, TypeError, "base_url", 5),
    bad(NEW_CLIENT, ValueError, "base_url", "ftp://127.0.0.1"),
    bad(NEW_CLIENT, ValueError, "base_url", "http://api.example.com"),
    bad(NEW_CLIENT, TypeError, "retry", {"max_attempts": 2}),
    bad(NEW_CLIENT, TypeError, "timeouts", [(GET, 5)]),
    bad(NEW_CLIENT, TypeError, "timeouts", {5: 5}),
    bad(NEW_CLIENT, ValueError, "timeouts", {"/accounts/gett": 5}),
    *seconds(NEW_CLIENT, "timeouts", wrap=lambda value: {GET: value}),
    *count(NEW_CLIENT, "max_connections"),
    *count(NEW_CLIENT, "max_response_bytes"),
    *seconds(NEW_CLIENT, "connect_timeout"),
    bad(NEW_CLIENT, TypeError, "session", "session"),
    bad(NEW_CLIENT, TypeError, "ssl", False),
    bad(NEW_CLIENT, TypeError, "ssl", "/etc/ssl/ca.pem"),
    bad(NEW_CLIENT, ValueError, "ssl", unverified_context()),
    *positive(NEW_CLIENT, "rate_limiter", none=True),
    bad(NEW_CLIENT, TypeError, "transport", "transport"),
    bad(NEW_CLIENT, TypeError, "observers", print),
    bad(NEW_CLIENT, TypeError, "observers", "print"),
    bad(NEW_CLIENT, TypeError, "observers", [print, 5]),
    bad(CLIENT.add_observer, TypeError, "observer", None),
    bad(CLIENT.remove_observer, ValueError, "observer", print),
    bad(OpenTelemetryObserver, TypeError, "tracer_provider", "global"),
    bad(OpenTelemetryObserver, TypeError, "meter_provider", 5),
    bad(instrument, TypeError, "client", "client"),
    bad(observe, TypeError, "observer", 5),
    bad(NEW_CLIENT, TypeError, "max_connections", 5, transport=MockTransport(_answer)),
    # -- its calls: nothing is sent ------------------------------------------------------------
    *[
        row
        for method in CALLS
        for row in [
            *text(method, "access_token"),
            bad(method, ValueError, "access_token", "access-sandbox a"),
            bad(method, TypeError, "account_ids", "acc-1", access_token=TOKEN),
            bad(method, TypeError, "account_ids", 5, access_token=TOKEN),
            bad(method, ValueError, "account_ids", [], access_token=TOKEN),
            bad(method, TypeError, "account_ids", ["acc-1", 1], access_token=TOKEN),
            bad(method, ValueError, "account_ids", ["acc-1", ""], access_token=TOKEN),
            *seconds(method, "timeout", none=True, access_token=TOKEN),
        ]
    ],
    *sweep(CLIENT.accounts_balance_get, WHEN, BAD_WHEN, access_token=TOKEN),
    # -- its batches: raised at the call, before iteration starts, and nothing is sent ---------
    *[
        row
        for method in BATCHES
        for row in [
            bad(method, TypeError, "tokens", TOKEN),
            bad(method, TypeError, "tokens", 5),
            *count(method, "concurrency", tokens=[TOKEN]),
            *positive(method, "rate_limit", none=True, tokens=[TOKEN]),
            bad(method, TypeError, "rate_limit", 5j, tokens=[TOKEN]),
            *seconds(method, "timeout", none=True, tokens=[TOKEN]),
            bad(method, TypeError, "on_progress", 5, tokens=[TOKEN]),
        ]
    ],
    *sweep(CLIENT.accounts_balance_get_many, WHEN, BAD_WHEN, tokens=[TOKEN]),
    # -- the batch runner and its summary ------------------------------------------------------
    bad(run_many, TypeError, "call", "print", tokens=[TOKEN], concurrency=1),
    bad(run_many, TypeError, "tokens", TOKEN, call=print, concurrency=1),
    *count(run_many, "concurrency", call=print, tokens=[TOKEN]),
    bad(run_many, TypeError, "on_progress", "print", call=print, tokens=[TOKEN], concurrency=1),
    bad(SUMMARY.add, TypeError, "result", {"ok": True}),
    *probability(SUMMARY.latency, "quantile"),
    bad(BatchSummary.of, TypeError, "results", 5),
    # -- RetryPolicy ---------------------------------------------------------------------------
    *count(RetryPolicy, "max_attempts"),
    *seconds(RetryPolicy, "wait_initial", zero=True),
    *seconds(RetryPolicy, "wait_max", zero=True),
    *seconds(RetryPolicy, "deadline", none=True),
    bad(RetryPolicy, TypeError, "retry_timeouts", 1),
    bad(RetryPolicy, TypeError, "retry_timeouts", "no"),
    bad(RetryPolicy, ValueError, "wait_max", 1, wait_initial=2),
    *count(POLICY.backoff, "attempt"),
    # -- rate limiters and budgets -------------------------------------------------------------
    *positive(LocalRateLimiter, "rate"),
    Row(LocalRateLimiter, {}, TypeError, "rate or budgets"),
    bad(LocalRateLimiter, TypeError, "budgets", {GET: Budget(1, 1)}),
    bad(LocalRateLimiter, TypeError, "clock", 5, rate=1),
    bad(RedisRateLimiter, TypeError, "redis", 5, client_id="client-id"),
    bad(RedisRateLimiter, ValueError, "redis", "http://127.0.0.1:6379", client_id="client-id"),
    *text(REDIS_AT, "client_id"),
    *[
        bad(
            REDIS_AT,
            error,
            name,
            value,
            client_id="c",
        )
        for name, value, error in [
            ("environment", 5, TypeError),
            ("environment", "staging", ValueError),
            ("budgets", {GET: Budget(1, 1)}, TypeError),
            ("fallback", "remote", TypeError),
            ("key_prefix", 5, TypeError),
        ]
    ],
    *seconds(REDIS_AT, "timeout", client_id="c"),
    *seconds(REDIS_AT, "recheck", zero=True, client_id="c"),
    bad(REDIS.key, TypeError, "scope", 5),
    *count(Budget, "limit", per=1),
    *seconds(Budget, "per", limit=1),
    *seconds(Budget, "margin", zero=True, none=True, limit=1, per=1),
    *positive(Budget.rate, "requests_per_second"),
    *positive(BUDGET.scaled, "factor"),
    *[
        row
        for name in ("per_client", "per_item")
        for row in [
            bad(Budgets, TypeError, name, [(GET, Budget(1, 1))]),
            bad(Budgets, TypeError, name, {5: Budget(1, 1)}),
            bad(Budgets, ValueError, name, {"accounts/get": Budget(1, 1)}),
            bad(Budgets, TypeError, name, {GET: 5}),
        ]
    ],
    bad(Budgets.for_environment, TypeError, "environment", 5),
    bad(Budgets.for_environment, ValueError, "environment", "development"),
    *positive(BUDGETS.scaled, "factor"),
    # -- transports ----------------------------------------------------------------------------
    bad(MockTransport, TypeError, "handler", 5),
    *count(AiohttpTransport, "max_connections"),
    *count(AiohttpTransport, "max_response_bytes"),
    *seconds(AiohttpTransport, "connect_timeout"),
    bad(AiohttpTransport, TypeError, "session", "session"),
    bad(AiohttpTransport, TypeError, "ssl_context", True),
    bad(AiohttpTransport, ValueError, "ssl_context", unverified_context()),
    # -- request models ------------------------------------------------------------------------
    *text(AccountsGetRequest, "access_token"),
    bad(AccountsGetRequest, ValueError, "client_id", "", access_token=TOKEN),
    bad(AccountsGetRequest, TypeError, "secret", 5, access_token=TOKEN),
    bad(AccountsGetRequestOptions, TypeError, "account_ids", "acc-1"),
    bad(AccountsBalanceGetRequestOptions, ValueError, "min_last_updated_datetime", NAIVE),
    # -- shards --------------------------------------------------------------------------------
    bad(parse_shard, TypeError, "text", 1),
    *[
        row
        for split in (
            functools.partial(in_shard, TOKEN),
            functools.partial(digest_in_shard, DIGEST),
        )
        for row in [
            bad(split, TypeError, "shard", "1", shards=2),
            bad(split, TypeError, "shard", True, shards=2),
            bad(split, TypeError, "shards", 2.0, shard=1),
            bad(split, ValueError, "shards", 0, shard=1),
            bad(split, ValueError, "shard", 3, shards=2),
            bad(split, ValueError, "shard", 0, shards=2),
        ]
    ],
    # -- the emulator: refused at construction ---------------------------------------------------
    bad(SandboxServer, TypeError, "host", 5),
    bad(SandboxServer, ValueError, "host", ""),
    *sweep(
        SandboxServer,
        "port",
        [
            ("80", TypeError),
            (True, TypeError),
            (80.0, TypeError),
            (-1, ValueError),
            (65536, ValueError),
        ],
    ),
    *text(SandboxServer, "client_id"),
    *text(SandboxServer, "secret"),
    bad(SandboxServer, TypeError, "faults", {"rate_500": 1.0}),
    bad(SandboxServer, TypeError, "faults", "none"),
    *sweep(SandboxServer, "seed", [("7", TypeError), (True, TypeError), (7.5, TypeError)]),
    bad(SandboxServer, TypeError, "rate_limits", {"balance_per_item": 1}),
    bad(SandboxServer, TypeError, "rate_limits", "sandbox"),
    *[row for kind in FAULT_KINDS for row in probability(Faults, f"rate_{kind}")],
    bad(Faults, ValueError, "rate_500", 0.6, rate_reset=0.6),
    *sweep(
        Faults,
        "latency",
        [("slow", ValueError), (True, TypeError), (None, TypeError), *NOT_FINITE, (-1, ValueError)],
    ),
    *seconds(Faults, "latency_scale", zero=True),
    *seconds(Faults, "drip_interval", zero=True),
    bad(Faults, TypeError, "code_429", 5),
    bad(Faults, ValueError, "code_429", "ITEM_LOCKED"),
    bad(FAULTS.rate, TypeError, "kind", 500),
    bad(FAULTS.rate, ValueError, "kind", "boom"),
    *[
        row
        for name in (
            "accounts_get_per_item",
            "accounts_get_per_client",
            "balance_per_item",
            "balance_per_client",
        )
        for row in count(RateLimits, name, none=True)
    ],
    *seconds(RateLimits, "window"),
    bad(RateLimits.parse, TypeError, "spec", 5),
    Row(RateLimits.parse, {"spec": "window=0"}, ValueError, "window"),
    Row(RateLimits.parse, {"spec": "balance_per_item=0"}, ValueError, "balance_per_item"),
    bad(RateLimitCounter, TypeError, "limits", {"window": 1}),
    bad(RateLimitCounter, TypeError, "clock", 1.0, limits=RateLimits()),
    *sweep(sandbox_token, "n", [(1.5, TypeError), (True, TypeError), (None, TypeError)]),
    *sweep(error_token, "code", [(5, TypeError), ("item locked", ValueError), ("", ValueError)]),
    bad(error_token, TypeError, "n", 1.5, code="ITEM_LOCKED"),
    # -- the emulator's methods and setters: refused, and the server goes on answering ----------
    bad(EMULATOR.set_faults, TypeError, "faults", {"rate_500": 1.0}),
    bad(EMULATOR.set_faults, TypeError, "faults", None),
    bad(EMULATOR.update_faults, TypeError, "rate_50", 1.0),
    bad(EMULATOR.update_faults, ValueError, "rate_500", 0.7, rate_reset=0.7),
    *probability(EMULATOR.update_faults, "rate_500"),
    *sweep(
        EMULATOR.update_faults,
        "latency",
        [("slow", ValueError), (True, TypeError), *NOT_FINITE, (-1, ValueError)],
    ),
    *seconds(EMULATOR.update_faults, "latency_scale", zero=True),
    *seconds(EMULATOR.update_faults, "drip_interval", zero=True),
    bad(EMULATOR.update_faults, ValueError, "code_429", "ITEM_LOCKED"),
    Row(EMULATOR.enqueue, {}, ValueError, "outcomes", args=("ok", "boom")),
    Row(EMULATOR.enqueue, {}, TypeError, "outcomes", args=(500,)),
    bad(EMULATOR.set_rate_limits, TypeError, "rate_limits", {"balance_per_item": 1}),
    bad(EMULATOR.set_rate_limits, TypeError, "rate_limits", "production"),
    *text(EMULATOR.set_item_error, "access_token", code="ITEM_LOGIN_REQUIRED"),
    bad(EMULATOR.set_item_error, TypeError, "code", 5, access_token=TOKEN),
    bad(EMULATOR.set_item_error, ValueError, "code", "INVALID_API_KEYS", access_token=TOKEN),
    *text(EMULATOR.clear_item_error, "access_token"),
    *text(EMULATOR.item, "access_token"),
    bad(EMULATOR.token, TypeError, "n", 1.5),
    bad(EMULATOR.error_token, ValueError, "code", "item locked"),
    bad(EMULATOR.client, TypeError, "timeouts", 5),
    bad(EMULATOR.client, ValueError, "connect_timeout", INF),
    # The event consumer (plaid_async.outcome, plaid_async.streams)
    *count(DeliveryPolicy, "max_deliveries"),
    *seconds(DeliveryPolicy, "backoff_initial", backoff_max=100.0),
    *seconds(DeliveryPolicy, "backoff_max"),
    bad(DeliveryPolicy, ValueError, "backoff_max", 1.0, backoff_initial=5.0),
    bad(CONSUMER, ValueError, "redis", "http://127.0.0.1:6379"),
    bad(CONSUMER, TypeError, "redis", 6379),
    *text(CONSUMER, "stream"),
    *text(CONSUMER, "group"),
    *[row for row in text(CONSUMER, "consumer") if row.kwargs["consumer"] is not None],
    bad(CONSUMER, TypeError, "client", "client"),
    bad(CONSUMER, TypeError, "token_for", "tokens.txt"),
    bad(CONSUMER, TypeError, "handler", None),
    *count(CONSUMER, "concurrency"),
    bad(CONSUMER, TypeError, "policy", {"max_deliveries": 5}),
    *seconds(CONSUMER, "claim_idle", none=True),
    bad(CONSUMER, TypeError, "rate_limit", 5),
    *seconds(CONSUMER, "read_block"),
]

# --------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------


@dataclass
class Subjects:
    """The objects whose methods the rows call, made afresh for each row."""

    transport: MockTransport
    client: PlaidClient
    emulator: SandboxServer
    redis: RedisRateLimiter
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    budget: Budget = field(default_factory=lambda: Budget(5, 1.0))
    budgets: Budgets = field(default_factory=Budgets.production)
    summary: BatchSummary = field(default_factory=BatchSummary)
    faults: Faults = field(default_factory=Faults)

    def resolve(self, call: Callable[..., object] | Method) -> Callable[..., object]:
        if isinstance(call, Method):
            method: Callable[..., object] = getattr(getattr(self, call.subject), call.name)
            return method
        return call


@pytest.fixture
async def subjects() -> AsyncIterator[Subjects]:
    transport = MockTransport(_answer)
    made = Subjects(
        transport=transport,
        client=PlaidClient("client-id", "secret", transport=transport),
        emulator=SandboxServer(),
        redis=RedisRateLimiter("redis://127.0.0.1:1/0", client_id="client-id"),
    )
    yield made
    await made.client.aclose()
    await made.emulator.aclose()
    await made.redis.aclose()


def _emulator_state(emulator: SandboxServer) -> tuple[object, ...]:
    return (emulator.faults, emulator.queued, emulator.rate_limits)


async def _invoke(call: Callable[..., object], row: Row) -> None:
    result = call(*row.args, **row.kwargs)
    if inspect.isawaitable(result):  # a coroutine method: its checks run when awaited
        await result


@pytest.mark.parametrize("row", TABLE, ids=str)
async def test_a_bad_argument_is_refused_at_the_call(row: Row, subjects: Subjects) -> None:
    """The exception's class is the rule's (not a subclass from deeper down), its message
    starts with the argument's name, nothing was sent, and the emulator, refusing a setter,
    goes on answering as before. A batch method's result is not iterated: it must raise at
    the call."""
    emulator = isinstance(row.call, Method) and row.call.subject == "emulator"
    if emulator:
        await subjects.emulator.start()
        before = _emulator_state(subjects.emulator)
    call = subjects.resolve(row.call)
    with pytest.raises(row.error) as caught:
        await _invoke(call, row)
    assert type(caught.value) is row.error, caught.value
    assert str(caught.value).startswith(row.name), str(caught.value)
    assert subjects.transport.requests == []
    if emulator:
        assert _emulator_state(subjects.emulator) == before
        async with subjects.emulator.client() as client:
            assert (await client.accounts_get(subjects.emulator.token(1))).accounts
        assert subjects.emulator.stats.by_status == {200: 1}


def test_the_table_has_a_row_for_every_argument_of_the_named_classes() -> None:
    """A new argument of the client, the policy, a limiter, a budget, a transport or the
    emulator needs its rows here."""
    named: dict[object, set[str]] = {}
    for row in TABLE:
        call = row.call
        while isinstance(call, functools.partial):
            named.setdefault(call.func, set()).update(call.keywords)
            call = call.func
        named.setdefault(call, set()).update(row.kwargs)
    classes: list[Callable[..., object]] = [
        PlaidClient,
        RetryPolicy,
        LocalRateLimiter,
        RedisRateLimiter,
        Budget,
        Budgets,
        AiohttpTransport,
        MockTransport,
        SandboxServer,
        Faults,
        RateLimits,
        RateLimitCounter,
        DeliveryPolicy,
        StreamConsumer,
        OpenTelemetryObserver,
    ]
    for cls in classes:
        missing = set(inspect.signature(cls).parameters) - named[cls]
        assert not missing, f"{getattr(cls, '__name__', cls)}: no row for {sorted(missing)}"


def test_an_attrs_field_is_checked_under_its_own_name_and_none_passes_only_where_allowed() -> None:
    """The validator every attrs class of the package checks its fields with (the policy's,
    the budgets'): the message names the field, and None is refused unless the field allows
    it (``RetryPolicy(deadline=None)``). Tested directly because the classes build their
    validators once, at import."""
    from types import SimpleNamespace

    from plaid_async._checks import check_seconds, validator

    field = SimpleNamespace(name="deadline")  # what attrs passes: the field's Attribute
    optional = validator(check_seconds, allow_none=True)
    required = validator(check_seconds)
    zero_ok = validator(check_seconds, allow_zero=True)
    assert optional(object(), field, None) is None
    assert optional(object(), field, 1.5) is None
    with pytest.raises(TypeError, match=r"^deadline must be a positive, finite number of seconds"):
        required(object(), field, None)
    with pytest.raises(ValueError, match=r"^deadline must be a positive, finite number of seconds"):
        optional(object(), field, 0)
    assert zero_ok(object(), field, 0) is None
