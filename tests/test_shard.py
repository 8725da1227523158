"""Sharding tokens by their SHA-256."""

from __future__ import annotations

import pytest

from plaid_async.shard import in_shard, parse_shard


def test_every_token_is_in_exactly_one_shard_and_the_shards_are_even() -> None:
    tokens = [f"access-sandbox-{n}" for n in range(4_000)]
    sizes = []
    for shard in range(1, 5):
        mine = [t for t in tokens if in_shard(t, shard, 4)]
        sizes.append(len(mine))
    assert sum(sizes) == len(tokens)
    assert all(sum(in_shard(t, shard, 4) for shard in range(1, 5)) == 1 for t in tokens[:200])
    assert min(sizes) > 900  # about 1,000 each


def test_the_shard_of_a_token_is_its_sha256_modulo_n() -> None:
    # sha256("a") ends in hex b (11): as a number it is 3 mod 4, so shard 4 of 4
    assert in_shard("a", 4, 4)
    assert not in_shard("a", 1, 4)
    assert in_shard("a", 1, 1)


@pytest.mark.parametrize("text", ["", "1", "0/4", "5/4", "a/b", "1/0", "-1/4"])
def test_bad_shards_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        parse_shard(text)


def test_a_shard_parses() -> None:
    assert parse_shard(" 2/8 ") == (2, 8)
