"""Developer sessions: ``nox -s tests``, ``lint``, ``typecheck``, ``docs``; ``bench`` (not by
default)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (slow tests excluded; pass ``-- -m slow`` for those)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, the tests and the docs tooling."""
    session.install("-e", ".[test,lint,docs]")
    session.run("mypy", "--strict")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, built with ``--strict``: a broken link or reference fails."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def bench(session: nox.Session) -> None:
    """The batch benchmarks: figures, not pass or fail; minutes on 2 cores."""
    session.install("-e", ".[cli]")
    session.run("python", "benchmarks/batch_throughput.py", *session.posargs)
    session.run("python", "benchmarks/batch_memory.py")
