"""`GET /metrics`: the Prometheus text, for the operators' scraper only.

Off the public API: not in the OpenAPI document, no user's token opens it, and it answers
404 (as a path that does not exist) unless the installation set `TRAJECTORY_METRICS_TOKEN`
and the request carries that token as its bearer. Nothing behind it is care data: counts
per route template, commit times, read-model lag, the pool, the version.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get

from trajectory.api.context import client_of, services
from trajectory.api.problems import not_found
from trajectory.metrics import CONTENT_TYPE


def _bearer(request: Request[Any, Any, Any]) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@get("/metrics", include_in_schema=False, sync_to_thread=True)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The metrics to the bearer of the metrics token; 404 to anyone else. A wrong token
    counts towards the same throttle as a wrong user token (a throttled address gets the
    404 whatever it sends)."""
    svc = services(request)
    wanted = svc.application.settings.metrics_token
    if svc.metrics is None or not wanted:
        raise not_found()
    client = client_of(request) or "unknown"
    if svc.throttle.blocked_for(client):
        raise not_found()
    given = _bearer(request)
    if not hmac.compare_digest(given.encode(), wanted.encode()):
        if given:
            svc.throttle.failed(client)
        raise not_found()
    return Response(svc.metrics.render(), media_type=CONTENT_TYPE)
