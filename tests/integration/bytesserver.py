"""A hostile server on loopback that answers every request with bytes a test wrote by hand.

aiohttp.web cannot send a malformed status line, a header of 100 KiB or a gzip bomb with a
lying Content-Length; this server writes whatever it is told to, straight onto the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable

from tests.samples import response_doc

Answer = Callable[[bytes], bytes | Iterable[bytes]]
"""The bytes to write back, given the request's bytes (head and body): all at once, or piece
by piece (each written when the client has read the one before)."""

OK_BODY = json.dumps(response_doc()).encode()


def http_answer(
    body: bytes,
    *,
    status: str = "200 OK",
    headers: dict[str, str] | None = None,
    content_type: str | None = "application/json",
) -> bytes:
    """A well-formed HTTP/1.1 answer with a Content-Length, closing the connection."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class BytesServer:
    """Reads one request per connection, writes ``answer(request)``, closes."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests = 0
        self.url = ""
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            body = await reader.readexactly(length)
            self.requests += 1
            answer = self.answer(head + body)
            for piece in [answer] if isinstance(answer, bytes) else answer:
                writer.write(piece)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up first: that is what some tests want
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def __aenter__(self) -> BytesServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
