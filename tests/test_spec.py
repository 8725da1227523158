"""The hand-written models held to Plaid's official schema (``tests/spec_schema.py``).

Names, enums and nullability must follow the spec; where the models are deliberately more lenient
(every response field but the three ids accepts ``null``), that is checked here too.
"""

from __future__ import annotations

import copy
import enum
import json
import re
import typing
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest

from plaid_async import converter, enums
from plaid_async.errors import PlaidResponseError
from plaid_async.models import (
    AccountBalance,
    AccountBase,
    AccountsBalanceGetRequest,
    AccountsBalanceGetRequestOptions,
    AccountsGetRequest,
    AccountsGetRequestOptions,
    AccountsGetResponse,
    AccountVerificationInsights,
    Item,
    NetworkStatus,
    PlaidErrorBody,
    PreviousReturns,
)
from plaid_async.protocol import decode_response
from tests import spec_schema
from tests.spec_schema import (
    document_differences,
    json_schema,
    load_spec,
    spec_components,
    to_json_schema,
)

# Where each model's schema is: a component, then property names down to it.
SCHEMA_OF: dict[type, tuple[str, ...]] = {
    AccountsGetResponse: ("AccountsGetResponse",),
    AccountBase: ("AccountBase",),
    AccountBalance: ("AccountBalance",),
    Item: ("Item",),
    PlaidErrorBody: ("PlaidError",),
    AccountVerificationInsights: ("AccountVerificationInsights",),
    NetworkStatus: ("AccountVerificationInsights", "network_status"),
    PreviousReturns: ("AccountVerificationInsights", "previous_returns"),
    AccountsGetRequest: ("AccountsGetRequest",),
    AccountsGetRequestOptions: ("AccountsGetRequest", "options"),
    AccountsBalanceGetRequest: ("AccountsBalanceGetRequest",),
    AccountsBalanceGetRequestOptions: ("AccountsBalanceGetRequest", "options"),
}
REQUEST_MODELS = (
    AccountsGetRequest,
    AccountsGetRequestOptions,
    AccountsBalanceGetRequest,
    AccountsBalanceGetRequestOptions,
)
RESPONSE_MODELS = tuple(m for m in SCHEMA_OF if m not in REQUEST_MODELS)

# Model fields the spec does not have, and why.
NOT_IN_SPEC: dict[type, set[str]] = {
    **{m: {"extra"} for m in RESPONSE_MODELS},  # unknown fields Plaid sent, kept for unstructure
    AccountBase: {"extra", "apy"},  # spec 1.721.1 adds apy; our subset is 1.697.4
}

NEVER_NULL = {(AccountBase, "account_id"), (Item, "item_id"), (AccountsGetResponse, "request_id")}
# Keys a response must have (a body without them answers some other call), though null is read.
REQUIRED_KEYS = {(AccountsGetResponse, "accounts"), (AccountsGetResponse, "item")}

# Each enum of the spec, with the open enum of the package that must hold all its values.
ENUMS: list[tuple[type[enum.Enum], tuple[str, ...]]] = [
    (enums.AccountType, ("AccountType",)),
    (enums.AccountSubtype, ("AccountSubtype",)),
    (enums.AccountHolderCategory, ("AccountHolderCategory",)),
    (enums.ItemAuthMethod, ("ItemAuthMethod",)),
    (enums.PlaidErrorType, ("PlaidErrorType",)),
    (enums.Products, ("Products",)),
    (enums.VerificationStatus, ("AccountBase", "verification_status")),
    (enums.AccountNumberFormat, ("AccountVerificationInsights", "account_number_format")),
    (enums.ItemUpdateType, ("Item", "update_type")),
]

