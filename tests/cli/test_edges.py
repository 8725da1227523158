"""The command at its edges: one line and a documented exit status for every failure, readable
error text, and the conventions of Python command-line tools."""

from __future__ import annotations

import errno
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from plaid_async import ItemResult, PlaidClient
from plaid_async._redact import fingerprint
from plaid_async._version import __version__
from plaid_async.cli import accounts as accounts_module
from plaid_async.cli import main, results
from plaid_async.cli.credentials import make_client
from plaid_async.cli.results import result_line
from plaid_async.protocol import error_from_response
from plaid_async.sandbox import SandboxServer
from plaid_async.transport import _connection_failure
from tests.redis.server import free_port

from .conftest import (
    ThreadedSandbox,
    invoke,
    one_line_error,
    refresh,
    subprocess_env,
    write_tokens,
)
from .results_file import digests, read_results

TOKENS = [SandboxServer.token(f"edges-{n}") for n in range(20)]

# --------------------------------------------------------------------------------------------
# No traceback, and exit codes that mean something
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["access-sandbox-a b"], None),
        (["access-sandbox-a\nb"], None),
        (["access-sandbox-a\x07b"], None),
        (["-"], "access-sandbox-a\tb\n"),
        (["-"], "access-sandbox-a\x00b\n"),
    ],
    ids=["space", "newline", "bell", "stdin-tab", "stdin-nul"],
)
def test_accounts_refuses_an_unusable_token_in_one_line(
    sandbox: ThreadedSandbox, args: list[str], stdin: str | None
) -> None:
    result = invoke("accounts", *args, "--base-url", sandbox.url, input=stdin)
    assert result.exit_code == 2
    assert "not a usable access token" in one_line_error(result.stderr)
    assert sandbox.stats.requests == 0


def test_ctrl_c_in_accounts_exits_130(
    sandbox: ThreadedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(coro: Any) -> None:
        coro.close()
        raise KeyboardInterrupt

    monkeypatch.setattr("plaid_async.cli.accounts.asyncio.run", interrupted)
    result = invoke("accounts", TOKENS[0], "--base-url", sandbox.url)
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr


def test_ctrl_c_while_click_reads_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """click turns a KeyboardInterrupt into Abort ("Aborted.", 1): the command says 130."""

    def interrupted(value: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(accounts_module, "_read_token", interrupted)
    monkeypatch.setattr(sys, "argv", ["plaid-async", "accounts", "-"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 130
    assert "Aborted" not in capsys.readouterr().err


def test_out_dev_null_works(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:5])
    status, stdout, stderr = refresh(sandbox, tokens, Path(os.devnull))
    assert status == 0, stderr
    assert "5 Items in" in stdout
    assert sandbox.stats.requests == 5


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="Linux's /dev/full")
def test_out_dev_full_stops_at_once_in_one_line_with_memory_bounded(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS)
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from plaid_async.cli import main\n"
        "main()\n"
    )
    args = ["refresh", str(tokens), "--out", "/dev/full", "--base-url", sandbox.url]
    args += ["--concurrency", "2"]
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", script, *args],
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    line = one_line_error(stderr)
    assert "cannot write --out /dev/full: No space left on device" in line
    assert "run the same command again to resume" in line
    assert sandbox.stats.requests <= 3  # the first result, and the two in flight then


class FullDisk:
    """``os`` for the results file, on a disk that fills up after ``lines`` lines and half of
    the next one."""

    def __init__(self, lines: int) -> None:
        self.lines = lines
        self.halved = False

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: Any) -> int:
        if self.lines > 0:
            self.lines -= 1
            return os.write(fd, data)
        if not self.halved:
            self.halved = True
            return os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_stops_the_run_with_whole_lines_and_a_rerun_resumes(
    tmp_path: Path, sandbox: ThreadedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS)
    out = tmp_path / "out.jsonl"
    # Room for three lines and a half: the half is taken back.
    monkeypatch.setattr(results, "os", FullDisk(lines=3))

    status, _, stderr = refresh(sandbox, tokens, out, "--concurrency", "2")

    assert status == 2
    assert "No space left on device" in one_line_error(stderr)
    assert len(read_results(out)) == 3  # whole lines only
    assert sandbox.stats.requests <= 4 + 2  # and the two in flight then, dropped
    monkeypatch.undo()

    status, _, _ = refresh(sandbox, tokens, out)
    assert status == 0
    assert set(read_results(out)) == digests(TOKENS)


@pytest.mark.parametrize("text", ["", "\n\n", "# tokens of 2026-12-01\n\n   \n# none\n"])
def test_a_tokens_file_without_tokens_is_a_usage_error(
    tmp_path: Path, sandbox: ThreadedSandbox, text: str
) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    status, _, stderr = refresh(sandbox, tokens, out)
    assert status == 2
    assert f"no tokens in {tokens}" in one_line_error(stderr)
    assert sandbox.stats.requests == 0
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# Error text a person can read
# --------------------------------------------------------------------------------------------


def test_a_connection_error_names_host_port_and_reason_not_object_reprs(tmp_path: Path) -> None:
    port = free_port()
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS[:1])
    out = tmp_path / "out.jsonl"
    result = invoke(
        "refresh", str(tokens), "--out", str(out), "--base-url", f"http://127.0.0.1:{port}"
    )
    assert result.exit_code == 1
    (record,) = read_results(out).values()
    message = record["error"]["message"]
    assert message == f"connection failed: cannot connect to 127.0.0.1:{port}: Connection refused"
    assert record["error"]["transient"] is True


