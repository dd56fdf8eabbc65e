"""The server's guard on each connection: a request head must arrive in time and within
the edge's limits, counted on the raw bytes.

uvicorn's httptools protocol has neither: it buffers a header of any size (8 MB was
accepted) and keeps a half-sent head open for ever (one line every 10 seconds kept a
connection for over a minute; hundreds of them hold sockets and memory). This subclass
adds both, and nothing else:

- from a connection's first moment, or a new request's first byte, the head (request
  line and header fields) must be complete within `head_seconds`; otherwise 408 (or,
  when nothing was sent at all, a silent close) and the connection ends;
- a head that grows past the edge's limits (`api.edge`) before it is complete is
  answered 431 and the connection ends, without buffering the rest.

The body is not timed here: Litestar reads it with its own size limit, after the guard.
What must not change: a complete head within the limits passes untouched, so the
application behaves as under plain uvicorn.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from trajectory.api.edge import (
    MAX_HEAD_BYTES,
    MAX_TARGET_BYTES,
    edge_problem,
    problem_answer,
)

HEAD_SECONDS = 10.0
"""How long a request head may take to arrive. A browser sends it in one packet."""
LINGER_SECONDS = 2.0
"""How long a refused connection is still read (and dropped) before it is closed."""
MAX_RAW_HEAD_BYTES = MAX_TARGET_BYTES + MAX_HEAD_BYTES + 4 * 1024
"""The raw head: the target and the header fields, with room for the request line's
method and version and each field's separators. The exact limits per field are checked
by `api.edge.HeadLimits` once the head is complete."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head deadline and a head size limit."""

    head_seconds = HEAD_SECONDS
    max_raw_head_bytes = MAX_RAW_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused or self.transport.is_closing():
            return  # the rest of a refused head is read and dropped
        if self._in_head:
            self._arm_head_timer()
            self._head_bytes += len(data)
        super().data_received(data)
        if (
            self._in_head
            and self._head_bytes > self.max_raw_head_bytes
            and not self.transport.is_closing()
        ):
            self._answer_and_close(431)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # the next request's head; timed from its first byte

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_seconds, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self._head_bytes:
            self._answer_and_close(408)
        else:
            self.transport.close()

    def _answer_and_close(self, status: int) -> None:
        self._disarm_head_timer()
        if status == 431:
            problem = edge_problem(
                431, "headers", f"request head over {self.max_raw_head_bytes} bytes"
            )
        else:
            problem = edge_problem(408, "headers", f"not complete within {self.head_seconds:g} s")
        body, headers = problem_answer(problem)
        reason = b"Request Timeout" if status == 408 else b"Request Header Fields Too Large"
        head = b"HTTP/1.1 %d %s\r\n" % (status, reason)
        head += b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        self._refused = True
        self.transport.write(head + b"\r\n" + body)
        # Half-close and drop what still comes, then close: closing with unread bytes
        # would reset the connection, and the client could lose the answer.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
