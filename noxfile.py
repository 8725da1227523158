"""Developer sessions: ``nox -s tests``, ``lint``, ``typecheck``, ``docs``, ``bench``."""

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
    """Every benchmark: figures, not pass or fail (docs/performance.md, docs/many-items.md).

    The client benchmark is quick unless given arguments, such as ``-- -n 3000 -r 9``; the
    batch ones take minutes on 2 cores.
    """
    session.install("-e", ".[test,cli]")  # plaid-python, the official client, is in the test extra
    session.run("python", "benchmarks/bench_client.py", *(session.posargs or ["--quick"]))
    session.run("python", "benchmarks/batch_throughput.py")
    session.run("python", "benchmarks/batch_memory.py")
