"""One name for each thing: endpoint paths from endpoints.py only, Plaid's limits written once,
every exception in the drawn tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from plaid_async import Budgets, errors
from plaid_async.endpoints import ACCOUNTS_BALANCE_GET_PATH, ACCOUNTS_GET_PATH, ENDPOINTS
from plaid_async.sandbox import RateLimits

PACKAGE = Path(errors.__file__).parent


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_endpoint_paths_are_written_only_in_endpoints_py() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "endpoints.py"
        for line, value in _code_strings(path)
        if value in ENDPOINTS
    ]
    assert found == []


@pytest.mark.parametrize("environment", ["production", "sandbox"])
def test_the_presets_and_the_emulator_have_the_same_limits(environment: str) -> None:
    budgets = Budgets.for_environment(environment)
    limits = getattr(RateLimits, environment)()
    assert limits.window == budgets.per_client[ACCOUNTS_GET_PATH].per
    assert limits.balance_per_client == budgets.per_client[ACCOUNTS_BALANCE_GET_PATH].limit
    assert limits.balance_per_item == budgets.per_item[ACCOUNTS_BALANCE_GET_PATH].limit
    assert limits.accounts_get_per_client == budgets.per_client[ACCOUNTS_GET_PATH].limit
    assert limits.accounts_get_per_item == budgets.per_item[ACCOUNTS_GET_PATH].limit


def _exception_classes() -> list[str]:
    return [
        name
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), BaseException)
    ]


def test_every_exception_is_in_the_drawn_tree() -> None:
    tree = errors.__doc__ or ""
    drawn = set(re.findall(r"[├└]── (\w+)", tree))
    assert set(_exception_classes()) == drawn | {"PlaidError"}


def test_the_errors_guide_draws_the_same_tree() -> None:
    guide = (PACKAGE.parent / "docs" / "errors.md").read_text()
    drawn = guide.split("```text\n", 1)[1].split("```", 1)[0]
    in_docstring = (errors.__doc__ or "").split("::\n\n", 1)[1].split("\n\n")[0]
    assert drawn.split() == in_docstring.split()
    assert set(re.findall(r"[├└]── (\w+)", drawn)) | {"PlaidError"} == set(_exception_classes())


def test_the_classification_functions_moved_but_the_old_names_work() -> None:
    from plaid_async import protocol

    assert errors.error_from_response is protocol.error_from_response
    assert errors.retry_after_seconds is protocol.retry_after_seconds
    with pytest.raises(AttributeError):
        errors.no_such_name  # noqa: B018
