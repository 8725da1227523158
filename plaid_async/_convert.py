"""The cattrs converter: every rule for turning Plaid's JSON into models, and back, lives here.

- Money is ``Decimal``: JSON is parsed with ``parse_float=Decimal``, integral numbers become
  ``Decimal`` too, and no ``float`` is ever on the way.
- Date-times are timezone-aware (a string without an offset is UTC, as Plaid's are).
- Enums are open: a known value becomes its member, an unknown one stays a ``str``.
- Unknown fields are kept in each model's ``extra`` and written back on unstructure.
- A key the document did not have is left out on unstructure (each model's ``_absent``), and a
  date-time is written back as it was sent: for every document Plaid's schema allows,
  ``converter.unstructure(converter.structure(doc, AccountsGetResponse)) == doc``.
- ``null`` is accepted everywhere except ``account_id``, ``item_id`` and ``request_id``; a
  ``null`` list is an empty tuple (``None`` for the lists Plaid may leave out) and a ``null``
  ``balances`` an empty ``AccountBalance``.
- Requests unstructure to exactly the fields that were given: no ``None``, no extras.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import msgspec
from cattrs import Converter
from cattrs.gen import make_dict_unstructure_fn, override

from . import models
from ._structure import make_structure_fn

__all__ = ["converter", "format_datetime", "loads", "parse_datetime"]

converter = Converter(unstruct_collection_overrides={tuple: list})
"""The converter for every model of this package; ``converter.unstructure(resp)`` gives JSON-ready
data (money stays ``Decimal``), unknown fields included."""

_REQUESTS: tuple[type, ...] = (
    models.AccountsGetRequest,
    models.AccountsGetRequestOptions,
    models.AccountsBalanceGetRequest,
    models.AccountsBalanceGetRequestOptions,
)
_NULL_IS_EMPTY: frozenset[type] = frozenset({models.AccountBalance})

# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(data: bytes | str) -> Any:
    """JSON as Plaid sends it: every non-integral number a ``Decimal``, never a ``float``.

    ``NaN`` and ``Infinity``, which Python's json module reads but RFC 8259 does not have, are a
    ``ValueError``: a ``Decimal('NaN')`` balance would break every comparison made with it.
    """
    if type(data) is bytes:
        # msgspec reads JSON in less than half the time json does, and hands every
        # non-integral number's own text to ``Decimal``, so the result is the same. It is
        # stricter (no lone surrogates, no BOM, UTF-8 only): whatever it refuses is read
        # again by the json module below, which accepts it or raises the error it always did.
        try:
            return _FAST_DECODE(data)
        except (msgspec.DecodeError, RecursionError):
            pass
    # json.loads with these arguments would build a decoder on every call; this is its body
    # with one decoder built once.
    if isinstance(data, str):
        if data.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
    elif isinstance(data, bytes | bytearray):
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    else:
        raise TypeError(
            f"the JSON object must be str, bytes or bytearray, not {type(data).__name__}"
        )
    return _DECODER.decode(data)


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)
_FAST_DECODE = msgspec.json.Decoder(float_hook=Decimal).decode


# --------------------------------------------------------------------------------------------
# Scalars
# --------------------------------------------------------------------------------------------


def _type_error(expected: str, value: object) -> TypeError:
    return TypeError(f"expected {expected}, got {type(value).__name__}")


def _structure_decimal(value: object, _: object) -> Decimal:
    if type(value) is Decimal:
        return value
    if isinstance(value, bool):
        raise _type_error("a number", value)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        # Only reachable when a caller structures data it parsed itself: take the shortest
        # repr, which is what the sender wrote, not the binary float's full expansion.
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a number: {value[:40]!r}") from None
    raise _type_error("a number", value)


def _structure_str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)  # a mask or an id sent as a number still means its digits
    raise _type_error("a string", value)


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _type_error("a boolean", value)


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, bool):
        raise _type_error("an integer", value)
    if isinstance(value, int):
        return value
    # ``1E+5000000000`` is integral too, and ``int()`` of it would build five billion digits.
    if isinstance(value, Decimal) and value.adjusted() < 100 and value == value.to_integral_value():
        return int(value)
    raise _type_error("an integer", value)


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def parse_datetime(text: str) -> dt.datetime:
    """An RFC 3339 date-time as an aware ``datetime``, on any Python from 3.10.

    Fractions beyond microseconds are truncated; a missing offset means UTC; a leap second
    (``:60``) becomes the last microsecond of the minute, which ``datetime`` can hold.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {text[:40]!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    if second == 60:
        second, micro = 59, 999_999
    tz: dt.tzinfo = dt.timezone.utc
    if match.group(9):
        sign = 1 if match.group(9) == "+" else -1
        offset = dt.timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        tz = dt.timezone(sign * offset) if offset else dt.timezone.utc
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


class _SentDatetime(dt.datetime):
    """A ``datetime`` read from a document, which remembers the text it was read from, so
    that it is written back exactly (``+00:00`` stays ``+00:00``, ``.5`` stays ``.5``). Any
    arithmetic or ``replace`` gives a plain ``datetime``, written in the usual form."""

    __slots__ = ("_text",)
    _text: str


def _sent_datetime(text: str) -> dt.datetime:
    parsed = parse_datetime(text)
    sent = _SentDatetime(
        parsed.year,
        parsed.month,
        parsed.day,
        parsed.hour,
        parsed.minute,
        parsed.second,
        parsed.microsecond,
        tzinfo=parsed.tzinfo,
    )
    sent._text = text
    return sent


def format_datetime(value: dt.datetime) -> str:
    """An aware ``datetime`` as RFC 3339, UTC written as ``Z`` the way Plaid writes it; one
    read from a document as it was written there."""
    sent: str | None = getattr(value, "_text", None) if type(value) is _SentDatetime else None
    if sent is not None:
        return sent
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _structure_datetime(value: object, _: object) -> dt.datetime:
    if isinstance(value, str):
        return _sent_datetime(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    raise _type_error("an RFC 3339 date-time string", value)


converter.register_structure_hook(Decimal, _structure_decimal)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(dt.datetime, _structure_datetime)
converter.register_unstructure_hook(dt.datetime, format_datetime)

# --------------------------------------------------------------------------------------------
# Open enums: ``E | str`` and ``E | str | None``
# --------------------------------------------------------------------------------------------


def _union_args(tp: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return ()


def _open_enum_of(tp: Any) -> type[enum.Enum] | None:
    """The enum class of an open-enum annotation, or None if ``tp`` is not one."""
    members = [a for a in _union_args(tp) if a is not type(None)]
    if len(members) != 2 or str not in members:
        return None
    (other,) = (a for a in members if a is not str)
    return other if isinstance(other, type) and issubclass(other, enum.Enum) else None


class _OpenEnumHook:
    """The structure hook of one open enum: a known value becomes its member, any other
    string stays itself (``members`` is read by the generated model functions too)."""

    def __init__(self, tp: Any) -> None:
        enum_cls = _open_enum_of(tp)
        assert enum_cls is not None
        self.enum_cls = enum_cls
        self.members: Mapping[str, Any] = enum_cls._value2member_map_
        self.nullable = type(None) in _union_args(tp)

    def __call__(self, value: Any, _: Any) -> Any:
        if isinstance(value, str):
            return self.members.get(value, value)
        if value is None and self.nullable:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)  # a digit-only subtype such as 529, sent unquoted
            return self.members.get(text, text)
        raise _type_error(f"a {self.enum_cls.__name__} string", value)


def _unstructure_open_enum(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


converter.register_structure_hook_factory(lambda tp: _open_enum_of(tp) is not None, _OpenEnumHook)
converter.register_unstructure_hook_func(
    lambda tp: _open_enum_of(tp) is not None, _unstructure_open_enum
)

# --------------------------------------------------------------------------------------------
# Lists: a JSON array, or null as the empty tuple
# --------------------------------------------------------------------------------------------


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _structure_tuple_factory(tp: Any, conv: Converter) -> Callable[[Any, Any], Any]:
    item_type = typing.get_args(tp)[0]
    if item_type is Any:
        return lambda value, _: () if value is None else tuple(_as_list(value))
    item_hook = conv.get_structure_hook(item_type)
    if isinstance(item_hook, _OpenEnumHook):
        members = item_hook.members.get

        def structure_enums(value: Any, _: Any) -> tuple[Any, ...]:
            if value is None:
                return ()
            return tuple(
                [
                    members(item, item) if type(item) is str else item_hook(item, item_type)
                    for item in _as_list(value)
                ]
            )

        return structure_enums

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if value is None:
            return ()
        return tuple([item_hook(item, item_type) for item in _as_list(value)])

    return structure


def _as_list(value: Any) -> list[Any] | tuple[Any, ...]:
    if isinstance(value, list | tuple):
        return value
    raise _type_error("a JSON array", value)


converter.register_structure_hook_factory(_is_homogeneous_tuple, _structure_tuple_factory)

# --------------------------------------------------------------------------------------------
# Models: unknown fields kept in ``extra``; requests send only what was given
# --------------------------------------------------------------------------------------------


def _is_response_model(tp: Any) -> bool:
    return attrs.has(tp) and tp not in _REQUESTS


def _structure_model_factory(cls: type, conv: Converter) -> Callable[[Any, Any], Any]:
    null_is_empty = cls in _NULL_IS_EMPTY

    def not_a_dict(data: Any) -> Any:
        if data is None and null_is_empty:
            return cls()
        raise _type_error(f"a JSON object for {cls.__name__}", data)

    return make_structure_fn(
        cls, conv, exact=_EXACT, enum_members=_enum_members, not_a_dict=not_a_dict
    )


_EXACT: Mapping[type, Callable[[Any, Any], Any]] = {
    str: _structure_str,
    Decimal: _structure_decimal,
    bool: _structure_bool,
    int: _structure_int,
}
"""Types whose values are taken as they are when the converter's hook is this default one."""


def _enum_members(hook: Callable[[Any, Any], Any]) -> Mapping[str, Any] | None:
    return hook.members if isinstance(hook, _OpenEnumHook) else None


def _unstructure_model_factory(cls: type, conv: Converter) -> Callable[[Any], Any]:
    base: Callable[[Any], Any] = make_dict_unstructure_fn(
        cls, conv, extra=override(omit=True), _absent=override(omit=True)
    )

    def unstructure(obj: Any) -> dict[str, Any]:
        data: dict[str, Any] = base(obj)
        for name in obj._absent:
            del data[name]
        if obj.extra:
            data.update(obj.extra)
        return data

    return unstructure


converter.register_structure_hook_factory(_is_response_model, _structure_model_factory)
converter.register_unstructure_hook_factory(_is_response_model, _unstructure_model_factory)

converter.register_unstructure_hook_factory(
    lambda tp: tp in _REQUESTS,
    lambda cls, conv: make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True),
)
