"""The server's own address (`/`): a person lands on the pages, a program on the API's index.

Someone who types the server's address into a browser should land on the care pages
(`/app/`), not on a 404; a program asking the same address gets a small JSON index with
where the OpenAPI document and the health check are. No care data is behind either
answer, so anyone may ask.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.response import Redirect

from trajectory import __version__


class LinkOut(msgspec.Struct, kw_only=True):
    href: str
    title: str


class IndexOut(msgspec.Struct, kw_only=True):
    name: str
    version: str
    links: dict[str, LinkOut]


INDEX = IndexOut(
    name="trajectory",
    version=__version__,
    links={
        "openapi": LinkOut(href="/schema/openapi.json", title="The OpenAPI document"),
        "health": LinkOut(href="/health", title="Liveness and store reachability"),
        "pages": LinkOut(href="/app/", title="The web pages, for people"),
    },
)


def wants_html(accept: str) -> bool:
    """A browser names text/html in its Accept header; an API client names JSON, or
    nothing, or */*. Only an explicit text/html (not refused with q=0) is a browser."""
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        if media.strip().lower() not in ("text/html", "application/xhtml+xml"):
            continue
        quality = params.replace(" ", "").lower()
        if "q=0" in quality and not any(f"q=0.{d}" in quality for d in "123456789"):
            continue
        return True
    return False


@get(
    "/",
    summary="The index: browsers to the pages, API clients to the links",
    description="With `Accept: text/html` a redirect (303) to the web pages at `/app/`;"
    " otherwise a small JSON index linking the OpenAPI document and the health check.",
    tags=["system"],
    security=[{}],  # anyone may ask: nothing behind it
    status_code=200,
    responses=None,
)
async def root_index(request: Request[Any, Any, Any]) -> Response[Any]:
    """Redirects a browser to `/app/`; answers anyone else with the API's index."""
    if wants_html(request.headers.get("accept", "")):
        return Redirect(path="/app/", status_code=303)
    return Response(content=INDEX, headers={"Vary": "Accept"})