NGINX_503 = (
    b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
PREFIX = "HTTP 503: an answer that is not Plaid's error: "


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (NGINX_503, f"{PREFIX}503 Service Temporarily Unavailable"),
        (b"<!DOCTYPE html><html><head><style>p{color:red}</style></head><body><p>Down</p>", None),
        (b"<html><body>" + b"<div>busy &amp; down</div>" * 300 + b"</body></html>", None),
        (b"upstream connect error " * 100, None),
    ],
    ids=["nginx", "no-title", "long-page", "long-text"],
)
def test_a_page_that_is_not_plaids_is_cut_to_status_and_a_short_excerpt(
    body: bytes, expected: str | None
) -> None:
    message = str(error_from_response(503, {}, body))
    assert message.startswith(PREFIX)
    assert len(message) <= len(PREFIX) + 201  # 200 characters, and an ellipsis if cut
    assert "<" not in message
    if expected is not None:
        assert message == expected
    # ... and the same in a results line.
    error = error_from_response(503, {}, body)
    record = json.loads(result_line(ItemResult(0, TOKENS[0], None, error)))
    assert record["error"]["message"] == message
    assert (record["error"]["status"], record["error"]["transient"]) == (503, True)


def test_no_object_repr_in_a_connection_error_of_any_kind() -> None:
    class Odd(aiohttp.ClientError):
        def __str__(self) -> str:
            return f"went wrong with {object()!r} and {ssl.create_default_context()!r}"

    text = _connection_failure(Odd())
    assert " at 0x" not in text
    assert text == "Odd: went wrong with ... and ..."


def test_a_bad_token_in_a_tokens_file_is_named_by_its_line(
    tmp_path: Path, sandbox: ThreadedSandbox
) -> None:
    bad = "access-sandbox-two words"
    lines = ["# nightly", TOKENS[0], "", TOKENS[1], bad, "access-sandbox-bell\x07", TOKENS[2]]
    tokens = write_tokens(tmp_path / "tokens.txt", lines)
    out = tmp_path / "out.jsonl"

    status, stdout, _ = refresh(sandbox, tokens, out)

    assert status == 1
    assert sandbox.stats.requests == 3  # the bad ones are never sent
    found = read_results(out)
    assert found[fingerprint(bad)]["error"]["message"] == (
        f"line 5 of {tokens} is not a usable access token: it contains whitespace"
    )
    assert found[fingerprint("access-sandbox-bell\x07")]["error"]["message"] == (
        f"line 6 of {tokens} is not a usable access token: it contains a control character"
    )
    assert found[fingerprint(bad)]["error"]["transient"] is False
    assert "PlaidInputError 2" in stdout


# --------------------------------------------------------------------------------------------
# The conventions of Python command-line tools
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["-h"], ["refresh", "-h"], ["accounts", "-h"], ["sandbox", "serve", "-h"]]
)
def test_h_is_help(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ")


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_v_is_the_version(flag: str) -> None:
    result = invoke(flag)
    assert (result.exit_code, result.stdout) == (0, f"plaid-async, version {__version__}\n")


def test_python_m_plaid_async_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "plaid_async", "-h"],
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"Usage: plaid-async ")


BLOCK_CLICK = """
import importlib.abc, runpy, sys

class NoClick(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("click", "rich"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoClick())
sys.argv[0] = "plaid_async"
runpy.run_module("plaid_async", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_python_m_plaid_async_version_works_without_the_cli_extra(flag: str) -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", BLOCK_CLICK, flag],
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == f"plaid-async, version {__version__}\n"
    # And anything else says what to install, in one line.
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", BLOCK_CLICK, "demo"],
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert b"pip install 'plaid-async[cli]'" in done.stderr


def test_refresh_reads_tokens_from_stdin(tmp_path: Path, sandbox: ThreadedSandbox) -> None:
    out = tmp_path / "out.jsonl"
    text = "".join(f"{token}\n" for token in ["# from a vault", *TOKENS[:6], TOKENS[0]])
    result = invoke("refresh", "-", "--out", str(out), "--base-url", sandbox.url, input=text)
    assert result.exit_code == 0, result.stderr
    assert set(read_results(out)) == digests(TOKENS[:6])
    assert "stdin: 6 tokens to fetch" in result.stderr
    assert "1 duplicate line" in result.stdout
    # Resumed from stdin too; and stdin without tokens is a usage error.
    result = invoke("refresh", "-", "--out", str(out), "--base-url", sandbox.url, input=text)
    assert (result.exit_code, sandbox.stats.requests) == (0, 6)
    result = invoke("refresh", "-", "--out", str(out), "--base-url", sandbox.url, input="\n")
    assert result.exit_code == 2
    assert "no tokens in stdin" in one_line_error(result.stderr)


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("Production", "https://production.plaid.com"),
        (" SANDBOX ", "https://sandbox.plaid.com"),
        ("production", "https://production.plaid.com"),
    ],
)
def test_plaid_env_is_case_insensitive(
    monkeypatch: pytest.MonkeyPatch, value: str, host: str
) -> None:
    monkeypatch.setenv("PLAID_CLIENT_ID", "id")
    monkeypatch.setenv("PLAID_SECRET", "secret")
    monkeypatch.setenv("PLAID_ENV", value)
    assert PlaidClient.from_env().base_url == host
    connection = make_client(None)
    assert connection.environment == host.removeprefix("https://").partition(".")[0]


def test_shell_completion_is_what_the_docs_say() -> None:
    env = {**subprocess_env(), "_PLAID_ASYNC_COMPLETE": "bash_source"}
    done = subprocess.run(
        [sys.executable, "-c", "from plaid_async.cli import main; main()"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"_plaid_async_completion()" in done.stdout
    assert "_PLAID_ASYNC_COMPLETE=bash_source plaid-async" in Path("docs/cli.md").read_text()
