"""The tokens file of ``refresh``: one access token a line; blank lines and ``#`` lines skipped.

Read twice, never held whole: first to count what is to do (each distinct token once, minus
those with a line in the results file already, minus those a filter leaves out), then again
while fetching, handing out one token at a time. Only SHA-256 digests are kept in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path

from attrs import define, field

from plaid_async._redact import fingerprint

__all__ = [
    "TokenPlan",
    "TokensFileError",
    "digest",
    "numbered_tokens",
    "pending_tokens",
    "plan_tokens",
    "read_tokens",
]


class TokensFileError(Exception):
    """The tokens file cannot be read."""


def digest(token: str) -> bytes:
    """The token's SHA-256 (what the results file names it by), as 32 bytes."""
    return bytes.fromhex(fingerprint(token))


def every_token(_: bytes) -> bool:
    return True


def read_tokens(path: Path) -> Iterator[str]:
    """The tokens of ``path`` in order; a :class:`TokensFileError` if it cannot be read."""
    for _, _, token in numbered_tokens(path):
        yield token


def numbered_tokens(path: Path) -> Iterator[tuple[int, int, str]]:
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


@define
class TokenPlan:
    """What a run has to do: the digests still to fetch, and what was left out and why."""

    pending: set[bytes] = field(factory=set, repr=False)
    done_ok: int = 0  # distinct tokens with an ok line already
    done_failed: int = 0  # distinct tokens with a failed line already
    duplicates: int = 0  # token lines that repeat an earlier one
    left_out: int = 0  # distinct tokens the filter left out (another shard's)

    @property
    def to_fetch(self) -> int:
        return len(self.pending)


def plan_tokens(
    path: Path, done: Mapping[bytes, bool], keep: Callable[[bytes], bool] = every_token
) -> TokenPlan:
    """Read ``path`` once: which tokens are still to fetch, given ``done`` (digest -> ok) and
    the filter ``keep`` (a shard of the tokens, say)."""
    plan = TokenPlan()
    seen: set[bytes] = set()
    for token in read_tokens(path):
        key = digest(token)
        if key in seen:
            plan.duplicates += 1
            continue
        seen.add(key)
        if not keep(key):
            plan.left_out += 1
        elif key in done:
            if done[key]:
                plan.done_ok += 1
            else:
                plan.done_failed += 1
        else:
            plan.pending.add(key)
    return plan


def pending_tokens(
    path: Path, plan: TokenPlan, stopping: Callable[[], bool]
) -> Generator[str, None, None]:
    """The tokens of ``plan.pending``, each once, in file order, until ``stopping()`` says so.

    Asked for one token at a time by the batch, so "take no new tokens" is ``stopping()``
    turning true. Each token handed out leaves ``plan.pending``, so what remains there at
    the end is what was not started.
    """
    for token in read_tokens(path):
        if stopping():
            return
        key = digest(token)
        if key in plan.pending:
            plan.pending.discard(key)
            yield token
