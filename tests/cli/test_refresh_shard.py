"""``plaid-async refresh --shard K/N``: N runs split one tokens file, each resumable on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plaid_async.cli.results import _HEAD
from plaid_async.sandbox import SandboxServer
from plaid_async.shard import in_shard

from .conftest import ThreadedSandbox, one_line_error, refresh, write_tokens
from .results_file import digests, read_results

TOKENS = [SandboxServer.token(f"shard-{n}") for n in range(30)]


def shard(k: int, n: int, tokens: list[str] = TOKENS) -> list[str]:
    return [token for token in tokens if in_shard(token, k, n)]


def test_three_shards_cover_every_token_exactly_once(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", ["# nightly", *TOKENS, TOKENS[3]])
    files = {}
    for k in (1, 2, 3):
        out = tmp_path / f"shard-{k}.jsonl"
        status, stdout, stderr = refresh(sandbox, tokens, out, "--shard", f"{k}/3")
        mine = shard(k, 3)
        assert status == 0
        assert mine  # 30 tokens: every shard has some (which ones is fixed by their digests)
        results = read_results(out)
        assert set(results) == digests(mine)
        assert {record["shard"] for record in results.values()} == {f"{k}/3"}
        others = len(TOKENS) - len(mine)
        # the plan, the progress and the summary count this shard's tokens only
        assert f"shard {k}/3: {len(mine)} tokens to fetch" in stderr
        assert f"; {others} in other shards" in stderr
        assert f"refresh: {len(mine)}/{len(mine)} done" in stderr
        assert f"{len(mine)} Items in" in stdout
        assert f"  others   {others:>6}  in the other shards of 3 (this is shard {k}/3)" in stdout
        files[k] = set(results)
    assert files[1] | files[2] | files[3] == digests(TOKENS)
    assert sum(len(found) for found in files.values()) == len(TOKENS)  # no token twice
    assert sandbox.stats.requests == len(TOKENS)


def test_a_shard_resumes_from_its_own_file(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    out = tmp_path / "shard-2.jsonl"
    first = write_tokens(tmp_path / "first.txt", TOKENS[:15])
    assert refresh(sandbox, first, out, "--shard", "2/3")[0] == 0
    before = len(shard(2, 3, TOKENS[:15]))
    assert sandbox.stats.requests == before

    everything = write_tokens(tmp_path / "all.txt", TOKENS)
    status, stdout, stderr = refresh(sandbox, everything, out, "--shard", "2/3")

    assert status == 0
    assert sandbox.stats.requests == len(shard(2, 3))  # only the shard's new tokens
    assert set(read_results(out)) == digests(shard(2, 3))
    assert f"  skipped  {before:>6}  already in the results" in stdout
    assert f"{before} with a result in {out} already" in stderr

    status, stdout, _ = refresh(sandbox, everything, out, "--shard", "2/3")
    assert (status, sandbox.stats.requests) == (0, len(shard(2, 3)))
    assert "Nothing fetched" in stdout


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0/3", "K must be from 1 to N"),
        ("4/3", "K must be from 1 to N"),
        ("1/0", "N must be at least 1"),
        ("x", "is not a shard"),
        ("", "is not a shard"),
        ("1/3/3", "is not a shard"),
        ("-1/3", "is not a shard"),
    ],
)
def test_bad_shards_are_usage_errors(
    tmp_path: Path, sandbox: ThreadedSandbox, value: str, message: str
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:3])
    out = tmp_path / "out.jsonl"
    status, stdout, stderr = refresh(sandbox, tokens, out, "--shard", value)
    assert status == 2
    line = one_line_error(stderr)
    assert "--shard" in line
    assert message in line
    assert stdout == ""
    assert not out.exists()
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize(
    ("again", "message"),
    [
        (["--shard", "2/3"], "line 1 is a result of shard 1/3, not of 2/3"),
        (["--shard", "1/4"], "line 1 is a result of shard 1/3, not of 1/4"),
        ([], "line 1 is a result of shard 1/3: give --shard 1/3, or another --out"),
    ],
)
def test_the_file_of_another_shard_is_refused_and_left_alone(
    tmp_path: Path, sandbox: ThreadedSandbox, again: list[str], message: str
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS)
    out = tmp_path / "shard-1.jsonl"
    refresh(sandbox, tokens, out, "--shard", "1/3")
    data, requests = out.read_bytes(), sandbox.stats.requests

    status, _, stderr = refresh(sandbox, tokens, out, *again)

    assert status == 2
    assert message in one_line_error(stderr)
    assert out.read_bytes() == data
    assert sandbox.stats.requests == requests


def test_a_file_without_shards_is_resumed_by_a_shard_only_if_all_its_tokens_are_the_shards(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    everything = write_tokens(tmp_path / "all.txt", TOKENS)
    whole = tmp_path / "whole.jsonl"  # a run of every token, as before --shard existed
    refresh(sandbox, write_tokens(tmp_path / "some.txt", TOKENS[:8]), whole)
    assert all("shard" not in record for record in read_results(whole).values())
    status, _, stderr = refresh(sandbox, everything, whole, "--shard", "1/3")
    assert status == 2
    assert "outside shard 1/3 (written without --shard)" in one_line_error(stderr)

    # A file without shards holding tokens of shard 1/3 only: resumed, its lines kept.
    old = tmp_path / "old.jsonl"
    refresh(sandbox, write_tokens(tmp_path / "mine.txt", shard(1, 3)[:3]), old)
    data, requests = old.read_bytes(), sandbox.stats.requests
    status, _, _ = refresh(sandbox, everything, old, "--shard", "1/3")
    assert status == 0
    assert sandbox.stats.requests == requests + len(shard(1, 3)) - 3
    assert old.read_bytes().startswith(data)
    assert set(read_results(old)) == digests(shard(1, 3))


def test_a_shards_line_starts_with_its_digest_outcome_and_shard(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    out = tmp_path / "out.jsonl"
    refresh(sandbox, write_tokens(tmp_path / "t.txt", TOKENS[:6]), out, "--shard", "2/2")
    lines = out.read_bytes().splitlines(keepends=True)
    assert len(lines) == len(shard(2, 2, TOKENS[:6])) > 0
    for line in lines:
        head = _HEAD.match(line)
        assert head is not None
        assert head[3] == b"2/2"
        assert list(json.loads(line))[:3] == ["token_sha256", "ok", "shard"]
