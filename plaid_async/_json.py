"""JSON out, with money written exactly: a ``Decimal`` becomes a JSON number, never a float.

``json.dumps`` cannot write a ``Decimal`` as a number without going through ``float`` (which would
turn ``23631.9805`` into whatever the binary value prints as), so this small encoder writes the
few types that Plaid's answers and ``converter.unstructure`` hold. The emulator writes its answers
with it, and the command writes its output with it.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

__all__ = ["dumps", "format_decimal"]

_escape: Callable[[str], str] = (
    json.encoder.encode_basestring
)  # as json.dumps(s, ensure_ascii=False)


def format_decimal(value: Decimal) -> str:
    """A finite ``Decimal`` as the shortest JSON number with its value: ``65262``,
    ``23631.9805``, ``110.5`` (trailing zeros dropped, as a float-writing server would)."""
    if not value.is_finite():
        raise ValueError(f"JSON has no number for {value}")
    if abs(value.adjusted()) > 1000:
        # Written out, ``1E+5000000000`` would be five billion digits: keep the exponent.
        return str(value)  # exact, with its exponent: no context to overflow or round
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def dumps(value: object) -> bytes:
    """``value`` (dicts, lists, str, int, bool, None, Decimal) as compact UTF-8 JSON."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def _write(value: object, out: list[str]) -> None:
    # Strings go through json's own C escaper rather than ``json.dumps``, which builds an
    # encoder on every call that passes options: the difference is most of this function's time.
    if isinstance(value, str):
        out.append(_escape(value))
    elif value is None or isinstance(value, bool):
        out.append("null" if value is None else "true" if value else "false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))  # an IntEnum too: its number, not its name
    elif isinstance(value, Decimal):
        out.append(format_decimal(value))
    elif isinstance(value, dict | Mapping):
        out.append("{")
        separator = ""
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
            out.append(separator + _escape(key) + ":")
            separator = ","
            _write(item, out)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
