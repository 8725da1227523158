"""The rules users rely on, one test each, through the public API (the client over aioresponses).

Each test is named after the rule it pins: when it fails, the rule is broken, whatever the code
looks like then. They began as the survivors of a mutation run (issue 18): rules the suite ran
but never asserted.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult

from plaid_async import (
    APIError,
    BatchSummary,
    Budgets,
    ItemError,
    ItemResult,
    LocalRateLimiter,
    OAuthError,
    PlaidAPIError,
    PlaidClient,
    PlaidConnectionError,
    PlaidError,
    PlaidInputError,
    PlaidResponseError,
    PlaidTimeoutError,
    RateLimitExceededError,
    RateLimitWaitTimeout,
    RetryPolicy,
)
from tests.samples import CLIENT_ID, SECRET, TOKEN, error_doc, response_doc

GET = "https://sandbox.plaid.com/accounts/get"
NO_WAIT = RetryPolicy(max_attempts=2, wait_initial=0, wait_max=0)


def attempts(m: Any) -> int:
    """How many requests aioresponses saw for /accounts/get."""
    return sum(len(calls) for (_, url), calls in m.requests.items() if str(url) == GET)


@pytest.fixture
async def client() -> AsyncIterator[PlaidClient]:
    async with PlaidClient(CLIENT_ID, SECRET, retry=NO_WAIT) as c:
        yield c


async def failure(client: PlaidClient) -> PlaidError:
    with pytest.raises(PlaidError) as info:
        await client.accounts_get(TOKEN)
    return info.value


# --- how a document is read -----------------------------------------------------------------
# The converter builds one structure function per model on first use and keeps it; these call
# the builder itself, so that its rules are checked where they are made.


def test_a_null_object_is_an_empty_balance_and_refused_for_any_other_model() -> None:
    from plaid_async._convert import _structure_model_factory, converter
    from plaid_async.models import AccountBalance, AccountBase

    balances = _structure_model_factory(AccountBalance, converter)
    assert balances(None, AccountBalance) == AccountBalance()
    account = _structure_model_factory(AccountBase, converter)
    with pytest.raises(TypeError, match=r"^expected a JSON object for AccountBase, got NoneType$"):
        account(None, AccountBase)
    with pytest.raises(TypeError, match=r"^expected a JSON object for AccountBase, got list$"):
        account([], AccountBase)


def test_unknown_fields_are_written_back_and_keys_not_sent_stay_out() -> None:
    from decimal import Decimal

    from plaid_async._convert import _unstructure_model_factory, converter
    from plaid_async.models import AccountBalance

    read = converter.structure({"current": 1, "new_field": 2}, AccountBalance)
    write = _unstructure_model_factory(AccountBalance, converter)
    assert write(read) == {"current": Decimal(1), "new_field": 2}


def test_a_known_enum_value_is_its_member_and_an_unknown_one_stays_a_string() -> None:
    from plaid_async import AccountType
    from plaid_async._convert import _structure_model_factory, converter
    from plaid_async.models import AccountBase

    account = _structure_model_factory(AccountBase, converter)
    known = account({"account_id": "a1", "type": "depository", "mask": 1234}, AccountBase)
    assert known.type is AccountType.DEPOSITORY
    assert known.mask == "1234"  # a mask sent as a number still means its digits
    unknown = account({"account_id": "a2", "type": "crypto"}, AccountBase)
    assert unknown.type == "crypto"
    assert type(unknown.type) is str


def test_a_list_is_a_tuple_null_is_empty_and_anything_else_is_refused() -> None:
    from plaid_async import AccountSubtype
    from plaid_async._convert import _structure_tuple_factory, converter

    strings = _structure_tuple_factory(tuple[str, ...], converter)
    assert strings(["a", 7], tuple[str, ...]) == ("a", "7")
    assert strings(None, tuple[str, ...]) == ()
    with pytest.raises(TypeError, match=r"^expected a JSON array, got dict$"):
        strings({"a": 1}, tuple[str, ...])
    anything = _structure_tuple_factory(tuple[Any, ...], converter)
    assert anything([{"x": 1}], tuple[Any, ...]) == ({"x": 1},)
    assert anything(None, tuple[Any, ...]) == ()
    subtypes = _structure_tuple_factory(tuple[AccountSubtype | str, ...], converter)
    checking, new = subtypes(["checking", "new"], tuple[Any, ...])
    assert checking is AccountSubtype.CHECKING
    assert type(new) is str
    assert new == "new"
    assert subtypes(None, tuple[Any, ...]) == ()
    assert subtypes([401], tuple[Any, ...]) == ("401",)  # a digit-only subtype sent unquoted
    with pytest.raises(TypeError, match=r"^expected a AccountSubtype string, got NoneType$"):
        subtypes([None], tuple[Any, ...])


def test_the_list_rules_apply_to_lists_of_any_length_only() -> None:
    from plaid_async._convert import _is_homogeneous_tuple

    assert _is_homogeneous_tuple(tuple[str, ...])
    assert _is_homogeneous_tuple(tuple[Any, ...])
    assert not _is_homogeneous_tuple(tuple[str, int])
    assert not _is_homogeneous_tuple(tuple[str])
    assert not _is_homogeneous_tuple(list[str])
    assert not _is_homogeneous_tuple(str)


def test_open_enum_rules_apply_to_an_enum_or_str_field_and_nothing_else() -> None:
    import typing

    from plaid_async import AccountType
    from plaid_async._convert import _open_enum_of, _union_args

    assert _open_enum_of(AccountType | str) is AccountType
    assert _open_enum_of(AccountType | str | None) is AccountType
    assert _open_enum_of(typing.Optional[typing.Union[AccountType, str]]) is AccountType  # noqa: UP007, UP045
    for other in (str, str | None, int | str, AccountType | int, AccountType | str | int):
        assert _open_enum_of(other) is None, other
    assert _union_args(typing.Optional[str]) == (str, type(None))  # noqa: UP045
    assert _union_args(tuple[str, ...]) == ()


def test_the_model_rules_apply_to_response_models_not_to_requests() -> None:
    from plaid_async._convert import _is_response_model
    from plaid_async.models import AccountBalance, AccountsGetRequest

    assert _is_response_model(AccountBalance)
    assert not _is_response_model(AccountsGetRequest)
    assert not _is_response_model(str)


def test_an_open_enum_takes_null_only_where_the_field_allows_it() -> None:
    from plaid_async import AccountType
    from plaid_async._convert import _OpenEnumHook

    optional = _OpenEnumHook(AccountType | str | None)
    assert optional(None, None) is None
    assert optional("depository", None) is AccountType.DEPOSITORY
    assert optional("crypto", None) == "crypto"
    assert optional(401, None) == "401"  # a digit-only value sent unquoted
    assert optional(401, None) is not None
    required = _OpenEnumHook(AccountType | str)
    with pytest.raises(TypeError, match=r"^expected a AccountType string, got NoneType$"):
        required(None, None)
    with pytest.raises(TypeError, match=r"^expected a AccountType string, got float$"):
        required(4.5, None)


def test_an_int_field_takes_a_whole_number_and_refuses_a_bool_a_fraction_or_a_huge_one() -> None:
    from decimal import Decimal

    from plaid_async import converter
    from plaid_async.models import AccountVerificationInsights

    def score(value: object) -> object:
        doc = {"name_match_score": value}
        return converter.structure(doc, AccountVerificationInsights).name_match_score

    assert score(90) == 90
    assert score(Decimal("90.0")) == 90
    assert type(score(Decimal("90.0"))) is int
    assert score(Decimal("1E+2")) == 100
    assert score(Decimal("1E+99")) == 10**99  # 100 digits: the most taken
    for bad in (True, Decimal("90.5"), Decimal("1E+100"), Decimal("1E+5000000000"), "90"):
        with pytest.raises(TypeError, match=rf"^expected an integer, got {type(bad).__name__}$"):
            score(bad)


def test_a_boolean_field_takes_only_true_or_false() -> None:
    from plaid_async import converter
    from plaid_async.models import NetworkStatus

    assert (
        converter.structure({"has_numbers_match": False}, NetworkStatus).has_numbers_match is False
    )
    for bad in (1, "true"):
        with pytest.raises(TypeError, match=rf"^expected a boolean, got {type(bad).__name__}$"):
            converter.structure({"has_numbers_match": bad}, NetworkStatus)


def test_a_string_field_holds_a_plain_str_and_names_what_it_refuses() -> None:
    from plaid_async import converter
    from plaid_async.models import AccountBase

    class Tag(str):
        pass

    account_id = converter.structure({"account_id": Tag("a1")}, AccountBase).account_id
    assert type(account_id) is str
    assert account_id == "a1"
    with pytest.raises(TypeError, match=r"^expected a string, got list$"):
        converter.structure({"account_id": ["a1"]}, AccountBase)


def test_a_date_time_read_then_pickled_is_still_written_as_rfc_3339() -> None:
    """A response sent through a process pool loses the text its date-times were read from;
    writing it back must still work, in the usual form."""
    from plaid_async import converter
    from plaid_async.models import AccountBalance

    read = converter.structure({"last_updated_datetime": "2026-01-02T03:04:05Z"}, AccountBalance)
    copy = pickle.loads(pickle.dumps(read))  # noqa: S301 - our own bytes
    assert converter.unstructure(copy)["last_updated_datetime"] == "2026-01-02T03:04:05Z"


def test_a_bad_date_time_is_refused_with_its_first_40_characters() -> None:
    from plaid_async import converter
    from plaid_async.models import AccountBalance

    bad = "2026-13-45 and then a long tail of text that goes on"
    with pytest.raises(ValueError, match=rf"^not an RFC 3339 date-time: {bad[:40]!r}$"):
        converter.structure({"last_updated_datetime": bad}, AccountBalance)


def test_date_times_follow_rfc_3339_leap_seconds_and_fractions_included() -> None:
    import datetime as dt

    from plaid_async._convert import parse_datetime

    utc = dt.timezone.utc
    assert parse_datetime("2016-12-31T23:59:60Z") == dt.datetime(
        2016, 12, 31, 23, 59, 59, 999_999, tzinfo=utc
    )  # a leap second: the last microsecond of the minute
    assert parse_datetime("2026-01-02T03:04:05.1234567Z").microsecond == 123_456  # truncated
    assert parse_datetime("2026-01-02T03:04:05.5Z").microsecond == 500_000
    assert parse_datetime("2026-01-02T03:04:05").tzinfo is utc  # no offset: UTC
    east = parse_datetime("2026-01-02T03:04:05+05:30")
    assert east.utcoffset() == dt.timedelta(hours=5, minutes=30)


def test_a_date_time_given_as_an_object_must_be_aware() -> None:
    import datetime as dt

    from plaid_async import converter
    from plaid_async.models import AccountBalance

    aware = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    doc = {"last_updated_datetime": aware}
    assert converter.structure(doc, AccountBalance).last_updated_datetime == aware
    message = r"^expected an RFC 3339 date-time string, got datetime$"
    with pytest.raises(TypeError, match=message):
        converter.structure({"last_updated_datetime": aware.replace(tzinfo=None)}, AccountBalance)


# --- the deadline ---------------------------------------------------------------------------


async def test_deadline_none_turns_the_deadline_off(mocked: Any) -> None:
    # A Retry-After makes the wait exact: 0.3 s, longer than the 0.2 s deadline below.
    busy = {"status": 503, "payload": error_doc("API_ERROR", "INTERNAL_SERVER_ERROR")}
    mocked.post(GET, headers={"Retry-After": "0.3"}, **busy)
    mocked.post(GET, payload=response_doc())
    async with PlaidClient(
        CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=2, deadline=None)
    ) as unbounded:
        resp = await unbounded.accounts_get(TOKEN)
    assert resp.request_id == response_doc()["request_id"]
    assert attempts(mocked) == 2

    mocked.post(GET, headers={"Retry-After": "0.3"}, **busy)
    async with PlaidClient(
        CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=2, deadline=0.2)
    ) as bounded:
        with pytest.raises(APIError):  # the same retry would end past the deadline: not made
            await bounded.accounts_get(TOKEN)
    assert attempts(mocked) == 3


# --- what is retried ------------------------------------------------------------------------


async def test_rate_limit_exceeded_is_retried_whatever_the_status(
    mocked: Any, client: PlaidClient
) -> None:
    mocked.post(GET, status=400, payload=error_doc("RATE_LIMIT_EXCEEDED", "ACCOUNTS_LIMIT"))
    mocked.post(GET, payload=response_doc())
    await client.accounts_get(TOKEN)
    assert attempts(mocked) == 2


async def test_status_429_is_retried_whatever_the_error_type(
    mocked: Any, client: PlaidClient
) -> None:
    mocked.post(GET, status=429, payload=error_doc("OAUTH_ERROR", "SOME_NEW_LIMIT"))
    mocked.post(GET, payload=response_doc())
    await client.accounts_get(TOKEN)
    assert attempts(mocked) == 2


async def test_an_error_that_is_neither_rate_limit_nor_5xx_is_not_retried(
    mocked: Any, client: PlaidClient
) -> None:
    mocked.post(GET, status=400, payload=error_doc("OAUTH_ERROR", "SOME_NEW_LIMIT"), repeat=True)
    error = await failure(client)
    assert isinstance(error, OAuthError)
    assert attempts(mocked) == 1


async def test_credits_exhausted_is_not_retried_even_as_a_429(
    mocked: Any, client: PlaidClient
) -> None:
    doc = error_doc("RATE_LIMIT_EXCEEDED", "CREDITS_EXHAUSTED")
    mocked.post(GET, status=429, payload=doc, repeat=True)
    assert isinstance(await failure(client), RateLimitExceededError)
    assert attempts(mocked) == 1


# --- how an error body is read --------------------------------------------------------------


async def test_a_body_with_only_error_code_is_plaids_error(
    mocked: Any, client: PlaidClient
) -> None:
    mocked.post(GET, status=400, payload={"error_code": "ITEM_LOGIN_REQUIRED", "request_id": "r1"})
    error = await failure(client)
    assert type(error) is PlaidAPIError  # no error_type: no subclass to pick
    assert error.error_code == "ITEM_LOGIN_REQUIRED"
    assert error.error_type is None
    assert error.request_id == "r1"


async def test_a_body_with_only_error_type_is_plaids_error(
    mocked: Any, client: PlaidClient
) -> None:
    mocked.post(GET, status=400, payload={"error_type": "ITEM_ERROR"})
    error = await failure(client)
    assert isinstance(error, ItemError)
    assert error.error_type == "ITEM_ERROR"
    assert error.error_code is None


async def test_a_json_body_with_neither_is_not_plaids_error(
    mocked: Any, client: PlaidClient
) -> None:
    mocked.post(GET, status=400, payload={"message": "Bad Request"})
    error = await failure(client)
    assert isinstance(error, PlaidResponseError)
    assert "Bad Request" in error.excerpt


async def test_display_message_and_suggested_action_reach_the_caller(
    mocked: Any, client: PlaidClient
) -> None:
    doc = error_doc(
        "ITEM_ERROR",
        "ITEM_LOGIN_REQUIRED",
        display_message="Your bank login changed. Please log in again.",
        suggested_action="RELINK",
    )
    mocked.post(GET, status=400, payload=doc)
    error = await failure(client)
    assert isinstance(error, ItemError)
    assert error.display_message == "Your bank login changed. Please log in again."
    assert error.suggested_action == "RELINK"
    assert error.documentation_url == doc["documentation_url"]


async def test_a_plaid_error_body_with_a_field_of_the_wrong_type_keeps_the_fields_it_can(
    mocked: Any, client: PlaidClient
) -> None:
    """A body that is Plaid's error object but does not fit the schema still gives the typed
    error, with its string fields kept and the unreadable ones None (not the raw value)."""
    doc: dict[str, Any] = {
        "error_type": "ITEM_ERROR",
        "error_code": "ITEM_LOGIN_REQUIRED",
        "error_message": {"text": "not a string"},
        "request_id": "req-odd",
    }
    mocked.post(GET, status=400, payload=doc)
    error = await failure(client)
    assert isinstance(error, ItemError)
    assert error.error_code == "ITEM_LOGIN_REQUIRED"
    assert error.request_id == "req-odd"
    assert error.error_message is None
    assert str(error) == "ITEM_ERROR ITEM_LOGIN_REQUIRED (HTTP 400, request_id=req-odd)"

    doc = {**doc, "error_message": "the login changed", "causes": 5}  # causes: not a list
    mocked.post(GET, status=400, payload=doc)
    error = await failure(client)
    assert isinstance(error, ItemError)
    assert error.error_message == "the login changed"


def test_an_unknown_name_of_plaid_async_errors_is_an_ordinary_attribute_error() -> None:
    """The module's shim for the names that moved to protocol lets every other name fail as
    Python's own would, so ``hasattr`` and error messages behave as for any module."""
    import plaid_async.errors as errors_module

    with pytest.raises(
        AttributeError, match=r"^module 'plaid_async\.errors' has no attribute 'nope'$"
    ):
        errors_module.nope  # noqa: B018
    assert not hasattr(errors_module, "nope")
    assert errors_module.error_from_response.__module__ == "plaid_async.protocol"


