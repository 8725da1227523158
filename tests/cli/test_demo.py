"""``plaid-async demo``: runs without credentials or network and prints its summary."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import entry_points

from plaid_async.cli.demo import ITEM_STATES, demo_tokens

from .conftest import invoke, subprocess_env


def test_demo_prints_its_summary() -> None:
    result = invoke("demo", "--items", "60", "--seed", "3", "--latency-scale", "0.05")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"^60 Items in [\d.]+ s: \d+ Items/s$", out, re.M)
    ok = int(re.search(r"^  ok\s+(\d+)$", out, re.M)[1])  # type: ignore[index]
    failed = int(re.search(r"^  failed\s+(\d+)", out, re.M)[1])  # type: ignore[index]
    assert ok + failed == 60
    assert re.search(r"^  retries\s+\d+  on \d+ Items$", out, re.M)
    assert re.search(r"^  latency  p50 [\d.]+ m?s, p95 [\d.]+ m?s$", out, re.M)
    assert re.search(r"^  emulator\s+\d+  requests; faults injected: ", out, re.M)
    # The Items generated in an error state fail with their codes, and are counted by code.
    tokens = demo_tokens(60, 3)
    for code in ITEM_STATES:
        count = sum(f"error_{code}-" in token for token in tokens)
        if count:
            assert f"{code} {count}" in out
    assert "Refreshing balances: 60/60 done" in result.stderr  # progress goes to stderr
    assert "Refreshing balances" not in out


def test_demo_items_are_reproducible_and_some_need_attention() -> None:
    tokens = demo_tokens(1000, 7)
    assert tokens == demo_tokens(1000, 7)
    assert tokens != demo_tokens(1000, 8)
    assert len(set(tokens)) == 1000
    for code, share in ITEM_STATES.items():
        count = sum(f"error_{code}-" in token for token in tokens)
        assert share * 1000 / 3 < count < share * 1000 * 3


def test_demo_bad_flags_are_usage_errors() -> None:
    result = invoke("demo", "--items", "0")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_the_console_script_runs_the_demo() -> None:
    (script,) = entry_points(group="console_scripts", name="plaid-async")
    assert script.value == "plaid_async.cli:main"
    command = [sys.executable, "-c", "from plaid_async.cli import main; main()"]
    command += ["demo", "--items", "20", "--seed", "1", "--latency-scale", "0.01"]
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        command, capture_output=True, env=subprocess_env(), timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"20 Items in" in done.stdout


BLOCK_RICH = """
import importlib.abc, sys

class NoRich(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "rich":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoRich())
from plaid_async.cli import main
main()
"""


def test_without_the_cli_extra_one_line_says_what_to_install() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", BLOCK_RICH, "demo"],
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines() == [
        "Error: plaid-async needs rich, from the cli extra: pip install 'plaid-async[cli]'"
    ]
