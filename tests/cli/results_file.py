"""Reading a results file back in tests: its lines, by token digest."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from plaid_async._redact import fingerprint


def read_results(path: Path, *, repeats: bool = False) -> dict[str, dict[str, Any]]:
    """The current line of each token of ``path`` (its last), by ``token_sha256``; fails on a
    cut-short line, and on a repeated token unless ``repeats``."""
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "the file ends with a cut-short line"
    results: dict[str, dict[str, Any]] = {}
    for line in data.splitlines():
        record = json.loads(line, parse_float=Decimal)
        assert repeats or record["token_sha256"] not in results, "a token has two lines"
        results[record["token_sha256"]] = record
    return results


def digests(tokens: list[str]) -> set[str]:
    return {fingerprint(token) for token in tokens}