def test_a_response_error_built_without_an_excerpt_has_an_empty_one() -> None:
    """Applications build these in their own tests (a fake transport's failure)."""
    error = PlaidResponseError("HTTP 502: a gateway page", status=502, transient=True)
    assert error.excerpt == ""
    assert (error.status, error.transient, str(error)) == (502, True, "HTTP 502: a gateway page")


# --- what counts as a success ---------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 299])
async def test_any_2xx_is_a_success(mocked: Any, client: PlaidClient, status: int) -> None:
    mocked.post(GET, status=status, payload=response_doc())
    assert (await client.accounts_get(TOKEN)).request_id == response_doc()["request_id"]


@pytest.mark.parametrize("status", [300, 304, 399])
async def test_3xx_is_not_a_success_even_with_a_valid_body(
    mocked: Any, client: PlaidClient, status: int
) -> None:
    mocked.post(GET, status=status, payload=response_doc())
    with pytest.raises(PlaidResponseError, match=rf"^HTTP {status}: a redirect: ") as info:
        await client.accounts_get(TOKEN)
    assert info.value.status == status


@pytest.mark.parametrize(("status", "body"), [(400, b"Bad Request"), (400, b"")])
async def test_a_failure_without_plaids_error_object_says_so(
    mocked: Any, client: PlaidClient, status: int, body: bytes
) -> None:
    mocked.post(GET, status=status, body=body)
    with pytest.raises(PlaidResponseError) as info:
        await client.accounts_get(TOKEN)
    shown = body.decode() or "(empty body)"
    assert str(info.value) == f"HTTP {status}: an answer that is not Plaid's error: {shown}"


