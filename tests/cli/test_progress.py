"""The progress display at 80 columns: count, elapsed and remaining labelled and never cut, the
real number in flight, and a remaining time that moves while the last calls retry."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
import time

import pytest
from rich.console import Console

from plaid_async import BatchProgress
from plaid_async.cli.progress import ProgressDisplay

from .conftest import subprocess_env

STYLE = re.compile(r"\x1b\[[0-9;]*m")
MOVE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")  # the cursor goes elsewhere: a new line


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def screen(display: ProgressDisplay, console: Console) -> list[str]:
    """What the bar shows now, line by line."""
    stream = io.StringIO()
    capture = Console(file=stream, width=console.width, force_terminal=True, color_system=None)
    assert display._bar is not None
    capture.print(display._bar.get_renderable())
    return stream.getvalue().splitlines()


@pytest.mark.parametrize(
    ("total", "description"),
    [(500, "refresh"), (500, "Refreshing balances"), (1_000_000, "Refreshing balances")],
)
def test_at_80_columns_count_elapsed_and_remaining_are_whole_and_labelled(
    total: int, description: str
) -> None:
    clock = Clock()
    console = Console(file=io.StringIO(), width=80, force_terminal=True, get_time=clock)
    display = ProgressDisplay(total, description, console=console)
    display.update(BatchProgress(started=172, done=140, ok=130, failed=10, retried=3))
    clock.now += 8
    lines = screen(display, console)
    assert all(len(line) <= 80 for line in lines)
    assert f" 140/{total} " in lines[0]
    assert "elapsed 0:00:08" in lines[0]
    assert re.search(r"remaining \d+:\d\d:\d\d$", lines[0])
    assert lines[1] == "  130 ok, 10 failed, 3 retries, 32 in flight"


def test_remaining_time_grows_while_the_last_calls_retry() -> None:
    clock = Clock()
    console = Console(file=io.StringIO(), width=80, force_terminal=True, get_time=clock)
    display = ProgressDisplay(10, "refresh", console=console)
    clock.now += 1
    display.update(BatchProgress(started=10, done=8, ok=8))  # 8 in 10 s: 2.5 s left
    clock.now += 9
    first = screen(display, console)[0]
    clock.now += 10  # nothing done for 10 s: the last two are retrying
    later = screen(display, console)[0]
    assert "remaining 0:00:02" in first
    assert "remaining 0:00:05" in later


def test_before_the_first_result_remaining_is_unknown_and_in_flight_is_real() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=True)
    display = ProgressDisplay(100, "refresh", console=console)
    display.update(BatchProgress(started=32))
    lines = screen(display, console)
    assert "remaining -:--:--" in lines[0]
    assert lines[1] == "  0 ok, 0 failed, 0 retries, 32 in flight"


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_the_demo_under_a_real_80_column_terminal() -> None:
    import fcntl
    import struct
    import termios

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in subprocess_env().items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    command = [sys.executable, "-c", "from plaid_async.cli import main; main()"]
    command += ["demo", "--items", "60", "--seed", "3", "--latency-scale", "0.02"]
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        command, stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(leader)
    assert process.returncode == 0, output.decode(errors="replace")
    text = MOVE.sub("\n", STYLE.sub("", output.decode(errors="replace")))
    bars = [line for line in text.splitlines() if "elapsed" in line]
    assert bars, text
    for line in bars:
        assert len(line) <= 80, line
        assert re.search(r" \d+/60 elapsed \d:\d\d:\d\d remaining (\d:\d\d:\d\d|-:--:--)$", line)
    assert any(" 60/60 " in line for line in bars)
