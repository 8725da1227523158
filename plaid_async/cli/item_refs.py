"""How ``enqueue`` names a token in a job, and how ``worker`` finds the token again.

A job names its token by ``<line>:<sha256>``: the line of the tokens file and the token's
SHA-256, never the token (jobs live in Redis). Every worker has the same tokens file (as every
``--shard`` run does); it keeps only each token's digest and where its line starts, and reads
the token from the file when a job asks for it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from plaid_async._redact import fingerprint

from .tokens import numbered_tokens

__all__ = ["TokenIndex", "item_ref", "parse_item_ref"]

_REF = re.compile(r"(\d+):([0-9a-f]{64})")
RESCAN_EVERY = 5.0
"""Seconds between two rereads of the tokens file for a reference it did not hold."""


def item_ref(line: int, token: str) -> str:
    """The job's name for the token on ``line``."""
    return f"{line}:{fingerprint(token)}"


def parse_item_ref(ref: str) -> tuple[int, str]:
    """The line and SHA-256 (hex) of a reference; ``ValueError`` if it is not one."""
    match = _REF.fullmatch(ref)
    if match is None:
        raise ValueError("not a reference of plaid-async enqueue (<line>:<sha256>)")
    return int(match[1]), match[2]


class TokenIndex:
    """The tokens of a file by SHA-256, read from the file when asked for.

    A token the index does not know sends it back to the file (at most every few seconds),
    so tokens added to the file after the worker started are found.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offsets: dict[str, int] = {}
        self._scanned = float("-inf")
        self.scan()

    def __len__(self) -> int:
        return len(self._offsets)

    def scan(self) -> None:
        offsets: dict[str, int] = {}
        for _, offset, token in numbered_tokens(self.path):
            offsets.setdefault(fingerprint(token), offset)
        self._offsets = offsets
        self._scanned = time.monotonic()

    async def token_for(self, ref: str) -> str:
        """The token of ``ref``; ``LookupError`` if the file has none with its SHA-256 (the
        message holds the digest's start, never a token)."""
        _, digest = parse_item_ref(ref)
        token = self._read(digest)
        if token is None and time.monotonic() - self._scanned >= RESCAN_EVERY:
            self.scan()  # added to the file since, or moved within it
            token = self._read(digest)
        if token is None:
            raise LookupError(f"no token with SHA-256 {digest[:12]}… in {self.path}")
        return token

    def _read(self, digest: str) -> str | None:
        offset = self._offsets.get(digest)
        if offset is None:
            return None
        with self.path.open("rb") as file:
            file.seek(offset)
            raw = file.readline()
        token = raw.decode("utf-8-sig" if offset == 0 else "utf-8", "replace").strip()
        return token if fingerprint(token) == digest else None
