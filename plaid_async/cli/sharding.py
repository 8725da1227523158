"""``--shard K/N``: which tokens a run takes, and which results files it may resume.

A run of shard K of N takes the tokens whose SHA-256 falls in it (:mod:`plaid_async.shard`) and
writes ``"shard":"K/N"`` into each line, so that the N results files never share a token: a run
refuses an ``--out`` with a line of another shard (labelled with another shard, or, unlabelled
from before or from a run without ``--shard``, for a token outside its own), and a run without
``--shard`` refuses a shard's file, which would have it fetch every other shard's tokens too.
"""

from __future__ import annotations

import click
from attrs import frozen

from plaid_async.shard import digest_in_shard, parse_shard

__all__ = ["Shard", "foreign_line", "shard_option"]


@frozen
class Shard:
    """Shard ``number`` (from 1) of ``count``."""

    number: int
    count: int

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"

    def holds(self, digest: bytes) -> bool:
        """Whether the token whose SHA-256 is ``digest`` is this shard's."""
        return digest_in_shard(digest, self.number, self.count)


def foreign_line(shard: Shard | None, label: str | None, digest: bytes) -> str | None:
    """Why a line of ``--out`` (its ``shard`` label, if any, and its token's digest) is not
    this run's to resume, or None if it is."""
    if shard is None:
        if label is None:
            return None
        return f"is a result of shard {label}: give --shard {label}, or another --out"
    if label is not None and label != str(shard):
        return f"is a result of shard {label}, not of {shard}: give each shard its own --out"
    if label is None and not shard.holds(digest):
        return (
            f"is the result of a token outside shard {shard} (written without --shard): "
            "give each shard its own --out"
        )
    return None


def shard_option(ctx: click.Context, param: click.Parameter, value: str | None) -> Shard | None:
    """The callback of ``--shard K/N``: a bad one is a usage error saying what is wrong.
    (A callback, not a ``click.ParamType``, which is generic in some click versions only.)"""
    if value is None:
        return None
    try:
        return Shard(*parse_shard(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
