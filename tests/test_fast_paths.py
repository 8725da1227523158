"""The fast paths behave exactly like the straightforward code they replace.

Each optimisation of the hot path (see docs/performance.md) is checked here against a reference:
the generated structure functions against cattrs' own generated functions, the cached JSON
decoder against ``json.loads``, the access-token check against its first form, and the
first-attempt fast path of ``RetryPolicy.call`` for retries, logs and the deadline.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import pytest
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, override
from hypothesis import example, given, settings
from hypothesis import strategies as st

from plaid_async import PlaidConnectionError, RetryPolicy, _convert, converter, policy
from plaid_async._convert import _NULL_IS_EMPTY, _is_response_model, _reject_constant, loads
from plaid_async._structure import make_structure_fn
from plaid_async.models import AccountsGetRequest, AccountsGetResponse
from plaid_async.sandbox.data import item_for, sandbox_token
from tests.test_policy import RETRIED, Attempts, api_error

# --------------------------------------------------------------------------------------------
# Generated structure functions == cattrs' generated functions with the same hooks
# --------------------------------------------------------------------------------------------


def _reference_factory(cls: type, conv: Converter) -> Callable[[Any, Any], Any]:
    """The model hook as it was before the generated functions: cattrs' function, then the
    unknown keys into ``extra``."""
    base: Callable[[Any, Any], Any] = make_dict_structure_fn(
        cls,
        conv,
        _cattrs_detailed_validation=False,
        extra=override(omit=True),
        _absent=override(omit=True),
    )
    known = frozenset(a.name for a in attrs.fields(cls) if a.name not in ("extra", "_absent"))

    def structure(data: Any, _: Any) -> Any:
        if type(data) is not dict:
            if data is None and cls in _NULL_IS_EMPTY:
                return cls()
            raise TypeError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
        obj = base(data, cls)
        unknown = data.keys() - known
        if unknown:
            object.__setattr__(obj, "extra", {key: data[key] for key in unknown})
        object.__setattr__(obj, "_absent", known.difference(data))
        return obj

    return structure


REFERENCE = converter.copy()
REFERENCE.register_structure_hook_factory(_is_response_model, _reference_factory)


def shape(obj: Any) -> Any:
    """``obj`` as nested tuples that keep every type (an enum member is not its string, a
    ``Decimal('1.10')`` is not ``Decimal('1.1')``); ``extra`` compared as a dict."""
    if attrs.has(type(obj)):
        return (
            type(obj),
            tuple((a.name, shape(getattr(obj, a.name))) for a in attrs.fields(type(obj))),
        )
    if isinstance(obj, tuple):
        return tuple(shape(item) for item in obj)
    if isinstance(obj, Mapping):
        return ("mapping", {key: (type(value), value) for key, value in obj.items()})
    if isinstance(obj, frozenset):
        return ("frozenset", tuple(sorted(obj)))
    return (type(obj), repr(obj))


def outcome(conv: Converter, document: Any) -> Any:
    try:
        return ("ok", shape(conv.structure(document, AccountsGetResponse)))
    except Exception as exc:
        return ("error", type(exc), str(exc))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4)
    | st.sampled_from(["credit", "checking", "INSTANT_AUTH", "auth", "2024-01-02T03:04:05Z"])
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=5,
)


@st.composite
def mutated_responses(draw: st.DrawFn) -> Any:
    """An emulator response with changes at random nodes: keys dropped, values replaced by
    any JSON value, unknown keys added."""
    item = item_for(sandbox_token(draw(st.integers(0, 50))))
    document: Any = {
        "accounts": copy.deepcopy(list(item.accounts)),
        "item": copy.deepcopy(dict(item.item)),
        "request_id": "req",
    }

    def mutate(node: Any) -> Any:
        if isinstance(node, dict):
            for key in list(node):
                action = draw(st.sampled_from(["keep"] * 8 + ["drop", "replace", "null"]))
                if action == "drop":
                    del node[key]
                elif action == "replace":
                    node[key] = draw(json_values)
                elif action == "null":
                    node[key] = None
                else:
                    node[key] = mutate(node[key])
            if draw(st.booleans()):
                node[draw(st.text(max_size=6))] = draw(json_values)
        elif isinstance(node, list):
            return [mutate(item) for item in node]
        return node

    return mutate(document)


@settings(max_examples=300, deadline=None)
@given(mutated_responses())
@example(
    {
        "accounts": [{"account_id": "a", "balances": None, "type": None}],
        "item": None,
        "request_id": "r",
    }
)
@example({"accounts": None, "item": {"item_id": "i", "products": None}, "request_id": "r"})
@example({"accounts": [], "item": None})
def test_generated_structure_functions_match_cattrs(document: Any) -> None:
    assert outcome(converter, document) == outcome(REFERENCE, document)


@attrs.frozen
class Sample:
    name: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, kw_only=True)


def _default_str(value: Any, _: Any) -> str:
    raise TypeError("not a str")


def _sample_fn(conv: Converter) -> Callable[[Any, Any], Any]:
    return make_structure_fn(
        Sample,
        conv,
        exact={str: _default_str},
        enum_members=lambda hook: None,
        not_a_dict=lambda data: None,
    )


def test_a_hook_registered_instead_of_the_default_is_always_called() -> None:
    conv = Converter()
    conv.register_structure_hook(str, _default_str)
    assert _sample_fn(conv)({"name": "abc"}, Sample).name == "abc"  # the shortcut: no call
    conv = Converter()
    conv.register_structure_hook(str, lambda value, _: value.upper())
    assert _sample_fn(conv)({"name": "abc"}, Sample).name == "ABC"  # the user's hook


def test_a_class_with_a_validator_is_built_through_its_init() -> None:
    def positive(_: object, __: object, value: int) -> None:
        if value <= 0:
            raise ValueError("count must be positive")

    @attrs.frozen
    class Checked:
        count: int = attrs.field(validator=positive)
        extra: Mapping[str, Any] = attrs.field(factory=dict, kw_only=True)

    structure = make_structure_fn(
        Checked, Converter(), exact={}, enum_members=lambda hook: None, not_a_dict=lambda d: d
    )
    assert structure({"count": 2, "more": 1}, Checked) == Checked(2, extra={"more": 1})
    with pytest.raises(ValueError, match="positive"):
        structure({"count": 0}, Checked)


def test_unknown_keys_keep_the_order_they_came_in() -> None:
    body: dict[str, Any] = {"accounts": [], "item": None, "request_id": "r", "z": 1, "a": 2, "m": 3}
    assert list(converter.structure(body, AccountsGetResponse).extra) == ["z", "a", "m"]


# --------------------------------------------------------------------------------------------
# loads == json.loads(parse_float=Decimal, parse_constant=...)
# --------------------------------------------------------------------------------------------


def load_outcome(load: Callable[[Any], Any], data: Any) -> Any:
    try:
        return ("ok", repr(load(data)))
    except Exception as exc:
        return ("error", type(exc), str(exc))


def reference_loads(data: Any) -> Any:
    return json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)


@st.composite
def json_inputs(draw: st.DrawFn) -> Any:
    text = draw(
        st.one_of(
            json_values.map(lambda value: json.dumps(value, default=str)),
            st.text(max_size=20),
            st.sampled_from(["NaN", "[1.10, -0.0, 1e400]", '{"a": Infinity}', "\ufeff{}", ""]),
        )
    )
    form = draw(st.sampled_from(["str", "utf-8", "utf-16", "utf-32", "utf-16-le", "bytearray"]))
    if form == "str":
        return text
    if form == "bytearray":
        return bytearray(text.encode("utf-8", "surrogatepass"))
    return text.encode(form, "surrogatepass")


@settings(max_examples=300, deadline=None)
@given(json_inputs())
@example(None)
@example(12)
def test_loads_matches_json_loads(data: Any) -> None:
    assert load_outcome(loads, data) == load_outcome(reference_loads, data)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1.10, "b": -0.0, "c": 1E400, "d": 1.5e-0003, "e": 123.456000, "f": 10000}',
        b"123456789012345678901234567890",  # beyond 64 bits: an int, not a Decimal
        b'{"a": 1, "b": 2, "a": 3}',  # a duplicate key: the last value, the first place
        b'"\\ud83d\\ude00 \\ud800"',  # a lone surrogate escape: msgspec refuses, json reads
        b'"\xed\xa0\x80"',  # a surrogate written in UTF-8 (surrogatepass)
        b"\xef\xbb\xbf{}",  # a UTF-8 BOM
        b'"\xc0\xaf"',  # not UTF-8
        b"NaN",
        b'{"a": -Infinity}',
        b"{} x",
        b"[1,]",
        b'"a\x01b"',
        b"",
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_loads_reads_bytes_as_json_loads_does(body: bytes) -> None:
    assert load_outcome(loads, body) == load_outcome(reference_loads, body)


def test_loads_reads_bytes_with_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    decode = _convert._FAST_DECODE

    def fast(data: bytes) -> Any:
        calls.append(data)
        return decode(data)

    monkeypatch.setattr(_convert, "_FAST_DECODE", fast)
    assert loads(b'{"a": 1.10}') == {"a": Decimal("1.10")}
    assert loads('{"a": 1}') == {"a": 1}  # str (and bytearray) go to json directly
    assert calls == [b'{"a": 1.10}']


# --------------------------------------------------------------------------------------------
# The access-token check == its first form
# --------------------------------------------------------------------------------------------


def reference_token_error(value: str) -> str | None:
    if not value.strip():
        return "access_token must not be empty"
    if value != value.strip() or any(ch.isspace() for ch in value):
        return "access_token must not contain whitespace"
    return None


@settings(max_examples=500, deadline=None)
@given(
    st.text(st.characters(codec="utf-8"), max_size=8)
    | st.sampled_from(["\u3000", "a\x1cb", "a\u200bb", "\x85"])
)
def test_the_access_token_check_is_unchanged(value: str) -> None:
    try:
        AccountsGetRequest(value)
        error = None
    except ValueError as exc:
        error = str(exc)
    assert error == reference_token_error(value)


# --------------------------------------------------------------------------------------------
# RetryPolicy.call: the first attempt outside tenacity
# --------------------------------------------------------------------------------------------


class _NoTenacity:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("tenacity was set up for a call whose first attempt settled it")


async def test_a_first_attempt_that_settles_the_call_never_sets_up_tenacity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(policy, "AsyncRetrying", _NoTenacity)
    fast = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001)
    assert await fast.call(Attempts(), endpoint="/accounts/get") == "ok"
    permanent = api_error("ITEM_ERROR", "ITEM_LOGIN_REQUIRED")
    with pytest.raises(type(permanent)):
        await fast.call(Attempts(permanent), endpoint="/accounts/get")
    with pytest.raises(PlaidConnectionError):  # retryable, but retries are off
        await RetryPolicy(max_attempts=1).call(Attempts(RETRIED[-3]), endpoint="/accounts/get")


async def test_a_failed_first_attempt_is_retried_logged_and_counted_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fast = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001)
    retries: list[int] = []
    attempts = Attempts(RETRIED[0])
    with caplog.at_level(logging.WARNING, logger="plaid_async"):
        result = await fast.call(
            attempts, endpoint="/accounts/get", on_retry=lambda: retries.append(1)
        )
    assert result == "ok"
    assert attempts.calls == 2  # the replayed failure does not run the attempt again
    assert retries == [1]
    messages = [r.getMessage() for r in caplog.records if r.name == "plaid_async"]
    assert len(messages) == 1
    assert "attempt 1 of 3 failed with API_ERROR/INTERNAL_SERVER_ERROR" in messages[0]


async def test_the_deadline_counts_the_first_attempt() -> None:
    """The first attempt runs before tenacity starts its clock; the deadline must still count
    it: past the deadline after one slow failure, nothing more is tried."""
    policy_ = RetryPolicy(max_attempts=5, wait_initial=0.001, wait_max=0.001, deadline=0.2)
    attempts = Attempts(PlaidConnectionError("slow, then reset"), delay=0.25)
    with pytest.raises(PlaidConnectionError, match="slow, then reset"):
        await policy_.call(attempts, endpoint="/accounts/get")
    assert attempts.calls == 1


async def test_the_pipeline_sets_up_tenacity_only_after_a_retryable_first_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The client runs a call's first attempt itself (no RetryPolicy.call layer, none of its
    closures); a retryable first failure still goes to the policy, logged and counted once."""
    from plaid_async import PlaidClient
    from plaid_async.testing import MockTransport
    from tests.samples import response_doc

    answers: list[tuple[int, dict[str, str], Any]] = [(200, {}, response_doc())]
    transport = MockTransport(lambda request: answers.pop(0))
    fast = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001)
    async with PlaidClient("id", "secret", retry=fast, transport=transport) as client:
        with monkeypatch.context() as patched:
            patched.setattr(policy, "AsyncRetrying", _NoTenacity)
            await client.accounts_get("access-sandbox-1")
        answers[:] = [(500, {}, "<html>bad gateway</html>"), (200, {}, response_doc())]
        with caplog.at_level(logging.WARNING, logger="plaid_async"):
            await client.accounts_get("access-sandbox-1")
    assert len(transport.requests) == 3
    assert len([r for r in caplog.records if r.name == "plaid_async"]) == 1


@pytest.mark.skipif(
    "MUTANT_UNDER_TEST" in os.environ,
    reason="mutmut (nox -s mutate) wraps these functions in trampolines: no code of ours to see",
)
def test_the_first_attempt_path_makes_no_closure_cells() -> None:
    """A variable a nested function uses is a cell made on entry, alive as long as the call:
    with 64 calls in flight, such per-call objects are what the garbage collector keeps
    promoting (docs/performance.md). The closures live in ``retry_after``, entered only on a
    retry."""
    from plaid_async._pipeline import Pipeline, _Call

    for function in (RetryPolicy.call, Pipeline.call, _Call.attempt):
        assert function.__code__.co_cellvars == (), function.__qualname__
    assert RetryPolicy.retry_after.__code__.co_cellvars != ()  # where they went
