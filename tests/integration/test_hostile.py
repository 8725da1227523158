"""Hostile and broken servers, on real sockets: every answer ends in a typed error, in bounded
time and memory, and no server bytes that might echo a secret reach an exception."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from functools import cache

import pytest

from plaid_async import (
    PlaidClient,
    PlaidConnectionError,
    PlaidResponseError,
    PlaidTimeoutError,
    RetryPolicy,
)
from plaid_async.sandbox import SandboxServer
from tests.integration.bytesserver import OK_BODY, BytesServer, http_answer
from tests.integration.test_leaks import assert_clean, texts_of
from tests.samples import CLIENT_ID, SECRET, TOKEN

TWO_TRIES = RetryPolicy(max_attempts=2, wait_initial=0.001, wait_max=0.001)
CAP = 1024 * 1024
INFLATED = 64 * CAP  # what each bomb inflates to


def client_for(server: BytesServer, **kwargs: object) -> PlaidClient:
    kwargs.setdefault("retry", TWO_TRIES)
    return PlaidClient(CLIENT_ID, SECRET, base_url=server.url, **kwargs)  # type: ignore[arg-type]


def fixed(raw: bytes) -> BytesServer:
    return BytesServer(lambda _: raw)


# --- malformed HTTP: a PlaidResponseError, not retried (it would be malformed again) --------

MALFORMED = {
    "header line of 100 KiB": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    "5,000 headers": b"HTTP/1.1 200 OK\r\n" + b"X-H: v\r\n" * 5_000 + b"\r\n",
    "status code not a number": b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}",
    "not HTTP at all": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "HTTP/0.9 body only": OK_BODY,
    "header without a colon": b"HTTP/1.1 200 OK\r\nBadHeader\r\nContent-Length: 2\r\n\r\n{}",
    "Content-Length not a number": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",
    "two Content-Lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_answer_is_a_response_error(raw: bytes) -> None:
    async with fixed(raw) as server, client_for(server) as client:
        with pytest.raises(PlaidResponseError, match="malformed HTTP answer") as info:
            await client.accounts_get(TOKEN)
    assert not info.value.transient
    assert server.requests == 1
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 200


async def test_server_bytes_in_a_malformed_answer_do_not_reach_the_exception() -> None:
    """aiohttp quotes the offending bytes; a server that echoes the request puts the secret
    and the token there."""

    def echo_in_a_header(request: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nX-Echo " + request.replace(b"\r\n", b" ") + b"\r\n\r\n"

    async with BytesServer(echo_in_a_header) as server, client_for(server) as client:
        with pytest.raises(PlaidResponseError) as info:
            await client.accounts_get(TOKEN)
    assert_clean(texts_of(info.value))


# --- well-formed HTTP whose body is not Plaid's ----------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/plain", "200 OK"),
        ("text/html; charset=utf-8", "200 OK"),
        (None, "200 OK"),
        ("application/json", "203 Non-Authoritative Information"),
    ],
)
async def test_a_valid_body_is_read_whatever_the_content_type_and_2xx(
    content_type: str | None, status: str
) -> None:
    """Lenient where it is safe: the body is parsed and checked against the schema anyway."""
    raw = http_answer(OK_BODY, status=status, content_type=content_type)
    async with fixed(raw) as server, client_for(server) as client:
        resp = await client.accounts_get(TOKEN)
    assert resp.request_id == "bkVE1BHWMAZ9Rnr"


@pytest.mark.parametrize(
    ("raw", "transient"),
    [
        (http_answer(b"", status="204 No Content", content_type=None), True),
        (http_answer(b"\xff\xfe\xfa\xfb not utf-8"), True),
        (http_answer(b'{"accounts": [], "item": null, "request_id": "\xff\xfe"}'), True),
        (http_answer(b"[" * 100_000 + b"]" * 100_000), True),  # deeper than Python recurses
        (http_answer(b'{"accounts": [{"balances": {"current": 1' + b"0" * 5_000 + b"}}]}"), True),
        (
            http_answer(b'{"accounts": [{"account_id": [7]}], "item": null, "request_id": "r"}'),
            False,
        ),
        (http_answer(b'{"accounts": {"0": "x"}, "item": null, "request_id": "r"}'), False),
        (http_answer(b'{"accounts": null, "item": [], "request_id": ["r"]}'), False),
    ],
    ids=[
        "204 empty",
        "invalid UTF-8",
        "invalid UTF-8 in a string",
        "nested 100,000 deep",
        "a 5,000-digit number",
        "account_id a list",
        "accounts an object",
        "item a list",
    ],
)
async def test_a_2xx_body_that_is_not_plaids_is_a_response_error(
    raw: bytes, transient: bool
) -> None:
    async with fixed(raw) as server, client_for(server) as client:
        with pytest.raises(PlaidResponseError) as info:
            await client.accounts_get(TOKEN)
    assert info.value.transient is transient
    assert server.requests == (2 if transient else 1)


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe invalid utf-8 \x80", b'{"error_type": "\xff\xfe", "error_code": 1}', b"[1, 2]"],
)
async def test_an_error_status_with_a_body_that_is_not_plaids(body: bytes) -> None:
    raw = http_answer(body, status="400 Bad Request")
    async with fixed(raw) as server, client_for(server) as client:
        with pytest.raises(PlaidResponseError) as info:
            await client.accounts_get(TOKEN)
    assert info.value.status == 400


# --- compression bombs: stopped at the cap, in memory near the cap ---------------------------


@cache
def bomb(encoding: str) -> bytes:
    """``INFLATED`` bytes of JSON-looking padding, compressed to a few tens of KiB."""
    wbits = {"gzip": 31, "deflate": 15, "raw deflate": -15}[encoding]
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    chunk = b" " * CAP
    out = [packer.compress(b'{"accounts": [' + chunk[14:])]
    out += [packer.compress(chunk) for _ in range(INFLATED // CAP - 1)]
    return b"".join([*out, packer.flush()])


def test_the_bombs_are_what_they_say() -> None:
    assert len(bomb("gzip")) < INFLATED // 500
    assert len(gzip.decompress(bomb("gzip"))) == INFLATED


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate"])
async def test_a_compression_bomb_is_stopped_at_the_cap(encoding: str) -> None:
    body = bomb(encoding)
    header = "deflate" if "deflate" in encoding else encoding
    raw = http_answer(body, headers={"Content-Encoding": header})
    async with fixed(raw) as server, client_for(server, max_response_bytes=CAP) as client:
        tracemalloc.start()
        try:
            with pytest.raises(PlaidResponseError, match="byte cap") as info:
                await client.accounts_get(TOKEN)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert not info.value.transient
    assert server.requests == 1
    # The cap, what was read on the way, the socket's buffers: not the 64 MiB inflated.
    assert peak < 4 * CAP, f"peak {peak / 2**20:.1f} MiB"


async def test_a_chunked_body_without_length_is_stopped_at_the_cap() -> None:
    def endless(request: bytes) -> Iterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
        for _ in range(INFLATED // 65536):
            yield chunk
        yield b"0\r\n\r\n"

    async with BytesServer(endless) as server, client_for(server, max_response_bytes=CAP) as client:
        tracemalloc.start()
        try:
            with pytest.raises(PlaidResponseError, match="byte cap"):
                await client.accounts_get(TOKEN)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 4 * CAP, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("encoding", ["br", "zstd", "x-unknown-codec"])
async def test_an_encoding_that_cannot_be_read_is_a_typed_error(encoding: str) -> None:
    raw = http_answer(b"\x1b\x2c\x00\xf8 not what it says", headers={"Content-Encoding": encoding})
    async with fixed(raw) as server, client_for(server) as client:
        with pytest.raises((PlaidResponseError, PlaidConnectionError)):
            await client.accounts_get(TOKEN)


# --- slow drip: bounded by the attempt's timeout and by the deadline -------------------------


async def test_a_status_line_dripped_a_byte_at_a_time_cannot_hold_a_call() -> None:
    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        try:
            for byte in http_answer(OK_BODY):
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(drip, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with PlaidClient(CLIENT_ID, SECRET, base_url=url, retry=TWO_TRIES) as client:
            start = time.monotonic()
            with pytest.raises(PlaidTimeoutError):
                await client.accounts_get(TOKEN, timeout=0.3)
            elapsed = time.monotonic() - start
    finally:
        server.close()
        await server.wait_closed()
    assert 0.6 <= elapsed < 1.5


async def test_a_dripping_server_cannot_hold_a_call_past_the_deadline(
    plaid_sandbox: SandboxServer,
) -> None:
    """Each attempt's own timeout (10 s) is far away: the 0.5 s deadline ends the call."""
    plaid_sandbox.update_faults(rate_drip=1.0, drip_interval=0.05)
    retry = RetryPolicy(max_attempts=5, wait_initial=0.001, wait_max=0.001, deadline=0.5)
    async with plaid_sandbox.client(retry=retry) as client:
        start = time.monotonic()
        with pytest.raises(PlaidTimeoutError, match="deadline"):
            await client.accounts_get(plaid_sandbox.token(1), timeout=10.0)
        elapsed = time.monotonic() - start
    assert 0.45 <= elapsed < 1.0
