"""Property tests: documents generated from Plaid's official schema go through the models intact.

Documents come from hypothesis-jsonschema's ``from_schema`` over ``tests/spec_schema.py``'s JSON
Schema, are read the way the client reads them (JSON, money as ``Decimal``), structured, and must
round-trip. What "intact" means (the normalizations) is in
:func:`tests.spec_schema.document_differences`.

Generating from the full ``AccountsGetResponse`` schema is slow (about 0.25 s per document, see
``FULL_DOCUMENTS``), so those three tests run 20 to 30 examples each; the rest run 100 to 150.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from plaid_async import converter, enums
from plaid_async.errors import PlaidResponseError
from plaid_async.models import (
    AccountBalance,
    AccountBase,
    AccountsGetResponse,
    AccountVerificationInsights,
    Item,
    NetworkStatus,
    PlaidErrorBody,
    PreviousReturns,
)
from plaid_async.protocol import decode_response
from tests.spec_schema import document_differences, json_schema

# Whole responses: few examples, because each costs about 0.25 s. hypothesis-jsonschema builds a
# strategy for every key it draws (too_slow), and gives up on about 2 test cases in 3 because it
# draws an optional property name that is already present, such as
# AccountBalance.last_updated_datetime (filter_too_much).
FULL_DOCUMENTS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# The same documents, rewritten (unknown fields, unknown enum values): fewer still.
REWRITTEN_DOCUMENTS = settings(FULL_DOCUMENTS, max_examples=20)
# Everything else is cheap enough for the usual count.
SMALL_DOCUMENTS = settings(max_examples=150, deadline=None)
ERROR_BODIES = settings(max_examples=100, deadline=None)

RESPONSE_MODELS = (
    AccountsGetResponse,
    AccountBase,
    AccountBalance,
    AccountVerificationInsights,
    NetworkStatus,
    PreviousReturns,
    Item,
    PlaidErrorBody,
)
# Every name the response models know: an "unknown" field must be none of them.
KNOWN_NAMES = frozenset(
    f.name
    for model in RESPONSE_MODELS
    for f in attrs.fields(model)
    if f.name not in ("extra", "_absent")
)
ENUM_VALUES = frozenset(
    member.value
    for enum_cls in vars(enums).values()
    if isinstance(enum_cls, type) and issubclass(enum_cls, enum.Enum)
    for member in enum_cls
)


def wire(document: Any) -> Any:
    """``document`` as the client reads it off the wire: JSON, with money parsed as Decimal."""
    return json.loads(json.dumps(document, allow_nan=False), parse_float=Decimal)


@functools.cache
def response_schema() -> dict[str, Any]:
    """The official ``AccountsGetResponse`` schema (cached: conversion is not free; do not
    mutate)."""
    return json_schema("AccountsGetResponse")


@functools.cache
def response_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(response_schema())


# Deferred, so that a missing spec fails the tests that need it (with its message), not the
# import of this module.
responses = st.deferred(lambda: from_schema(response_schema()))
error_bodies = st.deferred(lambda: from_schema({**json_schema("PlaidError"), "type": "object"}))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
unknown_names = (
    st.sampled_from(["extra", "", "ACCOUNT_ID", "balances ", "apy_percent"]) | st.text(max_size=12)
).filter(lambda name: name not in KNOWN_NAMES)
unknown_fields = st.dictionaries(unknown_names, json_values, min_size=1, max_size=3)
unknown_enum_values = (
    st.sampled_from(["", "CHECKING", "checking ", "530", "database_insights_pending_v2"])
    | st.text(max_size=20)
).filter(lambda value: value not in ENUM_VALUES)


def rewrite(
    value: Any, schema: dict[str, Any], change: Callable[[Any, dict[str, Any]], Any]
) -> Any:
    """``value`` (which fits ``schema``) with ``change`` applied at every node, innermost first."""
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        value = {
            key: rewrite(item, properties[key], change) if key in properties else item
            for key, item in value.items()
        }
    elif isinstance(value, list) and "items" in schema:
        value = [rewrite(item, schema["items"], change) for item in value]
    return change(value, schema)


def models_in(obj: Any) -> Any:
    """Every attrs instance in a structured response, ``obj`` included."""
    if attrs.has(type(obj)):
        yield obj
        for field in attrs.fields(type(obj)):
            yield from models_in(getattr(obj, field.name))
    elif isinstance(obj, tuple):
        for item in obj:
            yield from models_in(item)


def assert_round_trips(document: dict[str, Any], cls: type) -> Any:
    """The round trip is exact: the very document back (absent keys absent, nulls null, the
    same digits of every number, date-times as written), as ``==`` and key by key."""
    structured: Any = converter.structure(document, cls)
    unstructured = converter.unstructure(structured)
    assert unstructured == document
    assert document_differences(document, unstructured, cls) == []
    assert converter.structure(unstructured, cls) == structured
    return structured


# --------------------------------------------------------------------------------------------
# Documents generated from the official schema
# --------------------------------------------------------------------------------------------


@FULL_DOCUMENTS
@given(responses)
def test_generated_responses_structure_and_round_trip(document: Any) -> None:
    document = wire(document)
    response_validator().validate(document)
    response = assert_round_trips(document, AccountsGetResponse)
    for account in response.accounts:
        balances = attrs.astuple(account.balances, recurse=False)[:3]
        assert all(type(amount) in (Decimal, type(None)) for amount in balances)


@REWRITTEN_DOCUMENTS
@given(responses, st.data())
def test_unknown_fields_at_every_level_come_back_out_of_unstructure(
    document: Any, data: st.DataObject
) -> None:
    def add_unknown_fields(value: Any, schema: dict[str, Any]) -> Any:
        if isinstance(value, dict) and "properties" in schema:
            return {**value, **data.draw(unknown_fields)}
        return value

    document = wire(rewrite(document, response_schema(), add_unknown_fields))
    response = assert_round_trips(document, AccountsGetResponse)
    assert all(model.extra for model in models_in(response))


@REWRITTEN_DOCUMENTS
@given(responses, st.data())
def test_unknown_enum_values_stay_plain_strings_and_round_trip(
    document: Any, data: st.DataObject
) -> None:
    def unknown_enum_value(value: Any, schema: dict[str, Any]) -> Any:
        return data.draw(unknown_enum_values) if "enum" in schema else value

    document = wire(rewrite(document, response_schema(), unknown_enum_value))
    response = assert_round_trips(document, AccountsGetResponse)
    # Every enum position holds an unknown value now, so no member may appear anywhere.
    for model in models_in(response):
        for field in attrs.fields(type(model)):
            value = getattr(model, field.name)
            for item in value if isinstance(value, tuple) else (value,):
                assert not isinstance(item, enum.Enum), (field.name, item)
    assert type(response.item.update_type) is str  # required, so always replaced


def optional_keys(schema: dict[str, Any]) -> list[str]:
    return [key for key in schema["properties"] if key not in schema.get("required", ())]


@REWRITTEN_DOCUMENTS
@given(responses, st.data())
def test_absent_empty_and_present_optional_keys_all_come_back_as_sent(
    document: Any, data: st.DataObject
) -> None:
    """Every optional key of every object, absent or there (a list empty or not): what was
    not sent is not made up (``products`` absent is not ``[]``), what was sent comes back."""
    shapes: dict[str, str] = {}

    def vary(value: Any, schema: dict[str, Any]) -> Any:
        if not (isinstance(value, dict) and "properties" in schema):
            return value
        value = dict(value)
        for key in optional_keys(schema):
            choice = data.draw(st.sampled_from(["absent", "empty", "as drawn"]), label=key)
            items = schema["properties"][key].get("type") == "array"
            if choice == "absent":
                value.pop(key, None)
            elif choice == "empty" and items:
                value[key] = []
            shapes.setdefault(key, choice)
        return value

    document = wire(rewrite(document, response_schema(), vary))
    response_validator().validate(document)
    response = assert_round_trips(document, AccountsGetResponse)
    item = document["item"]
    for key in ("products", "consented_products"):
        value = getattr(response.item, key)
        if key not in item:
            assert value is None
        else:
            assert value == tuple(item[key])


@pytest.mark.parametrize(
    ("products", "attribute", "back"),
    [
        (None, None, None),  # not sent: None, and not sent back
        ([], (), []),
        (["auth", "balance"], (enums.Products.AUTH, enums.Products.BALANCE), ["auth", "balance"]),
    ],
)
def test_item_products_absent_is_none_and_stays_absent(
    products: list[str] | None, attribute: Any, back: list[str] | None
) -> None:
    item: dict[str, Any] = {
        "item_id": "i",
        "webhook": None,
        "error": None,
        "available_products": [],
        "billed_products": [],
        "consent_expiration_time": None,
        "update_type": "background",
    }
    if products is not None:
        item["products"] = products
        item["consented_products"] = products
    structured = converter.structure(item, Item)
    assert structured.products == attribute
    assert structured.consented_products == attribute
    unstructured = converter.unstructure(structured)
    assert unstructured == item
    assert unstructured.get("products", "absent") == ("absent" if back is None else back)


@ERROR_BODIES
@given(error_bodies)
def test_generated_error_bodies_structure_and_round_trip(document: Any) -> None:
    assert_round_trips(wire(document), PlaidErrorBody)


# --------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------


@st.composite
def json_numbers(draw: st.DrawFn) -> str:
    """The text of any JSON number: big or small, up to 10 fractional digits, any exponent."""
    sign = draw(st.sampled_from(["", "-"]))
    integer = draw(st.integers(0, 999) | st.integers(0, 10**40))
    fraction = draw(st.text("0123456789", min_size=1, max_size=10).map(".".__add__) | st.just(""))
    exponent = draw(
        st.just("")
        | st.builds(
            "{}{}{}".format,
            st.sampled_from("eE"),
            st.sampled_from(["", "+", "-"]),
            st.integers(0, 400),
        )
    )
    return f"{sign}{integer}{fraction}{exponent}"


BODY_WITH_NUMBER = json.dumps(
    {
        "accounts": [{"account_id": "a", "balances": {"FIELD": "NUMBER"}}],
        "item": {"item_id": "i"},
        "request_id": "r",
    }
)


@SMALL_DOCUMENTS
@given(number=json_numbers(), field=st.sampled_from(["available", "current", "limit"]))
@example(number="0.1", field="current")
@example(number="9007199254740993", field="current")  # 2**53 + 1: no float holds it
@example(number="1.0000000000000001", field="available")
@example(number="-123456789012345678901234567890.1234567890", field="limit")
@example(number="1E+400", field="current")
@example(number="100", field="available")
def test_any_json_number_is_the_exact_decimal(number: str, field: str) -> None:
    body = BODY_WITH_NUMBER.replace('"FIELD"', json.dumps(field)).replace('"NUMBER"', number)
    response = decode_response(200, {}, body.encode(), AccountsGetResponse)
    amount = getattr(response.accounts[0].balances, field)
    # A JSON integer is an int to the parser (so -0 is 0); anything else is its exact text.
    expected = Decimal(int(number)) if re.fullmatch(r"-?\d+", number) else Decimal(number)
    assert type(amount) is Decimal
    assert amount.as_tuple() == expected.as_tuple()  # same digits and exponent, not just equal
    assert converter.unstructure(response)["accounts"][0]["balances"][field] is amount


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_number_constants_that_json_does_not_have_are_a_response_error(constant: str) -> None:
    """Python's json module reads these; RFC 8259 has no such numbers, and a Decimal NaN as a
    balance would break every comparison made with it."""
    body = BODY_WITH_NUMBER.replace('"FIELD"', '"current"').replace('"NUMBER"', constant)
    with pytest.raises(PlaidResponseError):
        decode_response(200, {}, body.encode(), AccountsGetResponse)


# --------------------------------------------------------------------------------------------
# Date-times
# --------------------------------------------------------------------------------------------


@st.composite
def rfc3339_datetimes(draw: st.DrawFn) -> tuple[str, dt.datetime]:
    """An RFC 3339 date-time (offset or Z, up to 6 fractional digits) and the instant it means."""
    moment = draw(st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)))
    fraction = draw(st.text("0123456789", max_size=6))
    minutes = draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1))
    if minutes == 0:
        offset = draw(st.sampled_from(["Z", "z", "+00:00", "-00:00"]))
    else:
        offset = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        + draw(st.sampled_from("Tt"))
        + f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
        + (f".{fraction}" if fraction else "")
        + offset
    )
    instant = moment.replace(
        microsecond=int(fraction.ljust(6, "0")),
        tzinfo=dt.timezone(dt.timedelta(minutes=minutes)),
    )
    return text, instant


@SMALL_DOCUMENTS
@given(rfc3339_datetimes())
@example(
    (
        "2024-02-29T23:59:59.999999-23:59",
        dt.datetime(2024, 3, 1, 23, 58, 59, 999999, tzinfo=dt.timezone.utc),
    )
)
@example(
    ("0001-01-01T00:00:00+01:00", dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))))
)
def test_any_rfc3339_date_time_is_the_same_aware_instant(sample: tuple[str, dt.datetime]) -> None:
    text, instant = sample
    document = {"item_id": "i", "consent_expiration_time": text}
    item = assert_round_trips(document, Item)
    moment = item.consent_expiration_time
    assert moment is not None
    assert moment.utcoffset() is not None
    assert moment == instant


def test_a_huge_integral_exponent_in_an_integer_field_is_a_response_error() -> None:
    """``int()`` of ``1E+5000000000`` would build five billion digits; it is refused instead."""
    body = json.dumps(
        {"accounts": [], "item": {"item_id": "i", "error": {"status": "STATUS"}}, "request_id": "r"}
    ).replace('"STATUS"', "1e5000000000")
    with pytest.raises(PlaidResponseError):
        decode_response(200, {}, body.encode(), AccountsGetResponse)
