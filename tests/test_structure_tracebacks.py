"""A traceback through a generated structure function shows its source lines, as cattrs'
generated functions do: the source is kept in linecache under a name of its own."""

from __future__ import annotations

import linecache
import traceback
from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from cattrs import Converter

from plaid_async import AccountBalance, AccountsGetResponse, converter
from plaid_async._structure import make_structure_fn


def _formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def test_a_failure_inside_a_generated_function_shows_its_source_line() -> None:
    with pytest.raises(KeyError, match="item") as info:
        converter.structure({"accounts": [], "request_id": "r"}, AccountsGetResponse)
    text = _formatted(info.value)
    assert 'File "<plaid_async structure plaid_async.models.AccountsGetResponse>"' in text
    assert "= d['item']" in text  # the line that failed, not a bare file name and number


def test_a_failure_in_a_nested_model_shows_each_generated_frame() -> None:
    with pytest.raises(TypeError, match="expected a number") as info:
        converter.structure({"current": [1]}, AccountBalance)
    text = _formatted(info.value)
    assert "<plaid_async structure plaid_async.models.AccountBalance>" in text
    assert "= _hook" in text  # the generated line that called the converter's hook


@attrs.frozen
class Sample:
    name: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, kw_only=True)


def _sample_fn(conv: Converter) -> Any:
    return make_structure_fn(
        Sample, conv, exact={}, enum_members=lambda hook: None, not_a_dict=lambda data: data
    )


def test_one_class_built_twice_with_different_source_keeps_both_sources() -> None:
    # A required field first, then (a different class body) the same name with a default:
    # each function's frames must show its own lines, not the other's.
    first = _sample_fn(Converter())
    first_file = first.__code__.co_filename

    @attrs.frozen
    class Sample2:
        name: str = "x"
        extra: Mapping[str, Any] = attrs.field(factory=dict, kw_only=True)

    Sample2.__qualname__ = Sample.__qualname__
    Sample2.__module__ = Sample.__module__
    second = make_structure_fn(
        Sample2,
        Converter(),
        exact={},
        enum_members=lambda hook: None,
        not_a_dict=lambda data: data,
    )
    second_file = second.__code__.co_filename
    assert first_file != second_file
    assert "if 'name' in d:" not in "".join(linecache.getlines(first_file))  # required
    assert "if 'name' in d:" in "".join(linecache.getlines(second_file))  # has a default
    assert _sample_fn(Converter()).__code__.co_filename == first_file  # same source, same name
