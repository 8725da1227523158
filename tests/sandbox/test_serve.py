"""``plaid-async sandbox serve``: a real process, its printed URL and credentials, a real call,
a clean stop on SIGTERM; the flags reach the server; errors are one line."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from click.testing import CliRunner

import plaid_async.cli.sandbox as cli_module
from plaid_async import PlaidClient, RateLimitExceededError, RetryPolicy
from plaid_async.cli import main as cli_main
from plaid_async.cli.app import cli as cli_group
from plaid_async.sandbox import DEFAULT_CLIENT_ID, DEFAULT_SECRET, Faults, RateLimits
from plaid_async.sandbox import SandboxServer as Server

COMMAND = [sys.executable, "-c", "from plaid_async.cli import main; main()", "sandbox", "serve"]
BANNER_LINES = 6  # listening, client_id, secret, tokens, errors, "Press Ctrl+C"


class Served:
    def __init__(self, process: asyncio.subprocess.Process, banner: list[str]) -> None:
        self.process = process
        self.banner = banner
        self.url = re.fullmatch(r"Plaid sandbox emulator listening on (\S+)", banner[0])[1]  # type: ignore[index]
        pairs = (line.split(":", 1) for line in banner[1:5])
        self.fields = {name.strip(): value.strip() for name, value in pairs}

    async def stop(self) -> tuple[int, str, str]:
        self.process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(self.process.communicate(), 10)
        assert self.process.returncode is not None
        return self.process.returncode, out.decode(), err.decode()


@pytest.fixture
async def serve(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Start ``plaid-async sandbox serve --port 0 <args>``; read its banner; kill it at the end
    if the test did not stop it."""
    processes: list[asyncio.subprocess.Process] = []

    async def start(*args: str) -> Served:
        process = await asyncio.create_subprocess_exec(
            *COMMAND, "--port", "0", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        processes.append(process)
        assert process.stdout is not None
        banner = []
        for _ in range(BANNER_LINES):
            line = await asyncio.wait_for(process.stdout.readline(), 20)
            assert line, "the command ended before printing its banner"
            banner.append(line.decode().rstrip("\n"))
        return Served(process, banner)

    yield start
    for process in processes:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve_prints_where_and_who_serves_and_stops_cleanly(serve: Any) -> None:
    served = await serve("--rate-limits", "production")
    assert served.url.startswith("http://127.0.0.1:")
    assert not served.url.endswith(":0")  # the port actually bound
    assert served.fields["client_id"] == DEFAULT_CLIENT_ID
    assert served.fields["secret"] == DEFAULT_SECRET
    token = served.fields["tokens"].rsplit(" ", 1)[-1]
    error_token = served.fields["errors"].rsplit(" ", 1)[-1]
    assert token == Server.token(1)

    client = PlaidClient(
        served.fields["client_id"],
        served.fields["secret"],
        base_url=served.url,
        retry=RetryPolicy(max_attempts=1),
    )
    async with client:
        resp = await client.accounts_balance_get(token)
        assert [a.account_id for a in resp.accounts] == list(Server.item(token).account_ids)
        for _ in range(4):
            await client.accounts_balance_get(token)
        with pytest.raises(RateLimitExceededError, match="BALANCE_LIMIT"):  # --rate-limits
            await client.accounts_balance_get(token)
        with pytest.raises(Exception, match="ITEM_LOGIN_REQUIRED"):
            await client.accounts_get(error_token)

    code, out, err = await served.stop()
    assert (code, out.strip(), err) == (0, "stopped", "")


async def test_a_secret_given_is_not_printed(serve: Any) -> None:
    served = await serve("--client-id", "my-id", "--secret", "my-own-secret")
    assert served.fields["client_id"] == "my-id"
    assert "my-own-secret" not in "\n".join(served.banner)
    async with PlaidClient("my-id", "my-own-secret", base_url=served.url) as client:
        await client.accounts_get(Server.token(1))
    code, out, err = await served.stop()
    assert code == 0
    assert "my-own-secret" not in out + err


def test_a_port_in_use_is_one_line_and_exit_1() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run(  # noqa: S603 - our own command
            [*COMMAND, "--port", port], capture_output=True, text=True, timeout=30, check=False
        )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in done.stdout + done.stderr


def test_a_bad_flag_exits_2_with_one_line() -> None:
    done = subprocess.run(  # noqa: S603 - our own command
        [*COMMAND, "--bogus"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("Error: No such option '--bogus'")
    assert done.stderr.count("\n") == 1, done.stderr
    assert "plaid-async sandbox serve --help" in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "70000"],
        ["--fail-rate-500", "1.5"],
        ["--fail-rate-500", "0.7", "--fail-rate-reset", "0.7"],
        ["--latency", "soon"],
        ["--latency", "-1"],
        ["--code-429", "ITEM_LOCKED"],
        ["--client-id", ""],
        ["--secret", ""],
    ],
)
def test_every_bad_value_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """The console script's own path (``main``), in this process: nothing is bound."""
    monkeypatch.setattr(sys, "argv", ["plaid-async", "sandbox", "serve", *args])
    with pytest.raises(SystemExit) as info:
        cli_main()
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("Error: ")
    assert err.endswith("(see 'plaid-async sandbox serve --help')\n")


