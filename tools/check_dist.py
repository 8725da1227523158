"""Build the sdist and the wheel and check what a user installs: the licence, the project URLs,
the examples, the vendored spec's notice, and ``twine check``.

    python tools/check_dist.py [--no-isolation] [--outdir DIR]

Exits 1 with one line per problem. Needs ``build`` and ``twine`` (``pip install build twine``);
``--no-isolation`` builds with the hatchling already installed, without fetching it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URLS = ("Homepage", "Source", "Issues", "Documentation", "Changelog")
SDIST_FILES = (
    "LICENSE",
    "README.md",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "examples/quickstart.py",
    "tests/spec/plaid-accounts.yml",
)
SPEC_NOTICE = "# Copyright Plaid Inc. Licence:"


def build(outdir: Path, isolation: bool) -> tuple[Path, Path]:
    command = [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(outdir)]
    if not isolation:
        command.append("--no-isolation")
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    (sdist,) = outdir.glob("*.tar.gz")
    (wheel,) = outdir.glob("*.whl")
    return sdist, wheel


def wheel_problems(wheel: Path) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        licences = [n for n in names if "/licenses/" in n and n.endswith("/LICENSE")]
        if not licences:
            problems.append(f"{wheel.name}: no LICENSE in .dist-info/licenses/")
        elif b"MIT License" not in archive.read(licences[0]):
            problems.append(f"{wheel.name}: LICENSE is not the MIT licence")
    if metadata.get("License-Expression") != "MIT":
        problems.append(f"{wheel.name}: License-Expression is {metadata.get('License-Expression')}")
    labels = {url.partition(",")[0].strip() for url in metadata.get_all("Project-URL") or []}
    problems += [f"{wheel.name}: no Project-URL {label}" for label in URLS if label not in labels]
    if "plaid_async/py.typed" not in names:
        problems.append(f"{wheel.name}: no plaid_async/py.typed")
    return problems


def sdist_problems(sdist: Path) -> list[str]:
    problems = []
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
        problems += [f"{sdist.name}: no {name}" for name in SDIST_FILES if name not in names]
        spec = archive.extractfile(f"{top}/tests/spec/plaid-accounts.yml")
        head = spec.read(4096).decode() if spec is not None else ""
        if "# Source repo:" not in head or SPEC_NOTICE not in head:
            problems.append(f"{sdist.name}: the vendored spec lost its source or licence notice")
    return problems


def twine_problems(paths: list[Path]) -> list[str]:
    done = subprocess.run(  # noqa: S603 - this interpreter, our own files
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [] if done.returncode == 0 else [f"twine check: {done.stdout}{done.stderr}".strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-isolation", action="store_true")
    parser.add_argument("--outdir", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        outdir = args.outdir or Path(scratch)
        sdist, wheel = build(outdir, isolation=not args.no_isolation)
        problems = wheel_problems(wheel) + sdist_problems(sdist) + twine_problems([sdist, wheel])
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
