"""What every handler needs: the services (built once, in create_app) and the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.api.errors import ApiError, not_found
from trajectory.api.throttle import FailureThrottle
from trajectory.application import Actor, TrajectoryApplication
from trajectory.idempotency import IdempotencyStore
from trajectory.projections import ProjectionRunner
from trajectory.users import User, UserStore


@dataclass(frozen=True)
class Services:
    application: TrajectoryApplication
    users: UserStore
    access: AccessLog
    idempotency: IdempotencyStore
    throttle: FailureThrottle
    max_body_bytes: int
    projections: ProjectionRunner
    fresh_reads: bool
    """In-process mode: every read-model query first applies what the log holds."""


def services(request: Request[Any, Any, Any]) -> Services:
    svc = request.app.state["services"]
    assert isinstance(svc, Services)
    return svc


def caller(request: Request[Any, Any, Any]) -> User:
    user = request.scope.get("state", {}).get("user")
    if not isinstance(user, User):
        raise ApiError(401, "a valid bearer token is required")
    return user


def actor(user: User) -> Actor:
    return Actor(user_id=user.user_id, role=user.role, organisation=user.organisation)


def client_of(request: Request[Any, Any, Any]) -> str | None:
    client = request.client
    return client.host if client else None


def request_id(request: Request[Any, Any, Any]) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return str(value) if value is not None else None


def parse_trajectory_id(raw: str) -> UUID:
    """A malformed id is answered like an unknown one."""
    try:
        return UUID(raw)
    except ValueError:
        raise not_found() from None


def access_entry(
    request: Request[Any, Any, Any],
    *,
    action: str,
    trajectory_id: UUID | str | None,
    outcome: str,
) -> AccessEntry:
    user = request.scope.get("state", {}).get("user")
    svc = services(request)
    return AccessEntry(
        at=svc.application.clock(),
        user_id=user.user_id if isinstance(user, User) else None,
        on_behalf_of=None,
        role=user.role if isinstance(user, User) else None,
        organisation=user.organisation if isinstance(user, User) else None,
        client=client_of(request),
        action=action,
        trajectory_id=str(trajectory_id) if trajectory_id is not None else None,
        outcome=outcome,
        request_id=request_id(request),
    )
