"""The results file of ``refresh``: one JSON line per token, appended whole, read back to resume.

Each line starts ``{"token_sha256":"<64 hex>","ok":true|false,`` so a resumed run finds what is
done without parsing whole responses. A line is written with one ``write`` and flushed to the
operating system at once; a run killed mid-write can leave only its last line cut short, which
the next run repairs: completed if what is there is a whole result, dropped otherwise (its
token is then fetched again). The file is locked while a run appends to it, and created
readable by its owner only: it holds people's balances.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from plaid_async import ItemResult, PlaidAPIError, PlaidError, converter
from plaid_async._json import dumps
from plaid_async._redact import fingerprint, redact

__all__ = ["ResultsFile", "ResultsFileError", "error_record", "result_line"]

_HEAD = re.compile(rb'\{"token_sha256":"([0-9a-f]{64})","ok":(true|false),')


class ResultsFileError(Exception):
    """The results file cannot be used: unreadable, in use, or not one of ours."""


def error_record(error: PlaidError) -> dict[str, Any]:
    """What a failed line says about its error: Plaid's type, code, message and request_id,
    or the exception's class and message for a failure with no answer from Plaid."""
    if isinstance(error, PlaidAPIError):
        return {
            "type": str(error.error_type),
            "code": str(error.error_code),
            "message": error.error_message,
            "request_id": error.request_id,
        }
    return {"type": type(error).__name__, "code": None, "message": str(error), "request_id": None}


def _redacted(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with each secret replaced in its strings; numbers and keys are left alone."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _redacted(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, secrets) for item in value]
    return value


def result_line(result: ItemResult, *, secrets: Iterable[str] = ()) -> bytes:
    """One result as a line: the token's SHA-256 (never the token), ``ok``, when and how hard
    it was fetched, and the unstructured response or the error.

    The client already keeps the secret and the token out of errors; any string that still
    holds one (the token, ``secrets``) is redacted here too, so the file never does.
    """
    record: dict[str, Any] = {
        "token_sha256": fingerprint(result.access_token),
        "ok": result.ok,
        "fetched_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "attempts": result.attempts,
        "elapsed_ms": round(result.elapsed * 1000),
    }
    if result.response is not None:
        record["response"] = converter.unstructure(result.response)
    if result.error is not None:
        record["error"] = error_record(result.error)
    hidden = (result.access_token, *secrets)
    return dumps(_redacted(record, hidden)) + b"\n"


class ResultsFile:
    """An open results file: :attr:`done` tells what an earlier run wrote, :meth:`append`
    adds a line. Use :meth:`open`; close it when done."""

    def __init__(self, path: Path, fd: int, done: dict[bytes, bool], repair: str | None) -> None:
        self.path = path
        self._fd = fd
        self.done = done
        """SHA-256 digests of the tokens with a line already, and whether each was ok."""
        self.repair = repair
        """What was done to a cut-short last line, to tell the user; None if none."""

    @classmethod
    def open(cls, path: Path) -> ResultsFile:
        """Lock ``path`` (created if missing), read what is done, repair a cut-short end."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ResultsFileError(f"cannot open --out {path}: {exc.strerror or exc}") from None
        try:
            _lock(fd, path)
            done, offset, tail = _scan(path)
            repair = _repair(fd, offset, tail)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, done, repair)

    def append(self, line: bytes) -> None:
        """Write ``line`` whole (``os.write`` may take it in parts); no buffer holds it."""
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        """Flush to the disk, unlock, close. Safe to call twice."""
        if self._fd < 0:
            return
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = -1


def _lock(fd: int, path: Path) -> None:
    """An exclusive lock for this run, so two runs never append to one file."""
    if sys.platform == "win32":  # no fcntl there; a second run is then not detected
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ResultsFileError(
            f"--out {path} is in use by another run of plaid-async refresh"
        ) from None


_Tail = Literal["none", "whole", "cut"]
"""The state of the file's end: ends with a newline; a whole result without its newline
(which counts as done); or a line cut short."""


def _scan(path: Path) -> tuple[dict[bytes, bool], int, _Tail]:
    """The digests done, where a last line without its newline starts, and what it is."""
    done: dict[bytes, bool] = {}
    offset = 0
    try:
        with path.open("rb") as lines:
            for number, line in enumerate(lines, 1):
                if not line.endswith(b"\n"):
                    head = _HEAD.match(line)
                    if head is None or not _is_json_object(line):
                        return done, offset, "cut"
                    done[bytes.fromhex(head[1].decode())] = head[2] == b"true"
                    return done, offset, "whole"
                offset += len(line)
                if not line.strip():
                    continue
                head = _HEAD.match(line)
                if head is None or not line.rstrip().endswith(b"}"):
                    raise ResultsFileError(
                        f"--out {path}: line {number} is not a result of plaid-async refresh; "
                        "give another --out"
                    )
                done[bytes.fromhex(head[1].decode())] = head[2] == b"true"
    except OSError as exc:
        raise ResultsFileError(f"cannot read --out {path}: {exc.strerror or exc}") from None
    return done, offset, "none"


def _repair(fd: int, offset: int, tail: _Tail) -> str | None:
    """Complete a whole result that lacks only its newline; drop a line cut short."""
    if tail == "none":
        return None
    if tail == "whole":
        os.write(fd, b"\n")
        return "completed a last line that lacked its newline"
    os.ftruncate(fd, offset)
    return (
        "dropped a cut-short last line (a run was killed while writing); its token is fetched again"
    )


def _is_json_object(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data), dict)
    except ValueError:
        return False
