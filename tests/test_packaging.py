"""What a user installs: the licence in the repository, the sdist and the wheel; the project
URLs; the examples in the sdist; the vendored spec's source and licence notice."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pytest brings tomli before 3.11
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


PYPROJECT = _pyproject()


def test_the_licence_is_the_mit_licence_the_metadata_names() -> None:
    licence = (ROOT / "LICENSE").read_text("utf-8")
    assert licence.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in licence
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]


def test_the_project_urls() -> None:
    urls = PYPROJECT["project"]["urls"]
    assert set(urls) == {"Homepage", "Source", "Issues", "Documentation", "Changelog"}
    assert all(
        url.startswith("https://github.com/plaid-async/plaid-async") for url in urls.values()
    )


def test_the_sdist_takes_the_examples_the_licence_and_the_contributor_guide() -> None:
    include = PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    for name in ("examples", "LICENSE", "CONTRIBUTING.md", "README.md", "CHANGELOG.md"):
        assert name in include
        assert (ROOT / name).exists()


def test_the_vendored_spec_keeps_its_source_and_licence_notice() -> None:
    head = (ROOT / "tests" / "spec" / "plaid-accounts.yml").read_text("utf-8")[:4096]
    assert "# Source repo:   https://github.com/plaid/plaid-openapi" in head
    assert "# Source commit: " in head
    assert "# Copyright Plaid Inc. Licence:" in head


@pytest.mark.slow
@pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("build", "twine", "hatchling")),
    reason="needs build, twine and hatchling: pip install build twine hatchling",
)
def test_the_built_sdist_and_wheel() -> None:
    """``tools/check_dist.py``: builds both and checks their contents and ``twine check``."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, str(ROOT / "tools" / "check_dist.py"), "--no-isolation"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