# -- without binding: click's runner, the serving part replaced ---------------------------


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Server]:
    """Replace the serving loop: record the server the command built, and return at once."""
    servers: list[Server] = []

    async def record(server: Server, *, show_secret: bool) -> None:
        servers.append(server)

    monkeypatch.setattr(cli_module, "_serve", record)
    return servers


def test_the_fault_flags_make_the_servers_faults(captured: list[Server]) -> None:
    args = ["--seed", "7", "--latency", "plaid", "--latency-scale", "0.1", "--drip-interval", "0.5"]
    args += ["--fail-rate-500", "0.1", "--fail-rate-short-read", "0.2", "--fail-rate-429", "0.3"]
    args += ["--code-429", "BALANCE_LIMIT", "--rate-limits", "sandbox"]
    result = CliRunner().invoke(cli_group, ["sandbox", "serve", *args])
    assert result.exit_code == 0, result.output
    (server,) = captured
    assert server.faults == Faults(
        latency="plaid",
        latency_scale=0.1,
        drip_interval=0.5,
        rate_500=0.1,
        rate_short_read=0.2,
        rate_429=0.3,
        code_429="BALANCE_LIMIT",
    )
    assert server.rate_limits == RateLimits.sandbox()


def test_every_fault_kind_has_a_flag() -> None:
    result = CliRunner().invoke(cli_group, ["sandbox", "serve", "--help"])
    for kind in ("500", "502", "503", "maintenance", "429", "reset", "hang", "truncate"):
        assert f"--fail-rate-{kind} " in result.output
    assert "--fail-rate-short-read" in result.output
    assert "--fail-rate-drip" in result.output


def test_defaults_are_loopback_no_faults_no_limits(captured: list[Server]) -> None:
    result = CliRunner().invoke(cli_group, ["sandbox", "serve"])
    assert result.exit_code == 0
    assert result.stderr == ""
    (server,) = captured
    assert (server.faults, server.rate_limits) == (Faults(), None)
    assert server.port == 8765


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])  # noqa: S104
def test_a_host_that_is_not_loopback_is_warned_about(captured: list[Server], host: str) -> None:
    result = CliRunner().invoke(cli_group, ["sandbox", "serve", "--host", host])
    assert result.exit_code == 0
    assert result.stderr.startswith(f"warning: binding {host}, not loopback")
    assert cli_module.loopback_warning(host) is not None


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_is_not_warned_about(host: str) -> None:
    assert cli_module.loopback_warning(host) is None
