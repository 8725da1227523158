"""tools/mutation_report.py: the per-module score from mutmut's results, equivalents set apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.mutation_report import main

MODULE = "plaid_async/ratelimit.py"


def _results(tmp_path: Path, codes: dict[str, int | None]) -> Path:
    mutants = tmp_path / "mutants"
    meta = mutants / (MODULE + ".meta")
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes, "durations_by_key": {}}))
    return mutants


def _equivalents(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "equivalent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(mutants: Path, equivalent: Path, *extra: str) -> int:
    return main(["--mutants", str(mutants), "--equivalent", str(equivalent), *extra])


def test_equivalents_are_not_survivors_and_a_mutant_not_run_is_not_killed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mutants = _results(
        tmp_path,
        {"m.killed": 1, "m.timeout": 36, "m.survived": 0, "m.same": 0, "m.untested": None},
    )
    equivalent = _equivalents(
        tmp_path,
        '[[equivalent]]\nmutant = "m.same"\nreason = "cannot change behaviour"\n',
    )
    assert _run(mutants, equivalent) == 0
    out = capsys.readouterr().out
    # 5 mutants: 2 killed (a timeout counts), 1 survived, 1 equivalent, 1 not run: 2 / 4,
    # and 2 / 3 of those that ran.
    assert f"| {MODULE} | 5 | 2 | 1 | 1 | 0 | 1 | 50.0% | 66.7% |" in out
    assert "  m.survived" in out
    assert "  m.same" not in out


def test_out_of_reach_mutants_are_not_run_and_not_killed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mutants = _results(tmp_path, {"m.killed": 1, "m.import_time": 0, "m.survived": 0})
    equivalent = _equivalents(
        tmp_path,
        '[[out_of_reach]]\nmutant = "m.import_time"\nreason = "runs at import"\n',
    )
    assert _run(mutants, equivalent) == 0
    out = capsys.readouterr().out
    # 3 mutants: 1 killed, 1 survived, 1 out of reach: 1 / 3, and 1 / 2 of those that ran.
    assert f"| {MODULE} | 3 | 1 | 1 | 0 | 1 | 0 | 33.3% | 50.0% |" in out
    assert "  m.import_time" not in out


def test_an_out_of_reach_entry_needs_a_reason(tmp_path: Path) -> None:
    mutants = _results(tmp_path, {"m.a": 0})
    equivalent = _equivalents(tmp_path, '[[out_of_reach]]\nmutant = "m.a"\n')
    with pytest.raises(SystemExit, match=r"an \[\[out_of_reach\]\] needs a mutant and a reason"):
        _run(mutants, equivalent)


def test_a_module_below_the_minimum_score_fails(tmp_path: Path) -> None:
    mutants = _results(tmp_path, {"m.a": 1, "m.b": 0})
    equivalent = tmp_path / "none.toml"
    assert _run(mutants, equivalent, "--min-score", "0.9") == 1
    assert _run(mutants, equivalent, "--min-score", "0.5") == 0


def test_stale_equivalents_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mutants = _results(tmp_path, {"m.killed": 1})
    equivalent = _equivalents(
        tmp_path,
        '[[equivalent]]\nmutant = "m.killed"\nreason = "r"\n'
        '[[equivalent]]\nmutant = "m.gone"\nreason = "r"\n',
    )
    _run(mutants, equivalent)
    out = capsys.readouterr().out
    assert "m.killed: listed as equivalent, but a test kills it" in out
    assert "m.gone: no such mutant" in out


def test_an_equivalent_without_a_reason_is_refused(tmp_path: Path) -> None:
    mutants = _results(tmp_path, {"m.a": 0})
    equivalent = _equivalents(tmp_path, '[[equivalent]]\nmutant = "m.a"\nreason = " "\n')
    with pytest.raises(SystemExit, match="needs a mutant and a reason"):
        _run(mutants, equivalent)


def test_no_results_is_an_error(tmp_path: Path) -> None:
    assert _run(tmp_path / "mutants", tmp_path / "none.toml") == 1
