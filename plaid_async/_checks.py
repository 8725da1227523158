"""The one rule for bad arguments, in one place.

A wrong type is a ``TypeError``, a wrong value (NaN, an infinity, a negative, out of range,
empty) a ``ValueError``, and the message starts with the argument's name, so that the line at
fault is obvious. ``bool`` is not a number here: ``True`` for a count is a mistake. Every public
constructor, method and setter checks its arguments with these before anything is sent or
started; an attrs field checks with :func:`validator`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Any, TypeVar

__all__ = [
    "check_bool",
    "check_callable",
    "check_choice",
    "check_instance",
    "check_int",
    "check_number",
    "check_positive",
    "check_positive_int",
    "check_probability",
    "check_rate",
    "check_seconds",
    "check_str",
    "validator",
]

T = TypeVar("T")


def _type_name(value: object) -> str:
    return type(value).__name__


def check_instance(name: str, value: T, types: type | tuple[type, ...], what: str = "") -> T:
    """``value`` if it is one of ``types``; ``what`` says what is expected in the message."""
    if not isinstance(value, types):
        if not what:
            names = types if isinstance(types, tuple) else (types,)
            what = " or ".join(
                ("an " if t.__name__[0] in "AEIOU" else "a ") + t.__name__ for t in names
            )
        raise TypeError(f"{name} must be {what}, not {_type_name(value)}")
    return value


def check_callable(name: str, value: T) -> T:
    if not callable(value):
        raise TypeError(f"{name} must be callable, not {_type_name(value)}")
    return value


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {_type_name(value)}")
    return value


def check_str(name: str, value: object) -> str:
    """A string with something in it besides whitespace."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {_type_name(value)}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """One of the strings ``choices``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {_type_name(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}")
    return value


def check_int(
    name: str, value: object, *, minimum: int | None = 0, maximum: int | None = None
) -> int:
    """An ``int`` (not a ``bool``, not a whole ``float``) from ``minimum`` to ``maximum``
    (None: unbounded)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {_type_name(value)}")
    if minimum is None:
        return value
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is not None:
            bounds = f"an int from {minimum} to {maximum}"
        else:
            bounds = "a positive int" if minimum == 1 else f"an int of at least {minimum}"
        raise ValueError(f"{name} must be {bounds}, not {value}")
    return value


def check_positive_int(name: str, value: object) -> int:
    """An ``int`` of at least 1."""
    return check_int(name, value, minimum=1)


def check_number(
    name: str,
    value: object,
    what: str,
    *,
    minimum: float = -math.inf,
    allow_minimum: bool = True,
    maximum: float = math.inf,
) -> float:
    """A finite ``int`` or ``float`` (not a ``bool``) from ``minimum`` to ``maximum``, as a
    ``float``; ``allow_minimum=False`` leaves ``minimum`` itself out. ``what`` is what the
    messages say is expected, e.g. ``"a positive, finite number of seconds"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be {what}, not {_type_name(value)}")
    if not (
        math.isfinite(value)
        and (minimum <= value if allow_minimum else minimum < value)
        and value <= maximum
    ):
        raise ValueError(f"{name} must be {what}, not {value!r}")
    return float(value)


def check_seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A finite number of seconds: positive, or also 0 with ``allow_zero``.

    Checked on every call that passes its own ``timeout``, so a good value takes the short way.
    """
    if (
        value.__class__ is float or value.__class__ is int
    ) and 0 < value < math.inf:  # NaN is not > 0
        return float(value)
    if allow_zero:
        return check_number(name, value, "a finite number of seconds, 0 or more", minimum=0.0)
    return check_number(
        name, value, "a positive, finite number of seconds", minimum=0.0, allow_minimum=False
    )


def check_positive(name: str, value: object, what: str = "a positive, finite number") -> float:
    """A positive, finite number: a factor, a rate."""
    return check_number(name, value, what, minimum=0.0, allow_minimum=False)


def check_rate(name: str, value: object) -> float:
    """A positive, finite number of requests per second."""
    return check_positive(name, value, "a positive, finite number of requests per second")


def check_probability(name: str, value: object) -> float:
    """A probability, from 0 to 1."""
    return check_number(name, value, "a probability from 0 to 1", minimum=0.0, maximum=1.0)


def validator(
    check: Callable[..., object], *, allow_none: bool = False, **options: Any
) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that calls ``check(field name, value, **options)``; with
    ``allow_none``, None passes unchecked."""

    def validate(_: object, attribute: Any, value: object) -> None:
        if value is None and allow_none:
            return
        check(attribute.name, value, **options)

    return validate