@pytest.mark.parametrize(
    ("body", "message", "excerpt"),
    [
        (
            b"<html>Gateway</html>",
            "HTTP 200: the body is not valid JSON: <html>Gateway</html>",
            None,
        ),
        (b"", "HTTP 200: the body is not valid JSON: (empty body)", ""),
        (b"[1, 2]", "HTTP 200: the body is not a JSON object: [1, 2]", None),
    ],
)
async def test_a_2xx_body_that_is_not_an_answer_says_what_came(
    mocked: Any, body: bytes, message: str, excerpt: str | None
) -> None:
    mocked.post(GET, status=200, body=body, repeat=True)
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as c:
        error = await failure(c)
    assert isinstance(error, PlaidResponseError)
    assert str(error) == message
    assert error.excerpt == (body.decode() if excerpt is None else excerpt)
    assert error.transient  # a body cut short or a proxy's page: worth another try


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b"\n  <html><head><title>Bad Gateway</title></head><body>x</body></html>", "Bad Gateway"),
        (b"<html><body><h1>Bad</h1><p>gateway</p></body></html>", "Bad gateway"),
        (b"upstream connect error", "upstream connect error"),
    ],
)
async def test_a_gateways_page_is_shown_by_its_title_or_its_text(
    mocked: Any, body: bytes, shown: str
) -> None:
    mocked.post(GET, status=502, body=body, repeat=True)
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as c:
        error = await failure(c)
    assert str(error) == f"HTTP 502: an answer that is not Plaid's error: {shown}"