# A response that fits the spec and has every field of every response model (checked below).
FULL_RESPONSE: dict[str, Any] = {
    "accounts": [
        {
            "account_id": "blgvvBlXw3cq5GMPwqB6s6q4dLKB9WcVqGDGo",
            "balances": {
                "available": 100,
                "current": 110.25,
                "limit": None,
                "iso_currency_code": "USD",
                "unofficial_currency_code": None,
                "last_updated_datetime": "2024-05-01T10:00:00+02:00",
            },
            "mask": "0000",
            "name": "Plaid Checking",
            "official_name": "Plaid Gold Standard 0% Interest Checking",
            "type": "depository",
            "subtype": "checking",
            "verification_status": "database_insights_pass",
            "verification_name": "Alberta Bobbeth Charleson",
            "verification_insights": {
                "name_match_score": 70,
                "network_status": {"has_numbers_match": True, "is_numbers_match_verified": False},
                "previous_returns": {"has_previous_administrative_return": False},
                "account_number_format": "valid",
            },
            "persistent_account_id": "8cfb8beb89b774ee43b090625f0d61d0814322b43bff984eaf",
            "holder_category": "personal",
        }
    ],
    "item": {
        "item_id": "DWVAAPWq4RHGlEaNyGKRTAnPLaEmo8Cvq7na6",
        "institution_id": "ins_117650",
        "institution_name": "Royal Bank of Plaid",
        "webhook": "https://www.genericwebhookurl.com/webhook",
        "auth_method": "INSTANT_AUTH",
        "error": {
            "error_type": "ITEM_ERROR",
            "error_code": "ITEM_LOGIN_REQUIRED",
            "error_code_reason": "OAUTH_CONSENT_EXPIRED",
            "error_message": "the login details of this item have changed",
            "display_message": "Please update your credentials.",
            "request_id": "m8MDnv9okwxFNBV",
            "causes": [],
            "status": 400,
            "documentation_url": "https://plaid.com/docs/errors/item/#item_login_required",
            "suggested_action": None,
            "required_account_subtypes": ["checking"],
            "provided_account_subtypes": ["savings"],
        },
        "available_products": ["balance", "identity"],
        "billed_products": ["auth", "transactions"],
        "products": ["auth", "transactions"],
        "consented_products": ["auth", "transactions", "identity"],
        "consent_expiration_time": "2025-01-01T00:00:00Z",
        "update_type": "background",
    },
    "request_id": "bkVE1BHWMAZ9Rnr",
}

# Where each response model sits in FULL_RESPONSE.
PLACE_OF: dict[type, tuple[str | int, ...]] = {
    AccountsGetResponse: (),
    AccountBase: ("accounts", 0),
    AccountBalance: ("accounts", 0, "balances"),
    AccountVerificationInsights: ("accounts", 0, "verification_insights"),
    NetworkStatus: ("accounts", 0, "verification_insights", "network_status"),
    PreviousReturns: ("accounts", 0, "verification_insights", "previous_returns"),
    Item: ("item",),
    PlaidErrorBody: ("item", "error"),
}


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def schema_at(location: tuple[str, ...]) -> dict[str, Any]:
    """The JSON Schema at ``location``: a component, then property names."""
    schema = json_schema(location[0])
    del schema["$schema"]
    for name in location[1:]:
        schema = schema["properties"][name]
    return schema


def admits_null(schema: dict[str, Any]) -> bool:
    return bool(jsonschema.Draft7Validator(schema).is_valid(None))


def hint_of(model: type, name: str) -> Any:
    return typing.get_type_hints(model)[name]


