"""The results file of ``refresh``: one JSON line per token, appended whole, read back to resume.

Each line starts ``{"token_sha256":"<64 hex>","ok":true|false,`` (then ``"shard":"K/N",`` for a
run of one shard, see :mod:`.sharding`) so a resumed run finds what is done, and whose it is,
without parsing whole responses (a failed line, which is short, is parsed to tell a transient
failure from a permanent one: :func:`failure_kind`). A token may have several lines, one per
run that fetched it: its last line is its current result. A line is written with one
``write`` and flushed to the operating system at once; a run killed mid-write can leave only
its last line cut short, which the next run repairs: completed if what is there is a whole
result, dropped otherwise (its token is then fetched again). The file is locked while a run
appends to it, and created readable by its owner only: it holds people's balances.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from plaid_async import ItemResult, PlaidAPIError, PlaidError, converter
from plaid_async._json import dumps
from plaid_async._redact import fingerprint, redact
from plaid_async.errors import PlaidConnectionError, PlaidResponseError, PlaidTimeoutError
from plaid_async.policy import is_institution_outage, is_transient
from plaid_async.protocol import error_from_response

from .sharding import Shard, foreign_line

__all__ = [
    "Outcome",
    "ResultsFile",
    "ResultsFileError",
    "ResultsWriteError",
    "error_record",
    "failure_kind",
    "result_line",
    "worth_retrying",
]

Outcome = Literal["ok", "transient", "permanent"]
"""A token's current result: ok, failed in a way that may succeed on a later run, or not."""

_HEAD = re.compile(
    rb'\{"token_sha256":"([0-9a-f]{64})","ok":(true|false),(?:"shard":"(\d+/\d+)",)?'
)


class ResultsFileError(Exception):
    """The results file cannot be used: unreadable, in use, or not one of ours."""


class ResultsWriteError(ResultsFileError):
    """A line could not be written (a full disk, say): the run stops there."""


def worth_retrying(error: BaseException) -> bool:
    """Whether a later run may succeed where this error failed: what the retry policy retries
    (:func:`plaid_async.policy.is_transient`), and the institution outages Plaid says to retry
    in hours (:func:`plaid_async.policy.is_institution_outage`)."""
    return is_transient(error) or is_institution_outage(error)


def error_record(error: PlaidError) -> dict[str, Any]:
    """What a failed line says about its error: Plaid's type, code, message and request_id,
    or the exception's class and message for a failure with no answer from Plaid; the HTTP
    status (null without an answer), and whether a later run may succeed (``transient``)."""
    status = getattr(error, "status", None)
    record: dict[str, Any]
    if isinstance(error, PlaidAPIError):
        record = {
            "type": str(error.error_type),
            "code": str(error.error_code),
            "message": error.error_message,
            "request_id": error.request_id,
        }
    else:
        record = {
            "type": type(error).__name__,
            "code": None,
            "message": str(error),
            "request_id": None,
        }
    record["status"] = status if isinstance(status, int) and status > 0 else None
    record["transient"] = worth_retrying(error)
    return record


_GUESSED_STATUS = {"API_ERROR": 500, "RATE_LIMIT_EXCEEDED": 429}
_STATUS_IN_MESSAGE = re.compile(r"HTTP (\d{3})\b")


def failure_kind(error: Any) -> Outcome:
    """Whether the ``error`` of a failed line is ``"transient"`` or ``"permanent"``.

    A line written since ``transient`` was recorded says so itself. An older line is judged
    by the same rules from what it has, and conservatively: its error is rebuilt from its
    ``type``, ``code`` and (for an answer that was not Plaid's) the status its message names;
    what cannot be told (an unknown type, a response error without its status) is permanent,
    fetched again only with ``--retry-failed``.
    """
    if not isinstance(error, dict):
        return "permanent"
    flag = error.get("transient")
    if isinstance(flag, bool):
        return "transient" if flag else "permanent"
    return "transient" if worth_retrying(_rebuilt(error)) else "permanent"


def _rebuilt(error: dict[str, Any]) -> BaseException:
    kind, code, message = error.get("type"), error.get("code"), error.get("message")
    message = message if isinstance(message, str) else ""
    status = error.get("status")
    if kind == "PlaidTimeoutError" or kind == "RateLimitWaitTimeout":
        return PlaidTimeoutError(message)
    if kind == "PlaidConnectionError":
        return PlaidConnectionError(message, transient="certificate" not in message)
    if kind == "PlaidResponseError":
        found = _STATUS_IN_MESSAGE.match(message)
        if not isinstance(status, int) and found is None:
            return PlaidResponseError(message, status=0, transient=False)
        answer = status if isinstance(status, int) else int(found[1])  # type: ignore[index]
        return error_from_response(answer, {}, b"")
    if isinstance(kind, str) and isinstance(code, str) and kind.isupper():
        if not isinstance(status, int):
            status = _GUESSED_STATUS.get(kind, 400)
        body = dumps({"error_type": kind, "error_code": code})
        return error_from_response(status, {}, body)
    return PlaidError(message)