async def test_a_gateways_page_that_echoes_the_secret_is_redacted(mocked: Any) -> None:
    mocked.post(GET, status=502, body=f"bad request with {SECRET} in it".encode(), repeat=True)
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as c:
        error = await failure(c)
    assert isinstance(error, PlaidResponseError)
    assert SECRET not in str(error)
    assert SECRET not in error.excerpt


@pytest.mark.parametrize(
    ("length", "excerpt"), [(200, "x" * 200), (201, "x" * 200 + "…"), (5000, "x" * 200 + "…")]
)
async def test_an_excerpt_is_the_first_200_characters_and_says_when_it_was_cut(
    mocked: Any, length: int, excerpt: str
) -> None:
    mocked.post(GET, status=502, body=b"x" * length, repeat=True)
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as c:
        error = await failure(c)
    assert isinstance(error, PlaidResponseError)
    assert error.excerpt == excerpt


# --- errors survive pickling (a process pool, a task queue) ---------------------------------


async def test_a_pickled_rate_limit_error_keeps_retry_after_and_every_field(mocked: Any) -> None:
    doc = error_doc(
        "RATE_LIMIT_EXCEEDED",
        "ACCOUNTS_LIMIT",
        display_message="Slow down.",
        suggested_action="RETRY_LATER",
    )
    mocked.post(GET, status=429, payload=doc, headers={"Retry-After": "7"})
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as c:
        error = await failure(c)
    assert isinstance(error, RateLimitExceededError)
    assert error.retry_after == 7.0
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is RateLimitExceededError
    assert str(copy) == str(error)
    for name in (
        "status",
        "retry_after",
        "error_type",
        "error_code",
        "error_message",
        "display_message",
        "request_id",
        "documentation_url",
        "suggested_action",
        "causes",
    ):
        assert getattr(copy, name) == getattr(error, name), name
    assert copy.display_message == "Slow down."