def hint_admits_none(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def is_tuple_hint(hint: Any) -> bool:
    return typing.get_origin(hint) is tuple


def field_names(model: type) -> set[str]:
    """The model's fields for the document's keys (not ``_absent``, which records which keys
    were missing)."""
    return {f.name for f in attrs.fields(model) if f.name != "_absent"}


def model_in(hint: Any) -> type | None:
    """The attrs class a field holds (alone, in a union, or as the items of a tuple)."""
    for candidate in (hint, *typing.get_args(hint)):
        if attrs.has(candidate):
            return typing.cast(type, candidate)
        if is_tuple_hint(candidate):
            return model_in(typing.get_args(candidate)[0])
    return None


def enum_in(hint: Any) -> type[enum.Enum] | None:
    """The enum class of an open-enum field (``E | str | None``, or a tuple of ``E | str``,
    optional or not)."""
    if is_tuple_hint(hint):
        return enum_in(typing.get_args(hint)[0])
    tuples = [m for m in typing.get_args(hint) if is_tuple_hint(m)]
    if tuples:
        return enum_in(tuples[0])
    members = typing.get_args(hint)
    if str not in members:
        return None
    found = [m for m in members if isinstance(m, type) and issubclass(m, enum.Enum)]
    return found[0] if len(found) == 1 else None


def spec_values(schema: dict[str, Any]) -> list[Any]:
    """The values of an enum schema (or of an array of one), without ``null``."""
    schema = schema.get("items", schema)
    return [v for v in schema["enum"] if v is not None]


def field_id(model: type, name: str) -> str:
    return f"{model.__name__}.{name}"


def at(document: Any, place: tuple[str | int, ...]) -> Any:
    for step in place:
        document = document[step]
    return document


def model_at(response: AccountsGetResponse, place: tuple[str | int, ...]) -> Any:
    obj: Any = response
    for step in place:
        obj = obj[step] if isinstance(step, int) else getattr(obj, step)
    return obj


def wire(document: Any) -> Any:
    """``document`` as the client reads it off the wire: JSON, with money parsed as Decimal."""
    return json.loads(json.dumps(document), parse_float=Decimal)


def by_model(models: Sequence[type]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("model", models, ids=[m.__name__ for m in models])


# --------------------------------------------------------------------------------------------
# The converted schema itself
# --------------------------------------------------------------------------------------------


def _walk(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


@pytest.mark.parametrize(
    "name", sorted(["AccountsGetResponse", "PlaidError", "AccountsGetRequest"])
)
def test_json_schema_is_valid_draft7_without_openapi_keys(name: str) -> None:
    schema = json_schema(name)
    jsonschema.Draft7Validator.check_schema(schema)
    keys = {k for node in _walk(schema) if isinstance(node, dict) for k in node}
    assert not keys & {"$ref", "nullable", "example", "x-examples"}


def test_json_schema_turns_nullable_into_a_union_with_null() -> None:
    subtype = schema_at(("AccountBase", "subtype"))
    assert subtype["type"] == ["string", "null"]
    assert subtype["enum"][-1] is None
    assert subtype["enum"].count(None) == 1
    auth_method = schema_at(("Item", "auth_method"))  # null is already in this enum
    assert auth_method["enum"].count(None) == 1
    assert schema_at(("Item", "error"))["type"] == ["object", "null"]
    assert not admits_null(schema_at(("AccountBase", "type")))


def test_missing_spec_fails_with_a_message_naming_the_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "plaid-accounts.yml"
    monkeypatch.setattr(spec_schema, "SPEC_PATH", missing)
    spec_schema._load.cache_clear()
    with pytest.raises(spec_schema.SpecNotFoundError, match=re.escape(str(missing))):
        json_schema("AccountsGetResponse")
    spec_schema._load.cache_clear()  # an exception is not cached, but be sure


# --------------------------------------------------------------------------------------------
# document_differences: the comparison the round-trip tests rely on must see what it should
# --------------------------------------------------------------------------------------------

SENT_ITEM: dict[str, Any] = {
    "item_id": "i",
    "consent_expiration_time": "2024-01-01T10:00:00+02:00",
    "update_type": "background",
    "billed_products": ["auth"],
    "x_new": {"a": [1, Decimal("2.50")]},
}


def test_document_differences_accepts_an_exact_round_trip() -> None:
    returned = converter.unstructure(converter.structure(SENT_ITEM, Item))
    assert returned == SENT_ITEM
    assert document_differences(SENT_ITEM, returned, Item) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("consent_expiration_time", "2024-01-01T10:00:00Z"),  # another instant
        ("consent_expiration_time", "2024-01-01T08:00:00.000Z"),  # the same, written otherwise
        ("update_type", enums.ItemUpdateType.BACKGROUND),  # a member, not a plain str
        ("billed_products", ("auth",)),  # a tuple, not a JSON array
        ("products", None),  # absent must stay absent, not null
        ("products", []),  # ... nor empty
        ("x_new", {"a": [True, Decimal("2.5")]}),  # true is not 1
        ("x_new", {"a": [1, Decimal("2.5")]}),  # 2.50 is not 2.5
        ("institution_id", None),  # absent must stay absent
        ("surprise", 1),  # neither a field nor sent
    ],
)
def test_document_differences_reports_every_other_change(key: str, value: Any) -> None:
    returned = converter.unstructure(converter.structure(SENT_ITEM, Item))
    assert document_differences(SENT_ITEM, {**returned, key: value}, Item) != []


def test_document_differences_reports_a_dropped_unknown_field() -> None:
    returned = converter.unstructure(converter.structure(SENT_ITEM, Item))
    del returned["x_new"]
    assert document_differences(SENT_ITEM, returned, Item) != []


# --------------------------------------------------------------------------------------------
# Field names
# --------------------------------------------------------------------------------------------


@by_model(list(SCHEMA_OF))
def test_every_spec_property_is_a_model_field(model: type) -> None:
    properties = set(schema_at(SCHEMA_OF[model])["properties"])
    assert properties - field_names(model) == set()


@by_model(list(SCHEMA_OF))
def test_every_model_field_is_in_the_spec_or_allowlisted(model: type) -> None:
    properties = set(schema_at(SCHEMA_OF[model])["properties"])
    # Exactly the allowlist: an entry the spec has caught up with must leave the list.
    assert field_names(model) - properties == NOT_IN_SPEC.get(model, set())


@by_model(list(SCHEMA_OF))
def test_nested_models_sit_where_the_spec_puts_their_schema(model: type) -> None:
    schema = schema_at(SCHEMA_OF[model])
    for name, prop in schema["properties"].items():
        inner = prop.get("items", prop)
        nested = model_in(hint_of(model, name))
        if "properties" in inner:
            assert nested is not None, f"{name} is an object in the spec, not a model"
            expected = schema_at(SCHEMA_OF[nested])
            assert {**inner, "type": "object"} == {**expected, "type": "object"}, name
        else:
            assert nested is None, f"{name} is a model, but not an object in the spec"


# --------------------------------------------------------------------------------------------
# Enums
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("enum_cls", "location"), ENUMS, ids=[e.__name__ for e, _ in ENUMS])
def test_every_spec_enum_value_is_a_member_of_the_open_enum(
    enum_cls: type[enum.Enum], location: tuple[str, ...]
) -> None:
    values = spec_values(schema_at(location))
    assert values
    assert all(isinstance(v, str) for v in values), values  # 529 must not load as an int
    members = {m.value for m in enum_cls}
    assert [v for v in values if v not in members] == []


