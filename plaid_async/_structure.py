"""Structure functions for the response models, generated per class for speed.

cattrs' generated functions call a Python hook for every field, and through ``X | None`` two
(its optional dispatcher, then the hook). Parsing a response is mostly those calls, so this
module writes one function per model that does the same work inline: a value whose type is
already right (a ``str`` for ``str``, a ``Decimal`` for ``Decimal``, a known enum value) is taken
as it is, and anything else goes to the converter's own hook for that type, so the rules (and
the errors) stay the ones in :mod:`plaid_async._convert`. A shortcut is used only when the
converter's hook for the type is the default one it stands for; a hook a user registers instead
is always called.

Missing keys behave as in cattrs: a required field is a ``KeyError``, a field with a default
gets it, and its name goes into the model's ``_absent`` (when it has that field), so that
unstructuring leaves it out again. Keys the model does not know go to ``extra``, in the order
they came. As cattrs does, each function's source is kept in :mod:`linecache`, so a traceback
through it shows its lines.
"""

from __future__ import annotations

import itertools
import linecache
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from cattrs import Converter
from cattrs.converters import BaseConverter

__all__ = ["make_structure_fn"]

Hook = Callable[[Any, Any], Any]

_OWN = ("extra", "_absent")
"""Fields of ours, not keys of the document."""


def make_structure_fn(
    cls: type,
    conv: Converter,
    *,
    exact: Mapping[type, Hook],
    enum_members: Callable[[Hook], Mapping[str, Any] | None],
    not_a_dict: Callable[[Any], Any],
) -> Callable[[Any, Any], Any]:
    """The structure function of the attrs class ``cls``, which has an ``extra`` field (and
    maybe an ``_absent`` one).

    :param exact: types whose instances need no work, with the converter's default hook for
        each (a value of another type is passed to it).
    :param enum_members: for a hook, the ``{value: member}`` map if it is the default
        open-enum hook (a ``str`` becomes its member or stays itself), else None.
    :param not_a_dict: what to do with a value that is not a ``dict``: return or raise.
    """
    attrs.resolve_types(cls)
    names: dict[str, Any] = {
        "_cls": cls,
        "_not_a_dict": not_a_dict,
        "_known": frozenset(a.name for a in attrs.fields(cls) if a.name not in _OWN),
    }
    lines: list[str] = []
    args: list[str] = []
    # cattrs reads the fields that have a default first, then the required ones: so do we, so
    # that a body with two faults fails on the same one.
    required: list[str] = []
    fetched: list[tuple[str, str]] = []  # (variable, key) of fields read with ``d.get``
    for i, a in enumerate(attrs.fields(cls)):
        if a.name in _OWN:
            continue
        if a.kw_only:
            raise TypeError(f"{cls.__name__}.{a.name}: keyword-only fields are not supported")
        var = f"f{i}"
        args.append(var)
        convert, none_is_none = _conversion(var, a.type, conv, exact, enum_members, names, i)
        key = repr(a.name)
        if a.default is attrs.NOTHING:  # required: a missing key is a KeyError, as in cattrs
            required.append(f"    {var} = d[{key}]")
            required.extend(f"    {line}" for line in convert)
        elif a.default is None and none_is_none:
            # Missing and null both give None, which is the default.
            fetched.append((var, a.name))
            lines.extend(f"    {line}" for line in convert)
        else:
            names[f"_default{i}"] = a.default
            lines.append(f"    if {key} in d:")
            lines.append(f"        {var} = d[{key}]")
            lines.extend(f"        {line}" for line in convert)
            lines.append("    else:")
            if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
                lines.append(f"        {var} = _default{i}.factory()")
            else:
                lines.append(f"        {var} = _default{i}")
    head = [
        "def structure(d, _=None):",
        "    if type(d) is not dict:",
        "        return _not_a_dict(d)",
    ]
    if fetched:  # all at once: map runs the lookups without a Python call each
        names["_fetched"] = tuple(key for _, key in fetched)
        head.append(f"    {', '.join(var for var, _ in fetched)}, = map(d.get, _fetched)")
    lines = head + lines + required + _construction(cls, args, names)
    source = "\n".join(lines) + "\n"
    name = f"<plaid_async structure {cls.__module__}.{cls.__qualname__}"
    filename = _register_source(name, source)
    exec(compile(source, filename, "exec"), names)  # noqa: S102
    function: Callable[[Any, Any], Any] = names["structure"]
    return function


def _register_source(name: str, source: str) -> str:
    """A file name for ``source`` that is its own in :mod:`linecache` (a class built twice,
    by two converters, gets two names), with the source stored under it."""
    lines = source.splitlines(True)
    for n in itertools.count(1):
        filename = f"{name}>" if n == 1 else f"{name}-{n}>"
        if filename not in linecache.cache or linecache.getlines(filename) == lines:
            break
    # No mtime: linecache.checkcache keeps such entries instead of looking for a file.
    linecache.cache[filename] = (len(source), None, lines, filename)
    return filename