async def _timeout_error(mocked: Any) -> PlaidError:
    mocked.post(GET, exception=asyncio.TimeoutError(), repeat=True)
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as c:
        return await failure(c)


async def _connection_error(mocked: Any) -> PlaidError:
    mocked.post(GET, exception=aiohttp.ClientConnectionError("refused"), repeat=True)
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as c:
        return await failure(c)


async def _response_error(mocked: Any) -> PlaidError:
    mocked.post(GET, status=502, body="<html>502 Bad Gateway</html>", repeat=True)
    async with PlaidClient(CLIENT_ID, SECRET, retry=RetryPolicy(max_attempts=1)) as c:
        return await failure(c)


async def _input_error(mocked: Any) -> PlaidError:
    async with PlaidClient(CLIENT_ID, SECRET) as c:
        (result,) = [r async for r in c.accounts_get_many(["   "])]
    assert result.error is not None
    return result.error


async def _wait_timeout(mocked: Any) -> PlaidError:
    return RateLimitWaitTimeout("no budget within the deadline", timeout=2.5)


@pytest.mark.parametrize(
    ("make", "cls", "fields"),
    [
        (_timeout_error, PlaidTimeoutError, ("timeout",)),
        (_wait_timeout, RateLimitWaitTimeout, ("timeout",)),
        (_connection_error, PlaidConnectionError, ("transient",)),
        (_response_error, PlaidResponseError, ("status", "excerpt", "transient")),
        (_input_error, PlaidInputError, ()),
    ],
)
async def test_every_error_keeps_its_fields_through_pickle(
    mocked: Any,
    make: Callable[[Any], Any],
    cls: type[PlaidError],
    fields: tuple[str, ...],
) -> None:
    error = await make(mocked)
    assert isinstance(error, cls)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    for name in fields:
        assert getattr(copy, name) == getattr(error, name), name