def _redacted(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with each secret replaced in its strings; numbers and keys are left alone."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _redacted(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, secrets) for item in value]
    return value


def result_line(
    result: ItemResult, *, secrets: Iterable[str] = (), shard: Shard | None = None
) -> bytes:
    """One result as a line: the token's SHA-256 (never the token), ``ok``, the run's shard
    if it has one, when and how hard it was fetched, and the unstructured response or the
    error.

    The client already keeps the secret and the token out of errors; any string that still
    holds one (the token, ``secrets``) is redacted here too, so the file never does.
    """
    record: dict[str, Any] = {
        "token_sha256": fingerprint(result.access_token),
        "ok": result.ok,
        **({"shard": str(shard)} if shard is not None else {}),
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

    def __init__(
        self,
        path: Path,
        fd: int,
        done: dict[bytes, Outcome],
        repair: str | None,
        regular: bool = True,
    ) -> None:
        self.path = path
        self._fd = fd
        self._regular = regular
        self.written = 0
        """Lines this run appended."""
        self.done = done
        """SHA-256 digests of the tokens with a line already, and the outcome of the last."""
        self.repair = repair
        """What was done to a cut-short last line, to tell the user; None if none."""

    @classmethod
    def open(cls, path: Path, shard: Shard | None = None) -> ResultsFile:
        """Lock ``path`` (created if missing), read what is done, repair a cut-short end.

        A line that is not the run's to resume (another shard's, or any shard's for a run of
        all tokens: ``shard`` None) is a :class:`ResultsFileError`, and the file is left as is.
        """
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ResultsFileError(f"cannot open --out {path}: {exc.strerror or exc}") from None
        try:
            # Not a file (/dev/null, a pipe): nothing to resume, nothing to repair or sync;
            # reading /dev/full or /dev/zero would never end.
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
            if not regular:
                return cls(path, fd, {}, None, regular=False)
            _lock(fd, path)
            done, offset, tail = _scan(path, shard)
            repair = _repair(fd, offset, tail)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, done, repair)

    def append(self, line: bytes) -> None:
        """Write ``line`` whole (``os.write`` may take it in parts); no buffer holds it. A
        failure is a :class:`ResultsWriteError`, and a part written is taken back, so that
        the file ends with a whole line."""
        view = memoryview(line)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            if self._regular and len(view) < len(line):
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, os.fstat(self._fd).st_size - (len(line) - len(view)))
            raise ResultsWriteError(
                f"cannot write --out {self.path}: {exc.strerror or exc}"
            ) from None
        self.written += 1

    def close(self) -> None:
        """Flush to the disk, unlock, close. Safe to call twice. A flush that fails is a
        :class:`ResultsWriteError` (the file is closed all the same)."""
        if self._fd < 0:
            return
        try:
            if self._regular:
                os.fsync(self._fd)
        except OSError as exc:
            raise ResultsWriteError(
                f"cannot write --out {self.path}: {exc.strerror or exc}"
            ) from None
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


def _outcome(head: re.Match[bytes], line: bytes) -> Outcome:
    if head[2] == b"true":
        return "ok"
    try:
        record = json.loads(line)
    except ValueError:
        return "permanent"
    return failure_kind(record.get("error") if isinstance(record, dict) else None)


def _scan(path: Path, shard: Shard | None) -> tuple[dict[bytes, Outcome], int, _Tail]:
    """The digests done (each token's last line), where a last line without its newline
    starts, and what it is."""
    done: dict[bytes, Outcome] = {}
    offset = 0
    try:
        with path.open("rb") as lines:
            for number, line in enumerate(lines, 1):
                whole = line.endswith(b"\n")
                if whole and not line.strip():
                    offset += len(line)
                    continue
                head = _HEAD.match(line)
                if head is not None:
                    _check_shard(path, number, shard, head)
                if not whole:
                    if head is None or not _is_json_object(line):
                        return done, offset, "cut"
                    done[bytes.fromhex(head[1].decode())] = _outcome(head, line)
                    return done, offset, "whole"
                offset += len(line)
                if head is None or not line.rstrip().endswith(b"}"):
                    raise ResultsFileError(
                        f"--out {path}: line {number} is not a result of plaid-async refresh; "
                        "give another --out"
                    )
                done[bytes.fromhex(head[1].decode())] = _outcome(head, line)
    except OSError as exc:
        raise ResultsFileError(f"cannot read --out {path}: {exc.strerror or exc}") from None
    return done, offset, "none"


def _check_shard(path: Path, number: int, shard: Shard | None, head: re.Match[bytes]) -> None:
    label = head[3].decode() if head[3] is not None else None
    problem = foreign_line(shard, label, bytes.fromhex(head[1].decode()))
    if problem is not None:
        raise ResultsFileError(f"--out {path}: line {number} {problem}")


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