def _construction(cls: type, args: list[str], names: dict[str, Any]) -> list[str]:
    """Lines that build the instance from ``args`` (every field but ``extra``, in order).

    attrs' ``__init__`` of a frozen class sets each slot through ``object.__setattr__``; when
    it does nothing else (no validator, converter or hook, no slot but the fields), setting
    the slots directly builds the same object in two thirds of the time.
    """
    fields = attrs.fields(cls)
    absent = any(a.name == "_absent" for a in fields)
    slots = set(getattr(cls, "__slots__", ())) - {"__weakref__"}
    plain = (
        slots == {a.name for a in fields}
        and all(a.validator is None and a.converter is None for a in fields)
        and not any(
            hasattr(cls, hook)
            for hook in ("__attrs_pre_init__", "__attrs_post_init__", "__attrs_init_subclass__")
        )
    )
    names["_missing"] = names["_known"].difference  # a dict's keys are looked up, not copied
    names["_n_known"] = len(names["_known"])
    unknown = "{k: v for k, v in d.items() if k not in _known}"
    lines = []
    if absent:
        # One set operation says both what is missing and (by counting) whether any key is
        # unknown: the known keys present are the others, so the rest of ``d`` is unknown.
        lines.append("    m = _missing(d)")
        all_known = "len(d) + len(m) == _n_known"
    else:
        names["_all_known"] = names["_known"].issuperset
        all_known = "_all_known(d)"
    if not plain:
        call = ", ".join(args) + (", _absent=m" if absent else "")
        return [
            *lines,
            f"    if {all_known}:",
            f"        return _cls({call})",
            f"    return _cls({call}, extra={unknown})",
        ]
    names["_new"] = object.__new__
    lines.append("    o = _new(_cls)")
    for a, var in zip((a for a in fields if a.name not in _OWN), args, strict=True):
        names[f"_set_{var}"] = cls.__dict__[a.name].__set__
        lines.append(f"    _set_{var}(o, {var})")
    names["_set_extra"] = cls.__dict__["extra"].__set__
    lines.append(f"    _set_extra(o, {{}} if {all_known} else {unknown})")
    if absent:
        names["_set_absent"] = cls.__dict__["_absent"].__set__
        lines.append("    _set_absent(o, m)")
    lines.append("    return o")
    return lines


def _optional_part(tp: Any) -> Any:
    """``X`` for ``X | None`` (one other type only), else None."""
    args = typing.get_args(tp)
    if type(None) not in args or typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    others = [a for a in args if a is not type(None)]
    return others[0] if len(others) == 1 else None


def _is_default_optional(hook: Hook, conv: Converter) -> bool:
    """Whether ``hook`` is cattrs' own ``X | None`` dispatcher of ``conv``."""
    return (
        getattr(hook, "__func__", None) is BaseConverter._structure_optional
        and getattr(hook, "__self__", None) is conv
    )


def _conversion(
    var: str,
    tp: Any,
    conv: Converter,
    exact: Mapping[type, Hook],
    enum_members: Callable[[Hook], Mapping[str, Any] | None],
    names: dict[str, Any],
    i: int,
) -> tuple[list[str], bool]:
    """Lines that turn the JSON value in ``var`` into the field's value, in place; and
    whether they are known to turn ``None`` into ``None``."""
    hook = conv.get_structure_hook(tp)
    names[f"_type{i}"] = tp
    members = enum_members(hook)
    if members is not None:
        names[f"_members{i}"] = members.get
        names[f"_hook{i}"] = hook
        lookup = f"_members{i}({var}, {var})"
        line = f"{var} = {lookup} if type({var}) is str else _hook{i}({var}, _type{i})"
        if type(None) in typing.get_args(tp):  # the hook turns None into None: skip the call
            return [f"if {var} is not None:", f"    {line}"], True
        return [line], False
    inner = _optional_part(tp)
    if inner is not None and _is_default_optional(hook, conv):
        inner_hook = conv.get_structure_hook(inner)
        names[f"_inner{i}"] = inner
        names[f"_hook{i}"] = inner_hook
        if exact.get(inner) is inner_hook:
            check = f"if {var} is not None and type({var}) is not _inner{i}:"
        else:
            check = f"if {var} is not None:"
        return [check, f"    {var} = _hook{i}({var}, _inner{i})"], True
    names[f"_hook{i}"] = hook
    if exact.get(tp) is hook:
        return [f"if type({var}) is not _type{i}:", f"    {var} = _hook{i}({var}, _type{i})"], False
    return [f"{var} = _hook{i}({var}, _type{i})"], False
