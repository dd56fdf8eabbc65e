"""The edge: how large a request's head may be, checked before anything parses it, and
the Cookie header read without the interpreter's cookie parser.

One request with a 120 kB Cookie header once held the whole server for 22 seconds: the
interpreter's `http.cookies._unquote` (which Litestar uses to read cookies) is quadratic
on backslashes before Python 3.11.10 (CVE-2024-7592), and the web guard reads the cookies
of every page on the event loop. Two things close that, each on its own:

- `HeadLimits` answers 414 or 431 for a request line or header fields over the limits,
  before the router, the guard or any cookie parser sees the request;
- it hands Litestar the cookies already read by `parse_cookies` (linear, the fixed
  interpreter's own rule), so `request.cookies` never calls the vulnerable routine
  whatever the interpreter.

The server's connection guard (`connection_guard`) applies the same limits to the raw
bytes, so that a head over them is not even buffered. What must not change: the limits
only grow with a reason (a proxy in front may be stricter, never looser), and a refusal
here is problem+json naming the field.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import msgspec
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from trajectory.api.problems import PROBLEM, TITLES, FieldError, Problem

MAX_TARGET_BYTES = 8 * 1024
"""The request target (path and query). nginx's default header buffer is 8 kB as well."""
MAX_FIELD_BYTES = 8 * 1024
"""One header field, name and value. Our own cookies together are under 200 bytes."""
MAX_HEAD_BYTES = 32 * 1024
"""All header fields together."""


def head_refusal(scope: Scope) -> Problem | None:
    """The refusal for a request whose head is over the limits, or None."""
    target = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
    if target > MAX_TARGET_BYTES:
        return edge_problem(414, "request target", f"longer than {MAX_TARGET_BYTES} bytes")
    total = 0
    for name, value in scope.get("headers", []):
        size = len(name) + len(value)
        if size > MAX_FIELD_BYTES:
            field = name[:64].decode("latin-1").lower()
            return edge_problem(431, field, f"header field longer than {MAX_FIELD_BYTES} bytes")
        total += size
    if total > MAX_HEAD_BYTES:
        return edge_problem(431, "headers", f"header fields together over {MAX_HEAD_BYTES} bytes")
    return None


def edge_problem(status: int, field: str, message: str) -> Problem:
    return Problem(
        type="about:blank",
        title=TITLES[status],
        status=status,
        detail=f"{field}: {message}; nothing was read",
        errors=[FieldError(field=field, message=message)],
    )


def problem_answer(problem: Problem) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The body and headers of a refusal at the edge (the connection closes after it)."""
    body = msgspec.json.encode(problem)
    return body, [
        (b"content-type", PROBLEM.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]


class HeadLimits:
    """ASGI middleware in front of the app: refuse an oversized head, and read the cookies
    with `parse_cookies` before Litestar would read them with the interpreter's."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            refusal = head_refusal(scope)
            if refusal is not None:
                body, headers = problem_answer(refusal)
                await send(
                    {"type": "http.response.start", "status": refusal.status, "headers": headers}
                )
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            header = Headers.from_scope(scope).get("cookie")
            ScopeState.from_scope(scope).cookies = parse_cookies(header) if header else {}
        await self.app(scope, receive, send)


_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")


def parse_cookies(header: str) -> dict[str, str]:
    """A Cookie header as Litestar reads it (pairs split on ';' and the first '=', a quoted
    value unquoted, then percent-decoded), in one pass: the unquoting is the one the
    interpreter uses since 3.11.10, a single regular-expression substitution, linear in
    the value, where the older one searches the rest of the value again for every
    backslash."""
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        if not sep:
            name, value = "", name
        name, value = name.strip(), value.strip()
        if name or value:
            cookies[name] = unquote(_unquote_cookie(value))
    return cookies


def _unquote_cookie(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    return _ESCAPE.sub(lambda m: chr(int(m[1], 8)) if m[1] else m[2], value[1:-1])
