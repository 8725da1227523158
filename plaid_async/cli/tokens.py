"""The tokens file of ``refresh``: one access token a line; blank lines and ``#`` lines skipped.

Read twice, never held whole: first to count what is to do (each distinct token once, minus
those whose current result in the results file is to be kept, minus those a filter leaves out),
then again while fetching, handing out one token at a time. Only SHA-256 digests are kept in
memory.

Which results are kept (:data:`RetryMode`): ``"transient"`` (the default) fetches again the
tokens whose current result is a transient failure and keeps ok lines and permanent failures;
``"failed"`` (``--retry-failed``) fetches every failed token again; ``"none"`` (``--no-retry``)
keeps every line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, Literal

from attrs import define, field

from plaid_async._redact import fingerprint

from .results import Outcome

__all__ = [
    "RetryMode",
    "StdinTokens",
    "TokenPlan",
    "TokensFileError",
    "digest",
    "pending_tokens",
    "plan_tokens",
    "read_tokens",
    "token_problem",
]

RetryMode = Literal["transient", "failed", "none"]


class TokensFileError(Exception):
    """The tokens file cannot be read."""


def digest(token: str) -> bytes:
    """The token's SHA-256 (what the results file names it by), as 32 bytes."""
    return bytes.fromhex(fingerprint(token))


def every_token(_: bytes) -> bool:
    return True


def token_problem(token: str) -> str | None:
    """Why ``token`` (already stripped) cannot be an access token, or None if it can."""
    if len(token.split()) != 1:
        return "it contains whitespace"
    if not token.isprintable():
        return "it contains a control character"
    return None


class StdinTokens:
    """The tokens file ``-``: stdin, copied into an unnamed temporary file (readable by its
    owner only, gone once closed) so that it can be read twice like a file."""

    def __init__(self, stream: BinaryIO) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        try:
            shutil.copyfileobj(stream, self._file)
            self._file.flush()  # read through other descriptors
        except OSError as exc:
            self._file.close()
            raise TokensFileError(f"cannot read stdin: {exc.strerror or exc}") from None

    def __str__(self) -> str:
        return "stdin"

    def open(self, mode: Literal["rb"] = "rb") -> BinaryIO:
        """A new reader from the start (a duplicate of the file, closed on its own)."""
        reader = os.fdopen(os.dup(self._file.fileno()), mode)
        reader.seek(0)
        return reader

    def close(self) -> None:
        self._file.close()


TokensSource = Path | StdinTokens


def numbered_tokens(path: TokensSource) -> Generator[tuple[int, int, str], None, None]:
    """The tokens of ``path`` in order, each with its line number (from 1) and the byte
    offset where its line starts; a :class:`TokensFileError` if it cannot be read."""
    try:
        with path.open("rb") as lines:
            offset = 0
            for number, raw in enumerate(lines, 1):
                start, offset = offset, offset + len(raw)
                try:  # line by line, so that an error names the right line
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    raise TokensFileError(f"{path}: line {number} is not UTF-8 text") from None
                token = line.strip()
                if token and not token.startswith("#"):
                    yield number, start, token
    except OSError as exc:
        raise TokensFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_tokens(path: TokensSource) -> Iterator[str]:
    """The tokens of ``path`` in order; a :class:`TokensFileError` if it cannot be read."""
    for _, _, token in numbered_tokens(path):
        yield token


def has_tokens(path: TokensSource) -> bool:
    """Whether ``path`` holds at least one token (reading no further than the first)."""
    tokens = numbered_tokens(path)
    try:
        return next(tokens, None) is not None
    finally:
        tokens.close()


@define
class TokenPlan:
    """What a run has to do: the digests still to fetch, and what was left out and why."""

    pending: set[bytes] = field(factory=set, repr=False)
    unusable: set[bytes] = field(factory=set, repr=False)  # to fail at once, never sent
    done_ok: int = 0  # distinct tokens with an ok line already
    done_failed: int = 0  # distinct tokens with a failed line already, kept as it is
    kept_transient: int = 0  # ... of them, transient failures kept (--no-retry)
    retried_transient: int = 0  # tokens fetched again after a transient failure
    retried_permanent: int = 0  # tokens fetched again after a permanent one (--retry-failed)
    duplicates: int = 0  # token lines that repeat an earlier one
    left_out: int = 0  # distinct tokens the filter left out (another shard's)
    tokens: int = 0  # distinct tokens in the file

    @property
    def to_fetch(self) -> int:
        return len(self.pending)

    @property
    def to_do(self) -> int:
        """Tokens to fetch, and unusable tokens to write a failed line for."""
        return len(self.pending) + len(self.unusable)

    @property
    def retried(self) -> int:
        return self.retried_transient + self.retried_permanent


def plan_tokens(
    path: TokensSource,
    done: Mapping[bytes, Outcome],
    keep: Callable[[bytes], bool] = every_token,
    retry: RetryMode = "transient",
) -> TokenPlan:
    """Read ``path`` once: which tokens are still to fetch, given ``done`` (digest -> the
    outcome of its current line), the filter ``keep`` (a shard of the tokens, say) and which
    failures to fetch again (``retry``)."""
    plan = TokenPlan()
    seen: set[bytes] = set()
    for token in read_tokens(path):
        key = digest(token)
        if key in seen:
            plan.duplicates += 1
            continue
        seen.add(key)
        plan.tokens += 1
        outcome = done.get(key)
        if not keep(key):
            plan.left_out += 1
        elif outcome is None:
            (plan.pending if token_problem(token) is None else plan.unusable).add(key)
        elif outcome == "ok":
            plan.done_ok += 1
        elif retry == "failed" or (retry == "transient" and outcome == "transient"):
            (plan.pending if token_problem(token) is None else plan.unusable).add(key)
            if outcome == "transient":
                plan.retried_transient += 1
            else:
                plan.retried_permanent += 1
        else:
            plan.done_failed += 1
            plan.kept_transient += outcome == "transient"
    return plan


def pending_tokens(
    path: TokensSource,
    plan: TokenPlan,
    stopping: Callable[[], bool],
    unusable: Callable[[int, str, str], object] = lambda number, token, problem: None,
) -> Generator[str, None, None]:
    """The tokens of ``plan.pending``, each once, in file order, until ``stopping()`` says so.

    Asked for one token at a time by the batch, so "take no new tokens" is ``stopping()``
    turning true. Each token handed out leaves ``plan.pending``, so what remains there at
    the end is what was not started. A token of ``plan.unusable`` is given to
    ``unusable(line number, token, problem)`` instead, never to the batch.
    """
    for number, _, token in numbered_tokens(path):
        if stopping():
            return
        key = digest(token)
        if key in plan.pending:
            plan.pending.discard(key)
            yield token
        elif key in plan.unusable:
            plan.unusable.discard(key)
            unusable(number, token, token_problem(token) or "")
