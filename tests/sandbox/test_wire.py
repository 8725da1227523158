"""Money leaves the emulator exactly as it is held: Decimals as JSON numbers, no float."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plaid_async.sandbox.wire import dumps, format_decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("23631.9805"), "23631.9805"),
        (Decimal("65262"), "65262"),
        (Decimal("110.50"), "110.5"),
        (Decimal("100.00"), "100"),
        (Decimal("-0.0001"), "-0.0001"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.1") + Decimal("0.2"), "0.3"),  # 0.30000000000000004 if it went via float
        (Decimal("12345678901234567.8901"), "12345678901234567.8901"),
    ],
)
def test_decimal_is_written_exactly(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text
    assert json.loads(dumps({"v": value}), parse_float=Decimal)["v"] == value


def test_dumps_writes_every_json_type() -> None:
    doc = {"s": 'é"\n', "n": None, "t": True, "f": False, "i": 3, "l": [Decimal("1.5"), []]}
    text = dumps(doc)
    assert text == '{"s":"é\\"\\n","n":null,"t":true,"f":false,"i":3,"l":[1.5,[]]}'.encode()
    assert json.loads(text, parse_float=Decimal) == doc


@pytest.mark.parametrize("bad", [1.5, Decimal("NaN"), Decimal("Infinity"), {1: "x"}, object()])
def test_dumps_refuses_what_json_cannot_hold_exactly(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        dumps({"v": bad})


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON_VALUES)
def test_dumps_writes_what_json_dumps_writes(value: object) -> None:
    """Without Decimals, the same bytes as the standard library's compact, non-ASCII output."""
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert dumps(value) == expected


@pytest.mark.parametrize("text", ["1E+5000000000", "-2.5E-4000000000"])
def test_a_huge_exponent_is_written_with_its_exponent(text: str) -> None:
    """Not as its billions of digits: a hostile server's number must not stall the CLI."""
    written = dumps({"v": Decimal(text)})
    assert json.loads(written, parse_float=Decimal)["v"] == Decimal(text)
    assert len(written) < 40
