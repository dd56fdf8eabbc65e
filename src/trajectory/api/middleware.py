"""ASGI middleware: a request id, security headers, and one structured log line per request.

Care data must not linger in caches (`Cache-Control: no-store`); nothing may be framed or
sniffed; no server banner is sent; over HTTPS, HSTS. The log line carries the request
id, never a name or free text.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from trajectory.metrics import Metrics

log = structlog.get_logger("trajectory.http")

_STRICT_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The interactive API docs page loads its viewer; only that page gets a wider policy.
_DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
    b" style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data:;"
    b" connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The web pages (/app) load their own styles and images, and post their own forms;
# nothing from anywhere else.
_WEB_CSP = (
    b"default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self';"
    b" form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Served over HTTPS, the browser is told to come back over HTTPS only, for a year: a
# network attacker can then no longer strip TLS from a later visit. Sub-domains are left
# to the organisation (they may serve other things).
_HSTS = b"max-age=31536000"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _headers(path: str, docs_page: bool = False) -> list[tuple[bytes, bytes]]:
    docs = docs_page and path.startswith("/schema") and not path.endswith(".json")
    web = path == "/app" or path.startswith("/app/")
    csp = _WEB_CSP if web else _DOCS_CSP if docs else _STRICT_CSP
    return [
        (b"cache-control", b"no-store"),
        (b"pragma", b"no-cache"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", csp),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]


class HttpHygiene:
    def __init__(self, app: ASGIApp, *, docs_page: bool = False, metrics: Metrics | None = None):
        """`docs_page`: the interactive API docs are served, and get their wider policy.
        `metrics`: each request counted and timed there, by its route template."""
        self.app = app
        self.docs_page = docs_page
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 0}
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"server", b"cache-control")
                ]
                headers.extend(_headers(path, self.docs_page))
                if scope.get("scheme") == "https":  # (as a trusted proxy forwarded it)
                    headers.append((b"strict-transport-security", _HSTS))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            route = _route_of(scope)
            log.info(
                "http_request",
                request_id=request_id,
                method=scope.get("method"),
                route=route,
                status=status_holder["status"],
                ms=round(seconds * 1000, 2),
            )
            if self.metrics is not None:
                self.metrics.observe_request(
                    _method_of(scope), route, status_holder["status"], seconds
                )


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_of(scope: Scope) -> str:
    """The method as a label: any other word a client sends is one label, not many."""
    method = str(scope.get("method", ""))
    return method if method in _METHODS else "OTHER"


def _route_of(scope: Scope) -> str:
    """The route template, so that logs carry no ids from the path."""
    handler = scope.get("route_handler")
    paths = getattr(handler, "paths", None)
    if paths:
        return str(sorted(paths)[0])
    return "(unmatched)"
