"""The refresh command's pieces on their own: result lines, token plans, progress, summary."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from plaid_async import (
    BatchProgress,
    BatchSummary,
    ItemResult,
    PlaidConnectionError,
    PlaidTimeoutError,
)
from plaid_async.cli.progress import ProgressDisplay
from plaid_async.cli.report import summary_lines
from plaid_async.cli.results import _HEAD, Outcome, ResultsFile, ResultsFileError, result_line
from plaid_async.cli.tokens import TokensFileError, digest, pending_tokens, plan_tokens

from .conftest import invoke

TOKEN = "access-sandbox-pieces-1"


def test_a_token_in_an_error_message_is_redacted_from_the_line() -> None:
    error = PlaidConnectionError(f"proxy said: bad token {TOKEN} with secret hunter2-secret")
    result = ItemResult(0, TOKEN, None, error, attempts=3, elapsed=1.2345)

    line = result_line(result, secrets=["hunter2-secret"])

    assert line.endswith(b"}\n")
    assert line.count(b"\n") == 1
    assert _HEAD.match(line)
    assert TOKEN.encode() not in line
    assert b"hunter2-secret" not in line
    record = json.loads(line)
    assert record["ok"] is False
    assert (record["attempts"], record["elapsed_ms"]) == (3, 1234)
    assert record["error"]["type"] == "PlaidConnectionError"
    assert record["error"]["code"] is None
    assert "bad token <sha256:" in record["error"]["message"]


def write_results(path: Path, *results: ItemResult) -> None:
    path.write_bytes(b"".join(result_line(result) for result in results))


def timeout_result(token: str) -> ItemResult:
    return ItemResult(0, token, None, PlaidTimeoutError("too slow", timeout=1.0))


def test_results_file_reads_what_is_done(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    write_results(path, timeout_result("access-sandbox-a"), timeout_result("access-sandbox-b"))
    results = ResultsFile.open(path)
    try:
        assert results.done == {
            digest("access-sandbox-a"): "transient",
            digest("access-sandbox-b"): "transient",
        }
        assert results.repair is None
        results.append(result_line(timeout_result("access-sandbox-c")))
    finally:
        results.close()
        results.close()  # twice is fine
    assert path.read_bytes().count(b"\n") == 3


@pytest.mark.parametrize(
    "content",
    [b"{}\n", b'{"token_sha256":"abc","ok":true}\n', b"not json\n" + b"x" * 10],
)
def test_results_file_refuses_what_it_did_not_write(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(content)
    with pytest.raises(ResultsFileError, match="line 1 is not a result"):
        ResultsFile.open(path)
    assert path.read_bytes() == content


def test_a_cut_short_line_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    write_results(path, timeout_result("access-sandbox-a"))
    whole = path.read_bytes()
    path.write_bytes(whole + result_line(timeout_result("access-sandbox-b"))[:40])
    results = ResultsFile.open(path)
    results.close()
    assert results.done == {digest("access-sandbox-a"): "transient"}
    assert results.repair is not None
    assert "dropped" in results.repair
    assert path.read_bytes() == whole


def write_tokens(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_plan_counts_duplicates_results_and_the_filter(tmp_path: Path) -> None:
    tokens = [f"access-sandbox-plan-{n}" for n in range(40)]
    text = "\ufeff# a comment\n\n" + "\n".join(tokens) + "\n" + tokens[0] + "\n   #indented\n"
    path = write_tokens(tmp_path / "t.txt", text)
    done: dict[bytes, Outcome] = {digest(tokens[1]): "ok", digest(tokens[2]): "permanent"}

    def keep(key: bytes) -> bool:  # a shard: half of the digests
        return key[0] % 2 == 0

    plan = plan_tokens(path, done, keep)

    kept = [t for t in tokens if keep(digest(t))]
    assert plan.duplicates == 1
    assert plan.left_out == 40 - len(kept)
    assert (plan.done_ok, plan.done_failed) == (keep(digest(tokens[1])), keep(digest(tokens[2])))
    expected = [t for t in kept if digest(t) not in done]
    assert list(pending_tokens(path, plan, lambda: False)) == expected
    assert plan.to_fetch == 0


def test_pending_tokens_stop_when_told(tmp_path: Path) -> None:
    tokens = [f"access-sandbox-stop-{n}" for n in range(10)]
    path = write_tokens(tmp_path / "t.txt", "\n".join(tokens))
    plan = plan_tokens(path, {})
    handed: list[str] = []
    for token in pending_tokens(path, plan, lambda: len(handed) >= 3):
        handed.append(token)
    assert handed == tokens[:3]
    assert plan.to_fetch == 7  # what was not started stays to do


def test_a_tokens_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "t.bin"
    path.write_bytes(b"access-sandbox-1\n" * 3 + b"\x80\x81\n")
    with pytest.raises(TokensFileError, match="line 4 is not UTF-8"):
        plan_tokens(path, {})


def test_progress_on_a_terminal_is_a_live_bar() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=120)
    with ProgressDisplay(10, "work", console=console) as display:
        display.update(BatchProgress(started=10, done=4, ok=3, failed=1, retried=2))
    text = stream.getvalue()
    assert "4/10" in text
    assert "3 ok" in text
    assert "1 failed" in text
    assert "2 retries" in text


def test_progress_elsewhere_is_a_line_now_and_then() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False)
    with ProgressDisplay(10, "work", console=console, interval=0) as display:
        display.update(BatchProgress(started=4, done=2, ok=2))
    assert stream.getvalue().splitlines() == [
        "work: 2/10 done, 2 ok, 0 failed, 0 retries, 2 in flight",
        "work: 2/10 done, 2 ok, 0 failed, 0 retries, 2 in flight",
    ]


def test_summary_lines() -> None:
    results = [
        ItemResult(i, f"t{i}", None, None, attempts=1, elapsed=0.1 * (i + 1)) for i in range(9)
    ]
    results.append(ItemResult(9, "t9", None, PlaidTimeoutError("slow"), attempts=3, elapsed=2.0))
    lines = summary_lines(BatchSummary.of(results), seconds=2.0, retries=2)
    assert lines == [
        "10 Items in 2.0 s: 5 Items/s",
        "  ok            9",
        "  failed        1  PlaidTimeoutError 1",
        "  retries       2  on 1 Item",
        "  latency  p50 550 ms, p95 1.50 s",
    ]


def test_sandbox_serve_is_still_there() -> None:
    result = invoke("sandbox", "serve", "--help")
    assert result.exit_code == 0
    assert "--fail-rate-500" in result.stdout
