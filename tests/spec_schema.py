"""Plaid's official OpenAPI subset (``tests/spec/plaid-accounts.yml``), as JSON Schema.

The models are written by hand; tests hold them to this spec, and the emulator's tests can check
its responses against it::

    from tests.spec_schema import json_schema, validate

    validate(body, "AccountsGetResponse")  # raises jsonschema.ValidationError if it does not fit

Conversion from OpenAPI 3.0 to JSON Schema (draft 7):

- every ``$ref`` to ``#/components/schemas/...`` is inlined (the subset has no recursive schema;
  one would raise ``ValueError``); keys beside a ``$ref`` are ignored, as OpenAPI 3.0 says;
- ``nullable: true`` admits ``null``: ``"null"`` joins ``type``, ``None`` joins ``enum`` (if not
  already there), and a schema with neither is wrapped in ``anyOf: [..., {"type": "null"}]``;
- OpenAPI-only keys are dropped: ``nullable``, ``example``, ``externalDocs``, ``xml``,
  ``discriminator`` and every ``x-...`` extension (``x-examples`` included); ``format`` stays.

:func:`document_differences` compares a JSON document with what ``converter.unstructure`` gives
back for it, under the normalizations the models promise (documented there).

If the spec file is missing, every spec function raises :class:`SpecNotFoundError`, which says
where it was looked for, so a test that needs the spec fails with that message (CI always has it).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import typing
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import yaml

from plaid_async import converter

__all__ = [
    "SPEC_PATH",
    "SpecNotFoundError",
    "document_differences",
    "json_schema",
    "load_spec",
    "spec_components",
    "to_json_schema",
    "validate",
]

SPEC_PATH = Path(__file__).resolve().parent / "spec" / "plaid-accounts.yml"
"""Plaid's official subset, kept beside the tests as data (a verbatim copy of the project's
``shared/spec/plaid-accounts.yml``) so that a clean clone runs the fidelity tests."""

_DIALECT = "http://json-schema.org/draft-07/schema#"
_REF_PREFIX = "#/components/schemas/"
_OPENAPI_ONLY = frozenset({"nullable", "example", "externalDocs", "xml", "discriminator"})
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")  # name -> schema
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")  # [schema, ...]
_SCHEMA_VALUES = ("items", "additionalProperties", "not", "additionalItems")  # schema (or bool)


class SpecNotFoundError(FileNotFoundError):
    """The spec file is not where the tests expect it."""


@functools.cache
def _load() -> dict[str, Any]:
    if not SPEC_PATH.is_file():
        raise SpecNotFoundError(
            f"Plaid's OpenAPI subset is missing: expected it at {SPEC_PATH} "
            "(tests/spec/plaid-accounts.yml). The spec tests cannot run without it."
        )
    with SPEC_PATH.open(encoding="utf-8") as f:
        spec: dict[str, Any] = yaml.safe_load(f)
    return spec


def load_spec() -> dict[str, Any]:
    """The whole OpenAPI document, as loaded from YAML (a fresh copy on each call)."""
    return copy.deepcopy(_load())


def spec_components() -> dict[str, Any]:
    """``components.schemas`` of the spec, unconverted OpenAPI (a fresh copy on each call)."""
    schemas: dict[str, Any] = copy.deepcopy(_load()["components"]["schemas"])
    return schemas


def to_json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Any OpenAPI schema object of this spec (a component, or one from ``paths``) as a
    self-contained JSON Schema (draft 7) document."""
    components = _load()["components"]["schemas"]
    return {"$schema": _DIALECT, **_convert(schema, components, ())}


def json_schema(name: str) -> dict[str, Any]:
    """The component schema ``name`` (``"AccountsGetResponse"``, ``"PlaidError"``, ...) as a
    self-contained JSON Schema (draft 7) document."""
    components = _load()["components"]["schemas"]
    if name not in components:
        raise KeyError(f"no component schema {name!r} in {SPEC_PATH.name}")
    return to_json_schema(components[name])


