"""Splitting one list of access tokens among N machines, without coordination.

Shard ``K`` of ``N`` (``K`` from 1 to ``N``) holds the tokens whose SHA-256, read as a number,
is ``K - 1`` modulo ``N``: every machine can tell its own tokens from the same file, each token
is in exactly one shard, and the shards are even in size whatever the tokens look like.
"""

from __future__ import annotations

import re

from ._redact import fingerprint

__all__ = ["in_shard", "parse_shard"]

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` as ``(K, N)``; a ValueError says what is wrong."""
    match = _SHARD.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a shard: write K/N, e.g. 1/4")
    shard, shards = int(match[1]), int(match[2])
    if not 1 <= shard <= shards:
        raise ValueError(f"shard {shard}/{shards}: K must be from 1 to N")
    return shard, shards


def in_shard(access_token: str, shard: int, shards: int) -> bool:
    """Whether ``access_token`` belongs to shard ``shard`` (1-based) of ``shards``."""
    if not 1 <= shard <= shards:
        raise ValueError(f"shard {shard}/{shards}: K must be from 1 to N")
    return int(fingerprint(access_token), 16) % shards == shard - 1
