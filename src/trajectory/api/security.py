"""Authentication (bearer tokens), role checks, throttling, and per-record visibility.

Order of refusal: 429 (throttled client) -> 401 (no valid token, or an expired one) -> 403
(role may not use this endpoint) -> 403 (the token lacks the scope the route needs) -> 404
(a trajectory the caller may not see, worded as a missing one).

A route names the scope it needs in its `opt` ("scope"); without one, reading (GET) needs
`read` and anything else `write`. The irreversible acts need `export` or `erase`, which
only a step-up token carries (`identity.step_up`, `POST /auth/step-up`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from functools import partial
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from trajectory.aggregates.errors import TrajectoryNotFound
from trajectory.api.context import Services
from trajectory.api.errors import ApiError, FieldError, not_found
from trajectory.clock import amsterdam_date
from trajectory.crypto import TrajectoryErased
from trajectory.identity.users import SENSITIVE_SCOPES, Bearer, TokenExpired, User
from trajectory.visibility import visible_row

ADMIN = ("admin",)
AUDITORS = ("admin", "privacy")
"""Who reads who looked at a girl's file: her organisation's admins and privacy officer."""
RESEARCHER = ("researcher",)
STEPS_UP = ("researcher", "admin")
"""The roles with an act that needs a step-up token."""

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="trajectory"'}


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard on every protected route: a valid token, then a role the route allows."""
    svc: Services = connection.app.state["services"]
    client = connection.client.host if connection.client else "unknown"
    wait = svc.throttle.blocked_for(client)
    if wait:
        raise ApiError(
            429,
            "too many failed authentication attempts; wait and try again",
            headers={"Retry-After": str(int(wait))},
        )
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "a bearer token is required", headers=_CHALLENGE)
    try:
        bearer = await _authenticate(svc, token.strip())
    except TokenExpired as e:
        # A genuine token, so no guess: not counted as a failure.
        ask = "step up again" if e.step_up else "ask an administrator for a new one"
        raise ApiError(
            401,
            f"the token expired at {e.expires_at.isoformat()}; {ask}",
            rule="token-expired",
            headers=_CHALLENGE,
        ) from None
    if bearer is None:
        svc.throttle.failed(client)
        raise ApiError(401, "the token is not valid", headers=_CHALLENGE)
    user = bearer.user
    state = connection.scope.setdefault("state", {})
    state["user"], state["bearer"] = user, bearer
    roles: tuple[str, ...] = handler.opt.get("roles", ())
    if user.role not in roles:
        raise ApiError(403, f"the role {user.role} may not use this endpoint")
    check_scope(bearer, required_scope(handler, str(connection.scope.get("method", "GET"))))
    check_query_not_repeated(connection)


def required_scope(handler: BaseRouteHandler, method: str) -> str:
    """The scope the route names in its `opt`, else `read` to read and `write` to act."""
    named = handler.opt.get("scope")
    if named is not None:
        return str(named)
    return "read" if method in ("GET", "HEAD") else "write"


def check_scope(bearer: Bearer, scope: str) -> None:
    if scope in bearer.scopes:
        return
    if scope in SENSITIVE_SCOPES:
        raise ApiError(
            403,
            f"this act needs a step-up token (scope {scope}), not a long-lived one: POST"
            " /auth/step-up with your password and a new TOTP code, then send the token it"
            " answers",
            rule="step-up-required",
        )
    raise ApiError(403, f"the token lacks the scope {scope}", rule="scope-missing")


async def _authenticate(svc: Services, token: str) -> Bearer | None:
    """The token's bearer: on SQLite read on the event loop itself (an indexed read costs
    less than the hop to a worker thread), on PostgreSQL (a network round trip) or when
    SQLite is busy, in a worker thread. Raises TokenExpired past its lifetime."""
    now = svc.application.clock()
    if svc.loop_reader is not None:
        with contextlib.suppress(sqlite3.Error):
            return svc.users.check_token(token, now=now, via=svc.loop_reader)
    return await anyio.to_thread.run_sync(
        partial(svc.users.check_token, token, now=now)
    )


def check_query_not_repeated(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Every query parameter of ours takes one value: a repeated one is ambiguous (which
    would win depends on the framework), so it is refused rather than guessed at."""
    seen: set[str] = set()
    for key, _ in connection.query_params.multi_items():
        if key in seen:
            raise ApiError(
                422,
                f"the query parameter {key[:40]!r} is given more than once",
                errors=[FieldError(field=key[:40], message="given more than once")],
            )
        seen.add(key)


def check_visible(svc: Services, user: User, trajectory_id: UUID) -> dict[str, Any]:
    """The trajectory's index row, if this user may see it; otherwise 404 (410 for an
    erased one she could have seen). The rule is `trajectory.visibility`'s."""
    try:
        app = svc.application
        return visible_row(
            app.db, user, trajectory_id, today=amsterdam_date(app.clock()),
            grace_days=app.settings.aftercare_grace_days, now=app.clock(),
        )
    except TrajectoryNotFound:
        raise not_found() from None
    except TrajectoryErased:
        raise ApiError(410, "this trajectory was erased") from None
