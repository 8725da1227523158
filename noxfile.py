"""Developer sessions: ``nox -s tests``, ``lint``, ``typecheck``, ``docs``, ``coverage``,
``archlint``, ``mutate``, ``bench``.

``nox`` alone runs what CI runs (``.ci/run``): the tests on every Python the classifiers in
``pyproject.toml`` name, then lint, import contracts, types, docs and coverage.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "archlint", "typecheck", "docs", "coverage"]
nox.options.reuse_venv = "yes"
# uv builds the virtualenvs and installs into them when it is on PATH (`.ci/run` installs it):
# ten times faster than pip, which is what makes all of CI fit in 25 minutes on 2 cores. The
# sessions run the same commands either way (`pip install -e '.[test]'` becomes
# `uv pip install -e '.[test]'`).
nox.options.default_venv_backend = "uv|virtualenv"

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS: list[str] = nox.project.python_versions(PYPROJECT)
"""The Pythons the package promises (its ``Programming Language :: Python :: 3.x`` classifiers):
adding a classifier adds a test session, as in stamina's noxfile."""

DEFAULT_PYTHON = "3.11"
"""The Python of the sessions that need only one: lint, types, docs, coverage, mutation."""

COVERAGE_FLOOR = 92
"""Branch coverage of the package under the default suite must not fall below this percentage.
Measured at 95% (3,528 statements and 836 branches, Python 3.11, `nox -s coverage`) when set:
the floor sits three points under, so that an unrelated change does not fail CI and a module
left untested does. The same number is ``fail_under`` in ``pyproject.toml``'s
``[tool.coverage.report]``."""


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The README's test command (slow tests excluded; pass ``-- -m slow`` for those)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=DEFAULT_PYTHON)
def archlint(session: nox.Session) -> None:
    """The layers drawn in docs/architecture.md, checked by import-linter's contracts in
    ``pyproject.toml``: a module that imports across a layer fails here."""
    session.install("-e", ".[lint,cli,redis]")  # the third-party packages the contracts name
    session.run("lint-imports")


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, the tests and the docs tooling."""
    session.install("-e", ".[test,lint,docs]")
    session.run("mypy", "--strict")


@nox.session(python=DEFAULT_PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site, built with ``--strict``: a broken link or reference fails."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=DEFAULT_PYTHON)
def coverage(session: nox.Session) -> None:
    """The default suite under branch coverage; fails below ``COVERAGE_FLOOR`` percent.

    The report lists the lines and branches no test reaches, module by module.
    """
    session.install("-e", ".[test]", "coverage[toml]>=7.6")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report", f"--fail-under={COVERAGE_FLOOR}")


@nox.session(python=DEFAULT_PYTHON)
def mutate(session: nox.Session) -> None:
    """Mutation testing of the core (``[tool.mutmut]`` in ``pyproject.toml``), then the score
    of each module, equivalent mutants (tests/mutation/equivalent.toml) set apart.

    Long: run it by hand, not in CI. ``nox -s mutate -- 'plaid_async.ratelimit*'`` mutates
    the functions whose names match (mutmut's own argument); results are kept in
    ``mutants/`` and a second run retests only what changed. CONTRIBUTING.md says how to read
    a survivor.
    """
    session.install("-e", ".[test]", "mutmut>=3.8,<4")
    session.run("mutmut", "run", *session.posargs)
    session.run("python", "tools/mutation_report.py")


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """Every benchmark: figures, not pass or fail (docs/performance.md, docs/many-items.md).

    The client benchmark is quick unless given arguments, such as ``-- -n 3000 -r 9``; the
    batch ones take minutes on 2 cores.
    """
    session.install("-e", ".[test,cli]")  # plaid-python, the official client, is in the test extra
    session.run("python", "benchmarks/bench_client.py", *(session.posargs or ["--quick"]))
    session.run("python", "benchmarks/batch_throughput.py")
    session.run("python", "benchmarks/batch_memory.py")