def validate(instance: Any, name: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``instance`` fits component ``name``."""
    jsonschema.Draft7Validator(json_schema(name)).validate(instance)


def _convert(
    schema: Mapping[str, Any], components: Mapping[str, Any], seen: tuple[str, ...]
) -> dict[str, Any]:
    if "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith(_REF_PREFIX):
            raise ValueError(f"unsupported $ref {ref!r}: only {_REF_PREFIX}... is resolved")
        name = ref.removeprefix(_REF_PREFIX)
        if name in seen:
            raise ValueError(f"recursive schema: {' -> '.join((*seen, name))}")
        return _convert(components[name], components, (*seen, name))

    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OPENAPI_ONLY or key.startswith("x-"):
            continue
        if key in _SCHEMA_MAPS:
            out[key] = {k: _convert(v, components, seen) for k, v in value.items()}
        elif key in _SCHEMA_LISTS:
            out[key] = [_convert(v, components, seen) for v in value]
        elif key in _SCHEMA_VALUES and isinstance(value, Mapping):
            out[key] = _convert(value, components, seen)
        else:
            out[key] = copy.deepcopy(value)

    if schema.get("nullable") is True:
        if "type" not in out and "enum" not in out:
            return {"anyOf": [out, {"type": "null"}]}
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = types if "null" in types else [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


# --------------------------------------------------------------------------------------------
# Comparing a document with what the models give back
# --------------------------------------------------------------------------------------------


def document_differences(sent: Mapping[str, Any], returned: Any, cls: type) -> list[str]:
    """How ``returned`` (``converter.unstructure`` of a model) differs from ``sent`` (the JSON
    document structured into the attrs class ``cls``). The round trip is exact:

    - a key of ``sent`` comes back with the same value: strings exactly and as plain ``str``
      (never an enum member), date-times as the very text sent, numbers exactly (a ``Decimal``
      with the same digits and exponent: ``1.10`` is not ``1.1``; an integer as an equal
      number; ``true`` is not ``1``), ``null`` as ``null``, objects and lists recursively;
    - a key that ``sent`` lacks is not in ``returned`` either (absent is not empty, nor null);
    - the one leniency, for what Plaid's schema forbids: ``null`` for a field that cannot hold
      it (a required list, ``balances``) comes back as its default unstructured (``[]``,
      all-``None`` balances).

    An empty list means no difference. Every list is a JSON array (``list``), never a tuple.
    """
    return list(_model_differences(sent, returned, cls, "$"))


def _nullable(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def _model_differences(sent: Any, returned: Any, cls: type, path: str) -> Iterator[str]:
    if not isinstance(sent, Mapping) or type(returned) is not dict:
        yield f"{path}: sent {sent!r}, got back {returned!r}"
        return
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in attrs.fields(cls) if f.name not in ("extra", "_absent")}
    for key in sorted({*sent, *returned}):
        where = f"{path}.{key}"
        if key not in returned:
            yield f"{where}: sent {sent[key]!r}, missing from the output"
        elif key not in sent:
            yield f"{where}: not sent, but in the output: {returned[key]!r}"
        elif key in fields and sent[key] is None and not _nullable(hints[key]):
            default = fields[key].default
            if default is attrs.NOTHING:
                yield f"{where}: a required field, sent {sent.get(key)!r}"
                continue
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory()
            expected = converter.unstructure(default)
            if not _same_json(expected, returned[key]):
                yield f"{where}: sent null, expected {expected!r}, got {returned[key]!r}"
        elif key in fields:
            yield from _value_differences(sent[key], returned[key], hints[key], where)
        elif not _same_json(sent[key], returned[key]):
            yield f"{where}: unknown field sent {sent[key]!r}, got back {returned[key]!r}"


def _value_differences(sent: Any, returned: Any, hint: Any, path: str) -> Iterator[str]:
    if sent is None:
        if returned is not None:
            yield f"{path}: sent null, got back {returned!r}"
        return
    if typing.get_origin(hint) is tuple:
        members = [hint]
    else:
        members = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    tuples = [m for m in members if typing.get_origin(m) is tuple]
    if tuples:
        (item,) = typing.get_args(tuples[0])[:1]
        if type(sent) is not list or type(returned) is not list or len(sent) != len(returned):
            yield f"{path}: sent {sent!r}, got back {returned!r}"
            return
        for i, (one_sent, one_returned) in enumerate(zip(sent, returned, strict=True)):
            yield from _value_differences(one_sent, one_returned, item, f"{path}[{i}]")
        return
    models = [m for m in members if attrs.has(m)]
    if models:
        yield from _model_differences(sent, returned, models[0], path)
    elif dt.datetime in members:
        if type(returned) is not str or returned != sent:
            yield f"{path}: sent {sent!r}, got back {returned!r}: not the text sent"
    elif not _same_json(sent, returned):
        yield f"{path}: sent {sent!r}, got back {returned!r}"


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: a ``Decimal`` by its digits and exponent, an integer by value,
    booleans, strings and null by type too."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, Decimal):
        return isinstance(b, Decimal) and a.as_tuple() == b.as_tuple()
    if isinstance(a, int | float) and isinstance(b, int | float | Decimal):
        return a == b
    if isinstance(a, str):
        return type(b) is str and a == b
    if isinstance(a, list):
        return type(b) is list and len(a) == len(b) and all(map(_same_json, a, b))
    if isinstance(a, Mapping):
        return (
            isinstance(b, Mapping)
            and a.keys() == b.keys()
            and all(_same_json(a[k], b[k]) for k in a)
        )
    return False
