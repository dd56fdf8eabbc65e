"""What the reverse proxy says about the request it passes on, believed only from the
proxies the operator named (`TRAJECTORY_TRUSTED_PROXIES`).

Behind a TLS-terminating proxy every request reaches us as plain HTTP from the proxy's
address. Without the proxy's word the session cookie is never marked Secure (the
"auto" setting sees no HTTPS), no HSTS is sent, and every client shares the proxy's
address: one guesser's failures throttle everybody, and the access log records the proxy.
With it, the request's scheme is the one the browser used (`X-Forwarded-Proto`, or
`proto=` of `Forwarded`) and its client the address the proxy saw (`X-Forwarded-For`,
or `for=` of `Forwarded`: the rightmost address that is not itself a trusted proxy).

From anyone else these headers are ignored: a client that sends them to us directly
would otherwise choose its own address and escape its throttle.
"""

from __future__ import annotations

import ipaddress
import re

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from trajectory.settings import Network

_FORWARDED_PAIR = re.compile(r'(?i)\b(for|proto)=("[^"]*"|[^;,\s]*)')


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("["):  # [v6]:port
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


class TrustedProxies:
    """ASGI middleware: from a trusted proxy, the scheme and client it forwards replace
    the connection's own."""

    def __init__(self, app: ASGIApp, networks: tuple[Network, ...]):
        self.app = app
        self.networks = networks

    def _trusted(self, host: str | None) -> bool:
        address = _address(host) if host else None
        return address is not None and any(address in n for n in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if (
            self.networks
            and scope["type"] in (ScopeType.HTTP, ScopeType.WEBSOCKET)
            and client
            and self._trusted(client[0])
        ):
            scope = self._forwarded(scope)  # type: ignore[assignment]
        await self.app(scope, receive, send)

    def _forwarded(self, scope: Scope) -> dict[str, object]:
        headers: dict[bytes, list[str]] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.lower(), []).append(value.decode("latin-1"))
        protos: list[str] = []
        hops: list[str] = []
        if b"forwarded" in headers:
            for name, value in _FORWARDED_PAIR.findall(",".join(headers[b"forwarded"])):
                (protos if name.lower() == "proto" else hops).append(value.strip('"'))
        else:
            protos = [p for v in headers.get(b"x-forwarded-proto", []) for p in v.split(",")]
            hops = [h for v in headers.get(b"x-forwarded-for", []) for h in v.split(",")]
        new: dict[str, object] = dict(scope)
        # The nearest proxy's word counts: the last value it appended or set.
        proto = protos[-1].strip().lower() if protos else ""
        if proto in ("http", "https"):
            new["scheme"] = proto if scope["type"] == ScopeType.HTTP else (
                "wss" if proto == "https" else "ws")
        for hop in reversed(hops):
            if self._trusted(hop.strip()):
                continue
            address = _address(hop)
            if address is not None:
                client = scope.get("client")
                new["client"] = (str(address), client[1] if client else 0)
            break
        return new
