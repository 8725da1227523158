"""How a worker finds a job's token in its tokens file: by line and SHA-256, read on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from plaid_async.cli import item_refs
from plaid_async.cli.item_refs import TokenIndex, item_ref, parse_item_ref
from tests.cli.conftest import write_tokens


def test_a_reference_is_the_line_and_the_sha256() -> None:
    ref = item_ref(7, "access-sandbox-x")
    line, digest = parse_item_ref(ref)
    assert line == 7
    assert len(digest) == 64
    assert "access-" not in ref


@pytest.mark.parametrize("ref", ["", "7", "7:abc", "x:" + "0" * 64, "7:" + "A" * 64])
def test_anything_else_is_not_a_reference(ref: str) -> None:
    with pytest.raises(ValueError, match="not a reference"):
        parse_item_ref(ref)


async def test_the_token_is_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.txt"
    path.write_bytes("\ufeff# comment\r\ntok-one\r\n\r\ntok-two\n".encode())
    index = TokenIndex(path)
    assert len(index) == 2
    assert await index.token_for(item_ref(2, "tok-one")) == "tok-one"
    assert await index.token_for(item_ref(4, "tok-two")) == "tok-two"


async def test_a_token_added_later_is_found_and_one_gone_is_a_lookup_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_tokens(tmp_path / "tokens.txt", ["tok-one", "tok-two"])
    index = TokenIndex(path)
    monkeypatch.setattr(item_refs, "RESCAN_EVERY", 0.0)
    write_tokens(path, ["tok-zero", "tok-two", "tok-three"])  # lines moved, one gone, one new
    assert await index.token_for(item_ref(3, "tok-three")) == "tok-three"
    assert await index.token_for(item_ref(2, "tok-two")) == "tok-two"
    with pytest.raises(LookupError, match="no token with SHA-256") as caught:
        await index.token_for(item_ref(1, "tok-one"))
    assert "tok-one" not in str(caught.value)
