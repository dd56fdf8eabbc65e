"""Whether a state-changing request came from our own pages: the second line of defence
against cross-site request forgery, behind the session's CSRF token.

Browsers say where a form was posted from: `Sec-Fetch-Site`, `Origin` (sent with every
POST by current browsers) and, failing that, `Referer`. A request that names another
site in any of them is refused, even with a valid token (a token can leak; a script on a
sibling sub-domain is "same-site" but not ours). A request that names none (an older
browser, a privacy proxy that strips them) is judged by the token alone.

Our own origin is the request's host (`Host`, which the reverse proxy passes on). The
scheme is not compared: behind a TLS proxy that is not configured as trusted the request
looks like plain HTTP, while the browser's Origin says https; the host alone decides
which site the form came from.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection

_OWN_FETCH_SITES = ("same-origin", "none")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _host_of(url: str) -> str | None:
    """`host[:port]` of a URL, without the scheme's default port; None if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address is written in brackets in a Host header
        host = f"[{host}]"
    if port is None or str(port) == _DEFAULT_PORTS[parts.scheme]:
        return host
    return f"{host}:{port}"


def _own_host(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    host = connection.headers.get("host", "").strip().lower()
    if not host:
        return None
    for port in _DEFAULT_PORTS.values():
        if host.endswith(":" + port):
            return host[: -len(port) - 1]
    return host


def from_our_own_pages(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """False when the browser says the request came from another site."""
    fetch_site = connection.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in _OWN_FETCH_SITES:
        return False
    origin = connection.headers.get("origin")
    if origin == "null" and fetch_site is not None:
        # Our pages send no referrer (Referrer-Policy: no-referrer), so a browser posts
        # their forms with `Origin: null`; its Sec-Fetch-Site, which no page can set,
        # already said the form is our own. Without that header `null` names no site.
        return True
    if origin is not None:
        return _host_of(origin) is not None and _host_of(origin) == _own_host(connection)
    referer = connection.headers.get("referer")
    if referer is not None:
        return _host_of(referer) is not None and _host_of(referer) == _own_host(connection)
    return True