@by_model(RESPONSE_MODELS)
def test_every_enum_in_the_spec_is_typed_as_its_open_enum(model: type) -> None:
    """Found by walking the spec, so a new enum field cannot be left out of ``ENUMS``."""
    known = dict(ENUMS)
    for name, prop in schema_at(SCHEMA_OF[model])["properties"].items():
        if "enum" not in prop.get("items", prop):
            continue
        enum_cls = enum_in(hint_of(model, name))
        assert enum_cls is not None, f"{name} is an enum in the spec, not an open enum here"
        assert enum_cls in known, f"{enum_cls.__name__} is missing from ENUMS"
        assert spec_values(prop) == spec_values(schema_at(known[enum_cls])), name


def test_enum_member_values_are_all_strings() -> None:
    for enum_cls, _ in ENUMS:
        assert all(type(m.value) is str for m in enum_cls), enum_cls


@pytest.mark.parametrize("sent", ["529", 529], ids=["string", "bare-number"])
def test_digit_only_subtype_is_the_string_member(sent: object) -> None:
    account = converter.structure({"account_id": "a", "subtype": sent}, AccountBase)
    assert account.subtype is enums.AccountSubtype.PLAN_529
    assert converter.unstructure(account)["subtype"] == "529"


# --------------------------------------------------------------------------------------------
# Null and absent fields
# --------------------------------------------------------------------------------------------


@by_model(list(SCHEMA_OF))
def test_spec_nullable_or_optional_fields_accept_none(model: type) -> None:
    schema = schema_at(SCHEMA_OF[model])
    required = set(schema.get("required", ()))
    fields = attrs.fields_dict(model)
    for name, prop in schema["properties"].items():
        if name in required and not admits_null(prop):
            continue
        hint = hint_of(model, name)
        if is_tuple_hint(hint):  # a list: absent and null are the empty tuple
            assert fields[name].default == (), name
        else:
            assert hint_admits_none(hint), f"{name}: spec allows null or absence, typed {hint}"
        if name not in required:
            assert fields[name].default is not attrs.NOTHING, f"optional {name} needs a default"


@by_model(RESPONSE_MODELS)
def test_every_response_field_is_typed_to_accept_null_except_the_ids(model: type) -> None:
    for field in attrs.fields(model):
        hint = hint_of(model, field.name)
        if field.name in ("extra", "_absent"):
            continue
        if (model, field.name) in NEVER_NULL:
            assert hint is str, field.name
            assert field.default is attrs.NOTHING, field.name
        elif (model, field.name) in REQUIRED_KEYS:
            assert field.default is attrs.NOTHING, field.name
            assert is_tuple_hint(hint) or hint_admits_none(hint), field.name
        elif is_tuple_hint(hint):
            assert field.default == (), field.name
        elif (model, field.name) == (AccountBase, "balances"):
            assert field.default == attrs.Factory(AccountBalance)
        else:
            assert hint_admits_none(hint), f"{field_id(model, field.name)} is typed {hint}"


def test_full_response_fits_the_spec_and_has_every_field() -> None:
    jsonschema.Draft7Validator(json_schema("AccountsGetResponse")).validate(FULL_RESPONSE)
    for model, place in PLACE_OF.items():
        assert set(at(FULL_RESPONSE, place)) == field_names(model) - NOT_IN_SPEC[model]


RESPONSE_FIELDS = [
    pytest.param(model, f.name, id=field_id(model, f.name))
    for model in PLACE_OF
    for f in attrs.fields(model)
    if f.name not in ("extra", "_absent") and (model, f.name) not in NEVER_NULL
]