# --- the batch ------------------------------------------------------------------------------


async def test_item_result_elapsed_is_the_seconds_the_token_took(mocked: Any) -> None:
    async def slow(url: Any, **kwargs: Any) -> CallbackResult:
        await asyncio.sleep(0.2)
        return CallbackResult(payload=response_doc())

    mocked.post(GET, callback=slow)
    mocked.post(GET, payload=response_doc())
    results: list[ItemResult] = []
    async with PlaidClient(CLIENT_ID, SECRET, retry=NO_WAIT) as c:
        started = time.monotonic()
        async for result in c.accounts_get_many(["access-slow", "access-fast"], concurrency=1):
            results.append(result)
        total = time.monotonic() - started
    slow_result, fast_result = sorted(results, key=lambda r: r.index)
    assert slow_result.ok
    assert fast_result.ok
    assert 0.2 <= slow_result.elapsed <= total
    assert 0.0 <= fast_result.elapsed < 0.2


async def test_a_failed_tokens_elapsed_is_the_seconds_it_took_too(mocked: Any) -> None:
    async def slow_failure(url: Any, **kwargs: Any) -> CallbackResult:
        await asyncio.sleep(0.2)
        return CallbackResult(status=400, payload=error_doc("ITEM_ERROR", "ITEM_LOGIN_REQUIRED"))

    mocked.post(GET, callback=slow_failure)
    async with PlaidClient(CLIENT_ID, SECRET, retry=NO_WAIT) as c:
        started = time.monotonic()
        (result,) = [r async for r in c.accounts_get_many([TOKEN])]
        total = time.monotonic() - started
    assert isinstance(result.error, ItemError)
    assert 0.2 <= result.elapsed <= total


def test_a_batch_summary_of_something_not_iterable_says_what_it_takes() -> None:
    with pytest.raises(TypeError, match=r"^results must be an iterable of ItemResult, not int$"):
        BatchSummary.of(5)  # type: ignore[arg-type]


async def test_a_token_that_cannot_be_sent_is_its_own_result_shown_as_text(mocked: Any) -> None:
    async with PlaidClient(CLIENT_ID, SECRET, retry=NO_WAIT) as c:
        results = [r async for r in c.accounts_get_many([b"access-bytes", "  "])]  # type: ignore[list-item]
    by_index = sorted(results, key=lambda r: r.index)
    assert [r.access_token for r in by_index] == ["b'access-bytes'", "  "]
    for result in by_index:
        assert isinstance(result.error, PlaidInputError)
        assert str(result.error).startswith(f"input #{result.index} is not a usable access token: ")
        assert isinstance(result.error.__cause__, TypeError | ValueError)
        assert (result.attempts, result.elapsed) == (1, 0.0)  # nothing was sent
    assert attempts(mocked) == 0


