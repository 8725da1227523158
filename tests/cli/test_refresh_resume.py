"""Resuming ``refresh``: a token's last line is its current result, and a re-run fetches again
the tokens whose current result may succeed now (the retry policy's transient failures, and
the institution errors Plaid says to retry in hours), never the permanent ones by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plaid_async import (
    AccountsGetResponse,
    ItemResult,
    PlaidConnectionError,
    PlaidError,
    PlaidResponseError,
    PlaidTimeoutError,
    converter,
)
from plaid_async._redact import fingerprint
from plaid_async.batch import PlaidInputError
from plaid_async.cli.results import failure_kind, result_line
from plaid_async.protocol import error_from_response
from plaid_async.sandbox import SandboxServer

from .conftest import ThreadedSandbox, refresh, write_tokens
from .results_file import read_results


def api_error(status: int, error_type: str, code: str) -> PlaidError:
    body = json.dumps({"error_type": error_type, "error_code": code, "request_id": "r"})
    return error_from_response(status, {}, body.encode())


TRANSIENT: dict[str, PlaidError] = {
    "timeout": PlaidTimeoutError("no complete answer within 60 s", timeout=60.0),
    "refused": PlaidConnectionError("connection failed: cannot connect to h:443: refused"),
    "gateway": error_from_response(503, {}, b"<html><title>503</title></html>"),
    "internal": api_error(500, "API_ERROR", "INTERNAL_SERVER_ERROR"),
    "rate": api_error(429, "RATE_LIMIT_EXCEEDED", "INSTITUTION_RATE_LIMIT"),
    "not-ready": api_error(400, "ITEM_ERROR", "PRODUCT_NOT_READY"),
    "bank-down": api_error(400, "INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING"),
}
PERMANENT: dict[str, PlaidError] = {
    "login": api_error(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED"),
    "invalid": api_error(400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN"),
    "unsupported": api_error(400, "INSTITUTION_ERROR", "INSTITUTION_NO_LONGER_SUPPORTED"),
    "credits": api_error(429, "RATE_LIMIT_EXCEEDED", "CREDITS_EXHAUSTED"),
    "schema": PlaidResponseError("HTTP 200: breaks the schema", status=200, transient=False),
    "input": PlaidInputError("line 3 of tokens.txt is not a usable access token"),
}


def token(name: str) -> str:
    return SandboxServer.token(f"resume-{name}")


def old_line(line: bytes) -> bytes:
    """``line`` as a version before ``status`` and ``transient`` were recorded wrote it."""
    record = json.loads(line)
    if "error" in record:
        del record["error"]["status"], record["error"]["transient"]
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def earlier_run(path: Path, errors: dict[str, PlaidError], *, old: bool = False) -> None:
    """A results file as an earlier run left it: the given failures, and one ok line."""
    lines = [result_line(ItemResult(0, token(name), None, error)) for name, error in errors.items()]
    if old:
        lines = [old_line(line) for line in lines]
    path.write_bytes(b"".join(lines))


def all_tokens(tmp_path: Path) -> Path:
    return write_tokens(tmp_path / "tokens.txt", [token(n) for n in [*TRANSIENT, *PERMANENT]])


@pytest.mark.parametrize("old", [False, True], ids=["new-lines", "old-lines"])
def test_a_rerun_fetches_again_the_tokens_that_failed_transiently(
    tmp_path: Path, sandbox: ThreadedSandbox, old: bool
) -> None:
    out = tmp_path / "out.jsonl"
    earlier_run(out, {**TRANSIENT, **PERMANENT}, old=old)
    before = out.read_bytes()

    status, stdout, stderr = refresh(sandbox, all_tokens(tmp_path), out)

    assert status == 1  # the permanent failures are still the current results
    assert sandbox.stats.requests == len(TRANSIENT)
    data = out.read_bytes()
    assert data.startswith(before)  # append-only: every earlier line is kept
    current = read_results(out, repeats=True)
    for name in TRANSIENT:
        assert current[fingerprint(token(name))]["ok"] is True, name
    for name in PERMANENT:
        assert current[fingerprint(token(name))]["ok"] is False, name
    assert f"{len(TRANSIENT)} tokens to fetch" in stderr
    assert f"({len(TRANSIENT)} of them again after a failure)" in stderr
    assert (
        f"  skipped  {len(PERMANENT):>6}  already in the results: 0 ok, "
        f"{len(PERMANENT)} failed for good (--retry-failed refetches)\n"
    ) in stdout
    retried = len(TRANSIENT)
    assert (
        f"  retried  {retried:>6}  fetched again: {retried} after a transient failure\n" in stdout
    )

    # Now every current result is ok or permanent: nothing more to fetch.
    status, stdout, _ = refresh(sandbox, all_tokens(tmp_path), out)
    assert (status, sandbox.stats.requests) == (1, len(TRANSIENT))
    assert "Nothing fetched" in stdout


def test_retry_failed_fetches_the_permanent_failures_too(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    out = tmp_path / "out.jsonl"
    earlier_run(out, {**TRANSIENT, **PERMANENT})

    status, stdout, _ = refresh(sandbox, all_tokens(tmp_path), out, "--retry-failed")

    assert status == 0
    assert sandbox.stats.requests == len(TRANSIENT) + len(PERMANENT)
    assert all(line["ok"] for line in read_results(out, repeats=True).values())
    assert f"{len(PERMANENT)} after a permanent one (--retry-failed)" in stdout


def test_no_retry_keeps_every_line_as_before(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    out = tmp_path / "out.jsonl"
    earlier_run(out, {**TRANSIENT, **PERMANENT})
    before = out.read_bytes()

    status, stdout, _ = refresh(sandbox, all_tokens(tmp_path), out, "--no-retry")

    assert (status, sandbox.stats.requests) == (1, 0)
    assert out.read_bytes() == before
    total = len(TRANSIENT) + len(PERMANENT)
    assert f"  skipped  {total:>6}  already in the results: 0 ok, {total} failed (--no-retry)" in (
        stdout
    )


def test_retry_flags_exclude_each_other_by_the_last_given(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    out = tmp_path / "out.jsonl"
    earlier_run(out, PERMANENT)
    refresh(sandbox, all_tokens(tmp_path), out, "--retry-failed", "--no-retry")
    assert sandbox.stats.requests == len(TRANSIENT)  # never fetched before; nothing retried


def test_the_last_line_of_a_token_is_its_current_result(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    out = tmp_path / "out.jsonl"
    served = SandboxServer.item(token("timeout"))
    response = converter.structure(
        {"accounts": served.accounts, "item": served.item, "request_id": "r"},
        AccountsGetResponse,
    )
    # A timeout, then ok: ok, kept. Ok, then ITEM_LOGIN_REQUIRED: permanent, kept.
    out.write_bytes(
        result_line(ItemResult(0, token("timeout"), None, TRANSIENT["timeout"]))
        + result_line(ItemResult(0, token("timeout"), response, None))
        + result_line(ItemResult(0, token("login"), response, None))
        + result_line(ItemResult(0, token("login"), None, PERMANENT["login"]))
    )
    tokens = write_tokens(tmp_path / "t.txt", [token("timeout"), token("login")])

    status, stdout, _ = refresh(sandbox, tokens, out)

    assert (status, sandbox.stats.requests) == (1, 0)
    assert "already in the results: 1 ok, 1 failed for good" in stdout


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"type": "PlaidTimeoutError", "code": None, "message": "slow"}, "transient"),
        ({"type": "RateLimitWaitTimeout", "code": None, "message": "x"}, "transient"),
        ({"type": "PlaidConnectionError", "code": None, "message": "reset"}, "transient"),
        (
            {"type": "PlaidConnectionError", "code": None, "message": "certificate did not verify"},
            "permanent",
        ),
        ({"type": "PlaidResponseError", "code": None, "message": "HTTP 503: a page"}, "transient"),
        ({"type": "PlaidResponseError", "code": None, "message": "HTTP 404: a page"}, "permanent"),
        ({"type": "PlaidResponseError", "code": None, "message": "breaks the schema"}, "permanent"),
        ({"type": "API_ERROR", "code": "INTERNAL_SERVER_ERROR", "message": None}, "transient"),
        ({"type": "API_ERROR", "code": "PLANNED_MAINTENANCE", "message": None}, "transient"),
        ({"type": "RATE_LIMIT_EXCEEDED", "code": "INSTITUTION_RATE_LIMIT"}, "transient"),
        ({"type": "RATE_LIMIT_EXCEEDED", "code": "CREDITS_EXHAUSTED"}, "permanent"),
        ({"type": "ITEM_ERROR", "code": "PRODUCT_NOT_READY"}, "transient"),
        ({"type": "ITEM_ERROR", "code": "ITEM_LOGIN_REQUIRED"}, "permanent"),
        ({"type": "INSTITUTION_ERROR", "code": "INSTITUTION_DOWN"}, "transient"),
        ({"type": "INSTITUTION_ERROR", "code": "INSTITUTION_NO_LONGER_SUPPORTED"}, "permanent"),
        ({"type": "INVALID_INPUT", "code": "INVALID_ACCESS_TOKEN"}, "permanent"),
        ({"type": "PlaidInputError", "code": None, "message": "input #3"}, "permanent"),
        ({"type": "SomethingNew", "code": None}, "permanent"),
        ({"type": "API_ERROR", "code": "X", "transient": False}, "permanent"),  # its own word
        ({"type": "ITEM_ERROR", "code": "ITEM_LOGIN_REQUIRED", "transient": True}, "transient"),
        ("not an object", "permanent"),
    ],
)
def test_failure_kind_of_old_and_new_lines(error: Any, kind: str) -> None:
    assert failure_kind(error) == kind


@pytest.mark.parametrize("name", [*TRANSIENT, *PERMANENT])
def test_new_lines_record_what_the_retry_policy_says(name: str) -> None:
    error = {**TRANSIENT, **PERMANENT}[name]
    record = json.loads(result_line(ItemResult(0, token(name), None, error)))["error"]
    assert record["transient"] is (name in TRANSIENT)
    # ... and an old line, without the flag, is judged the same from what it has.
    del record["transient"], record["status"]
    assert failure_kind(record) == ("transient" if name in TRANSIENT else "permanent")
