"""Splitting one list of access tokens among N machines, without coordination.

Shard ``K`` of ``N`` (``K`` from 1 to ``N``) holds the tokens whose SHA-256, read as a number,
is ``K - 1`` modulo ``N``: every machine can tell its own tokens from the same file, each token
is in exactly one shard, and the shards are even in size whatever the tokens look like.
"""

from __future__ import annotations

import re

from ._checks import check_instance, check_int, check_positive_int
from ._redact import fingerprint

__all__ = ["digest_in_shard", "in_shard", "parse_shard"]

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` as ``(K, N)``; a ValueError says what is wrong."""
    check_instance("text", text, str)
    match = _SHARD.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a shard: write K/N, e.g. 1/4")
    shard, shards = int(match[1]), int(match[2])
    if shards < 1:
        raise ValueError(f"shard {shard}/{shards}: N must be at least 1")
    if not 1 <= shard <= shards:
        raise ValueError(f"shard {shard}/{shards}: K must be from 1 to N")
    return shard, shards


def in_shard(access_token: str, shard: int, shards: int) -> bool:
    """Whether ``access_token`` belongs to shard ``shard`` (1-based) of ``shards``."""
    return digest_in_shard(bytes.fromhex(fingerprint(access_token)), shard, shards)


def digest_in_shard(digest: bytes, shard: int, shards: int) -> bool:
    """Whether the token whose SHA-256 is ``digest`` (32 bytes) belongs to shard ``shard`` of
    ``shards``: what a results file, which names tokens by digest only, can be checked by."""
    check_int("shard", shard, minimum=None)
    check_positive_int("shards", shards)
    if not 1 <= shard <= shards:
        raise ValueError(f"shard {shard}/{shards}: K must be from 1 to N")
    return int.from_bytes(digest, "big") % shards == shard - 1