class _Cursor:
    """An input that counts its reads, as a database cursor or a queue would."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.reads = 0

    def __iter__(self) -> _Cursor:
        return self

    def __next__(self) -> str:
        self.reads += 1
        if self.reads > len(self.tokens):
            if self.reads > len(self.tokens) + 1:
                raise RuntimeError("read past the end")
            raise StopIteration
        return self.tokens[self.reads - 1]


async def test_the_input_is_read_to_its_end_once_and_progress_is_told_each_change(
    mocked: Any,
) -> None:
    mocked.post(GET, payload=response_doc(), repeat=True)
    cursor = _Cursor(["access-a", "access-b"])
    seen: list[tuple[int, int]] = []
    async with PlaidClient(CLIENT_ID, SECRET, retry=NO_WAIT) as c:
        results = [
            r
            async for r in c.accounts_get_many(
                cursor, concurrency=2, on_progress=lambda p: seen.append((p.started, p.done))
            )
        ]
    assert [r.ok for r in results] == [True, True]
    assert cursor.reads == 3  # two tokens, then the end: never past it
    # both calls started, one result handed out, the other: nothing else
    assert seen == [(2, 0), (2, 1), (2, 2)]


# --- rate limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0, -1, -0.5])
def test_a_rate_limit_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match=r"^rate must be a positive, finite number"):
        LocalRateLimiter(rate)
    with pytest.raises(ValueError, match=r"^rate_limiter must be a positive, finite number"):
        PlaidClient(CLIENT_ID, SECRET, rate_limiter=rate)


@pytest.mark.parametrize("rate", ["5", True, [5]])
def test_a_rate_limit_must_be_a_number(rate: Any) -> None:
    with pytest.raises(TypeError, match=r"^rate must be a positive, finite number of requests"):
        LocalRateLimiter(rate)


@pytest.mark.parametrize("rate", ["5", [5]])
def test_a_rate_limiter_argument_says_it_takes_a_number_or_a_limiter(rate: Any) -> None:
    """``rate_limiter=`` and ``rate_limit=`` take a limiter object too: the message says so."""
    message = r"^rate_limiter must be a positive, finite number of requests per second, or a rate"
    with pytest.raises(TypeError, match=message):
        PlaidClient(CLIENT_ID, SECRET, rate_limiter=rate)


async def test_retry_policy_call_tells_on_retry_scheduled_each_wait_and_error() -> None:
    """``RetryPolicy.call`` hands each retry's wait and the error that caused it to
    ``on_retry_scheduled``, as it calls ``on_retry``."""
    failures: list[PlaidError] = [
        PlaidTimeoutError("slow", timeout=1.0),
        PlaidConnectionError("reset"),
    ]
    scheduled: list[tuple[float, BaseException | None]] = []
    retried: list[None] = []

    async def attempt(deadline: Any) -> str:
        if failures:
            raise failures.pop(0)
        return "ok"

    policy = RetryPolicy(max_attempts=3, wait_initial=0.0, wait_max=0.0)
    result = await policy.call(
        attempt,
        endpoint="/accounts/get",
        on_retry=lambda: retried.append(None),
        on_retry_scheduled=lambda wait, error: scheduled.append((wait, error)),
    )
    assert result == "ok"
    assert [type(error).__name__ for _, error in scheduled] == [
        "PlaidTimeoutError",
        "PlaidConnectionError",
    ]
    assert all(wait == 0.0 for wait, _ in scheduled)
    assert len(retried) == 2


def test_a_local_limiter_takes_a_rate_or_budgets_not_both_nor_neither() -> None:
    message = (
        r"^rate or budgets: give LocalRateLimiter either a rate or budgets, not both or neither$"
    )
    with pytest.raises(TypeError, match=message):
        LocalRateLimiter()
    with pytest.raises(TypeError, match=message):
        LocalRateLimiter(5, budgets=Budgets.sandbox())


def test_budgets_must_be_budgets() -> None:
    with pytest.raises(TypeError, match=r"^budgets must be a Budgets, not dict$"):
        LocalRateLimiter(budgets={"/accounts/get": 5})  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0, -1])
async def test_a_batch_refuses_a_rate_limit_that_is_not_positive(
    mocked: Any, client: PlaidClient, rate: float
) -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        async for _ in client.accounts_get_many([TOKEN], rate_limit=rate):
            pass
    assert attempts(mocked) == 0


class _Recorder:
    """A rate limiter that admits everything and keeps what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def acquire(self, path: str, item_key: str) -> None:
        self.asked.append((path, item_key))


class _Full:
    """A rate limiter with no budget, ever."""

    async def acquire(self, path: str, item_key: str) -> None:
        await asyncio.sleep(3600)


