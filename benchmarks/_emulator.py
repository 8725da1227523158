"""Run the emulator in a process of its own, so the client's event loop has the CPU to itself."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator

_URL = re.compile(r"listening on (http://\S+)")


@contextlib.contextmanager
def emulator(*args: str) -> Iterator[str]:
    """``plaid-async sandbox serve --port 0 ARGS`` in a subprocess; yields its URL."""
    command = [sys.executable, "-c", "from plaid_async.cli import main; main()"]
    command += ["sandbox", "serve", "--port", "0", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = _URL.search(line)
            if match:
                yield match.group(1)
                return
        raise RuntimeError(f"the emulator exited with {proc.wait()} before listening")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
