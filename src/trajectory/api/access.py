"""Access logging for requests that failed: denied, refused, rejected (NEN 7513 spirit).

Successful acts log themselves (a write inside its own transaction, a read before the
answer). Here the exception handler records the attempts that did not get through.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request

from trajectory.api.context import access_entry, services

log = structlog.get_logger("trajectory.api.access")

_LOGGED_PREFIXES = (
    "/trajectories", "/audit", "/research", "/quality", "/statistics", "/organisation",
    "/inspection",
)


def action_of(request: Request[Any, Any, Any]) -> str:
    path = request.url.path.rstrip("/")
    if path.startswith("/audit"):
        return "audit-read"
    if request.method in ("GET", "HEAD"):
        return "search" if path == "/trajectories" else "read"
    return "write"


def outcome_of(status: int) -> str:
    if status in (401, 403, 404, 410, 429):
        return "denied"
    if status == 409:
        return "refused"
    if status >= 500:
        return "failed"
    return "rejected"


def log_failure(request: Request[Any, Any, Any], status: int) -> None:
    if not request.url.path.startswith(_LOGGED_PREFIXES):
        return
    if status == 503:
        # The store is unavailable: nothing was read or written, and an entry could not be
        # written either (trying would hold the answer for another wait on the database).
        # The request is in the JSON log (`store_unavailable`, `http_request`).
        return
    if request.scope.get("state", {}).get("access_logged"):
        return
    trajectory_id = _trajectory_of(request)
    try:
        entry = access_entry(
            request,
            action=action_of(request),
            trajectory_id=trajectory_id,
            outcome=outcome_of(status),
        )
        services(request).access.append(entry)
    except Exception as e:  # the failure is answered already; do not mask it
        log.error("access_log_write_failed", error_type=type(e).__name__, status=status)


def _trajectory_of(request: Request[Any, Any, Any]) -> str | None:
    """The trajectory a request is about: in its path, or (the audit log) in its query."""
    from_path = request.path_params.get("trajectory_id") if request.path_params else None
    if from_path:
        return str(from_path)
    from_query = request.query_params.get("trajectory")
    return str(from_query)[:64] if from_query else None