@pytest.mark.parametrize("deadline", [None, 30.0])
async def test_a_limiter_is_asked_for_the_path_and_the_items_digest_with_or_without_deadline(
    mocked: Any, deadline: float | None
) -> None:
    import hashlib

    mocked.post(GET, payload=response_doc())
    recorder = _Recorder()
    policy = RetryPolicy(max_attempts=1, deadline=deadline)
    async with PlaidClient(CLIENT_ID, SECRET, retry=policy, rate_limiter=recorder) as c:
        await c.accounts_get(TOKEN)
    assert recorder.asked == [("/accounts/get", hashlib.sha256(TOKEN.encode()).hexdigest())]


async def test_a_wait_for_budget_past_the_deadline_says_how_long_it_waited(mocked: Any) -> None:
    policy = RetryPolicy(max_attempts=1, deadline=0.2)
    async with PlaidClient(CLIENT_ID, SECRET, retry=policy, rate_limiter=_Full()) as c:
        message = r"^the deadline passed while waiting for rate-limit budget; nothing was sent$"
        with pytest.raises(RateLimitWaitTimeout, match=message) as info:
            await c.accounts_get(TOKEN)
    assert info.value.timeout is not None
    assert 0.1 < info.value.timeout <= 0.2
    assert attempts(mocked) == 0


# --- the retry log line ---------------------------------------------------------------------


async def test_the_retry_log_line_carries_endpoint_attempt_wait_code_and_request_id(
    mocked: Any, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.post(GET, status=503, payload=error_doc("API_ERROR", "INTERNAL_SERVER_ERROR"))
    mocked.post(GET, payload=response_doc())
    policy = RetryPolicy(max_attempts=2, wait_initial=0.01, wait_max=0.01)
    with caplog.at_level(logging.WARNING, logger="plaid_async"):
        async with PlaidClient(CLIENT_ID, SECRET, retry=policy) as c:
            await c.accounts_get(TOKEN)
    (record,) = [r for r in caplog.records if r.name == "plaid_async"]
    assert record.levelno == logging.WARNING
    assert record.__dict__["plaid_endpoint"] == "/accounts/get"
    assert record.__dict__["plaid_attempt"] == 1
    assert 0.0 <= record.__dict__["plaid_wait"] <= 0.01
    assert record.__dict__["plaid_error_code"] == "INTERNAL_SERVER_ERROR"
    assert record.__dict__["plaid_request_id"] == "req-internal_server_error"
    message = record.getMessage()
    for part in ("/accounts/get", "attempt 1 of 2", "INTERNAL_SERVER_ERROR", "req-internal"):
        assert part in message
    assert TOKEN not in message
    assert SECRET not in message


async def test_a_retry_after_no_answer_logs_the_error_class_and_no_request_id(
    mocked: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Without Plaid's error object there is no code and no request_id: the fields are None
    (not an empty string a log query would match), and the line names the exception's class."""
    mocked.post(GET, exception=aiohttp.ClientConnectionError("refused"))
    mocked.post(GET, payload=response_doc())
    policy = RetryPolicy(max_attempts=2, wait_initial=0.01, wait_max=0.01)
    with caplog.at_level(logging.WARNING, logger="plaid_async"):
        async with PlaidClient(CLIENT_ID, SECRET, retry=policy) as c:
            await c.accounts_get(TOKEN)
    (record,) = [r for r in caplog.records if r.name == "plaid_async"]
    assert record.__dict__["plaid_error_code"] is None
    assert record.__dict__["plaid_request_id"] is None
    assert record.getMessage().endswith("failed with PlaidConnectionError (request_id=None)")


# --- the policy's own checks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"max_attempts": 0}, ValueError, "max_attempts"),
        ({"max_attempts": 1.5}, TypeError, "max_attempts"),
        ({"max_attempts": True}, TypeError, "max_attempts"),
        ({"wait_initial": -0.1}, ValueError, "wait_initial"),
        ({"wait_initial": "1"}, TypeError, "wait_initial"),
        ({"wait_max": -1}, ValueError, "wait_max"),
        ({"wait_initial": 2.0, "wait_max": 1.0}, ValueError, "wait_max"),
        ({"deadline": 0}, ValueError, "deadline"),
        ({"deadline": -5}, ValueError, "deadline"),
        ({"deadline": "60"}, TypeError, "deadline"),
    ],
)
def test_retry_policy_names_the_argument_it_refuses(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=rf"^{name}\b"):  # the message starts with the name
        RetryPolicy(**kwargs)


def test_retry_policy_accepts_its_documented_edges() -> None:
    assert RetryPolicy(max_attempts=1).max_attempts == 1  # retries off
    assert RetryPolicy(wait_initial=0, wait_max=0).wait_max == 0  # no waiting
    assert RetryPolicy(deadline=None).deadline is None  # no deadline