@pytest.mark.parametrize(("model", "name"), RESPONSE_FIELDS)
def test_null_in_any_response_field_but_the_ids_structures(model: type, name: str) -> None:
    document = copy.deepcopy(FULL_RESPONSE)
    at(document, PLACE_OF[model])[name] = None
    response = converter.structure(wire(document), AccountsGetResponse)
    value = getattr(model_at(response, PLACE_OF[model]), name)
    if is_tuple_hint(hint_of(model, name)):
        assert value == ()
    elif (model, name) == (AccountBase, "balances"):
        assert value == AccountBalance()
    else:
        assert value is None


@pytest.mark.parametrize(
    ("model", "name"),
    [
        pytest.param(model, name, id=field_id(model, name))
        for model, name in sorted(NEVER_NULL, key=str)
    ],
)
def test_null_id_does_not_structure(model: type, name: str) -> None:
    document = copy.deepcopy(FULL_RESPONSE)
    at(document, PLACE_OF[model])[name] = None
    with pytest.raises(TypeError, match="expected a string, got NoneType"):
        converter.structure(wire(document), AccountsGetResponse)
    # What the client makes of it: a schema break, not retried.
    with pytest.raises(PlaidResponseError, match="does not fit AccountsGetResponse") as info:
        decode_response(200, {}, json.dumps(document).encode(), AccountsGetResponse)
    assert not info.value.transient


# --------------------------------------------------------------------------------------------
# The spec's own examples
# --------------------------------------------------------------------------------------------


def _examples(media: dict[str, Any]) -> list[Any]:
    content = media["content"]["application/json"]
    found = [e["value"] for e in content.get("examples", {}).values()]
    return found + ([content["example"]] if "example" in content else [])


@pytest.mark.parametrize("path", ["/accounts/get", "/accounts/balance/get"])
def test_spec_response_examples_structure_and_round_trip(path: str) -> None:
    responses = load_spec()["paths"][path]["post"]["responses"]
    examples = _examples(responses["200"])
    assert examples, f"no example for {path}"
    for example in map(wire, examples):
        jsonschema.Draft7Validator(json_schema("AccountsGetResponse")).validate(example)
        response = converter.structure(example, AccountsGetResponse)
        unstructured = converter.unstructure(response)
        assert converter.structure(unstructured, AccountsGetResponse) == response
        assert document_differences(example, unstructured, AccountsGetResponse) == []


def test_spec_component_examples_structure() -> None:
    """``example`` on a response component: none in spec 1.697.4 (its ``x-examples`` are empty
    placeholders and are not examples of a valid object), so this guards future versions."""
    components = spec_components()
    for model in RESPONSE_MODELS:
        location = SCHEMA_OF[model]
        raw = components[location[0]]
        for name in location[1:]:
            raw = components[raw["properties"][name]["$ref"].rsplit("/", 1)[1]]
        if "example" in raw:
            example = wire(raw["example"])
            jsonschema.Draft7Validator(to_json_schema(raw)).validate(example)
            structured: Any = converter.structure(example, model)
            assert converter.structure(converter.unstructure(structured), model) == structured


@pytest.mark.parametrize(
    ("path", "model"),
    [("/accounts/get", AccountsGetRequest), ("/accounts/balance/get", AccountsBalanceGetRequest)],
)
def test_spec_request_examples_structure_and_unstructure_to_themselves(
    path: str, model: type
) -> None:
    examples = _examples(load_spec()["paths"][path]["post"]["requestBody"])
    assert examples, f"no request example for {path}"
    for example in examples:
        jsonschema.Draft7Validator(json_schema(model.__name__)).validate(example)
        # Requests send only the fields they were given: exactly the example.
        assert converter.unstructure(converter.structure(example, model)) == example


def test_the_vendored_spec_is_the_projects_copy() -> None:
    """``tests/spec`` is a verbatim copy plus a licence notice in its header comment; where the
    project's shared copy is present, the schema is the same bytes and every header line is kept."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "spec" / "plaid-accounts.yml"
    if not shared.is_file():
        pytest.skip("no shared/spec beside this checkout (a clean clone)")
    ours_header, ours_body = _header_and_body(spec_schema.SPEC_PATH.read_text("utf-8"))
    their_header, their_body = _header_and_body(shared.read_text("utf-8"))
    assert ours_body == their_body
    assert [line for line in ours_header if line in their_header] == their_header
    assert any("Licence" in line for line in ours_header)


def _header_and_body(text: str) -> tuple[list[str], str]:
    """The leading ``#`` comment lines of a YAML file, and the rest of it."""
    lines = text.splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    return [line.rstrip("\n") for line in lines[:n]], "".join(lines[n:])
