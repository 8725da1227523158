"""The mutation score of each mutated module, from mutmut's results in ``mutants/``.

``python tools/mutation_report.py`` (``nox -s mutate`` runs it after ``mutmut run``) prints, per
module: mutants, killed, survived, equivalent, out of reach, not run, the score, killed /
(mutants - equivalent), and the same over the mutants that ran (*of run*). A survivor listed in
``tests/mutation/equivalent.toml`` as ``[[equivalent]]`` (it cannot change behaviour, for the
reason given there) counts as equivalent, not as a survivor; one listed as ``[[out_of_reach]]``
(mutmut cannot switch it on: the code ran at import, or its result was cached, before any
mutant was chosen) is not run. A mutant not run is not killed: the score counts it against
the module until a run reaches it. The survivors left are printed by name, for ``mutmut
show NAME``; an entry of the file whose mutant was killed or no longer exists is reported as
stale. Exit status 1 when a module that ran scores below ``--min-score``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# mutmut's exit codes (mutmut/stats.py), grouped by what they say about the tests.
_KILLED = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}  # failed, errored, timed out, crashed
_SURVIVED = {0, 5, 33, 35}  # passed, no test reached it, suspicious
_NOT_RUN = {None, 2, 34}  # not checked yet, interrupted, skipped

EQUIVALENT_FILE = Path("tests/mutation/equivalent.toml")


def load_toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # tomllib's original, which pytest installs on 3.10
        import tomli as tomllib
    data: dict[str, Any] = tomllib.loads(text)
    return data


def load_equivalents(path: Path, table: str = "equivalent") -> dict[str, str]:
    """``{mutant name: reason}`` from the equivalents file's ``[[table]]`` entries (equivalent,
    or out_of_reach); every entry must give a reason."""
    if not path.exists():
        return {}
    entries = load_toml(path.read_text("utf-8")).get(table, [])
    found: dict[str, str] = {}
    for entry in entries:
        name, reason = entry.get("mutant"), entry.get("reason")
        if not isinstance(name, str) or not isinstance(reason, str) or not reason.strip():
            raise SystemExit(f"{path}: an [[{table}]] needs a mutant and a reason: {entry}")
        found[name] = reason
    return found


def load_results(mutants: Path) -> dict[str, dict[str, int | None]]:
    """``{source file: {mutant name: exit code}}`` from mutmut's ``.meta`` files."""
    results = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        data = json.loads(meta.read_text("utf-8"))
        results[str(meta.relative_to(mutants))[: -len(".meta")]] = data["exit_code_by_key"]
    return results


def summarise(
    results: dict[str, dict[str, int | None]],
    equivalents: dict[str, str],
    out_of_reach: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """One row per module, the survivors left, and the stale entries of the equivalents file."""
    rows: list[dict[str, Any]] = []
    survivors: list[str] = []
    seen: set[str] = set()
    stale: list[str] = []
    out_of_reach = out_of_reach or {}
    for module, codes in results.items():
        counts: Counter[str] = Counter()
        for name, code in codes.items():
            seen.add(name)
            if code in _NOT_RUN:
                counts["not run"] += 1
            elif code in _KILLED:
                counts["killed"] += 1
                if name in equivalents or name in out_of_reach:
                    stale.append(f"{name}: listed as equivalent, but a test kills it")
            elif name in equivalents:
                counts["equivalent"] += 1
            elif name in out_of_reach:
                counts["out of reach"] += 1
            else:
                counts["survived"] += 1
                survivors.append(name)
                if code not in _SURVIVED:
                    counts["other"] += 1  # an exit code this script does not know: a survivor
        judged = len(codes) - counts["equivalent"]  # a mutant not run is not a mutant killed
        ran = judged - counts["out of reach"] - counts["not run"]
        rows.append(
            {
                "module": module,
                "mutants": len(codes),
                "killed": counts["killed"],
                "survived": counts["survived"],
                "equivalent": counts["equivalent"],
                "out of reach": counts["out of reach"],
                "not run": counts["not run"],
                "score": counts["killed"] / judged if judged else None,
                "of run": counts["killed"] / ran if ran else None,
            }
        )
    stale += [
        f"{name}: no such mutant" for name in {**equivalents, **out_of_reach} if name not in seen
    ]
    return rows, survivors, stale


def render(rows: list[dict[str, Any]]) -> str:
    head = ["module", "mutants", "killed", "survived", "equivalent", "out of reach", "not run"]
    head += ["score", "of run"]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for row in rows:
        scores = ["-" if row[k] is None else f"{row[k]:.1%}" for k in ("score", "of run")]
        cells = [row["module"], *(str(row[k]) for k in head[1:-2]), *scores]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--equivalent", type=Path, default=EQUIVALENT_FILE)
    parser.add_argument("--min-score", type=float, default=None, help="e.g. 0.9")
    args = parser.parse_args(argv)
    results = load_results(args.mutants)
    if not results:
        print(f"no mutmut results under {args.mutants}/: run `mutmut run` first", file=sys.stderr)
        return 1
    rows, survivors, stale = summarise(
        results,
        load_equivalents(args.equivalent),
        load_equivalents(args.equivalent, "out_of_reach"),
    )
    print(render(rows))
    if survivors:
        print(f"\n{len(survivors)} survivors (`mutmut show NAME` prints the change):")
        print("\n".join(f"  {name}" for name in sorted(survivors)))
    if stale:
        print(f"\nstale entries in {args.equivalent}:")
        print("\n".join(f"  {line}" for line in stale))
    low = [
        r["module"]
        for r in rows
        if args.min_score is not None and r["score"] is not None and r["score"] < args.min_score
    ]
    if low:
        print(f"\nbelow {args.min_score:.0%}: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
