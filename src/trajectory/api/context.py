"""What every handler needs: the services (built once, in create_app) and the caller."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import anyio.to_thread
from litestar import Request

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.api.problems import ApiError, not_found
from trajectory.api.throttle import FailureThrottle
from trajectory.application import Actor, TrajectoryApplication
from trajectory.idempotency import IdempotencyStore
from trajectory.identity.users import User, UserStore
from trajectory.metrics import Metrics
from trajectory.persistence.database import LoopReader
from trajectory.projections import ProjectionRunner

T = TypeVar("T")

ACCESS_WRITERS = 4
"""Access-log entries committed at once beside the reads they log."""


def access_writer_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=ACCESS_WRITERS, thread_name_prefix="access-log")


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
    write_limiter: anyio.CapacityLimiter | None = None
    """Worker threads the write path may use at once (None: the default pool's)."""
    loop_reader: LoopReader | None = None
    """SQLite: the token lookup on the event loop itself, without a hop to a thread."""
    access_writers: ThreadPoolExecutor = field(default_factory=access_writer_pool)
    """Threads that commit a read's access-log entry while the read runs (`api.reads`);
    owned by the app, shut down when it stops."""
    metrics: Metrics | None = None
    """What `/metrics` shows (None: the endpoint is off, and nothing is counted)."""


SQLITE_WRITERS = 2
"""Worker threads for writes on SQLite. Its writes go one at a time anyway; more threads
only take turns at the interpreter lock (16 clients writing at once: 140 events/s with the
default 40 threads, 200-250 with 2, 155-175 with 4). Reads keep the default pool, so a long
read (an export) never waits for writes, nor writes for it. PostgreSQL keeps the default:
its writes wait on the network, and more of them overlap (130 events/s with 40, 94 with 2)."""


async def in_write_thread(request: Request[Any, Any, Any], work: Callable[[], T]) -> T:
    """Run a write (which calls the synchronous event store) in a worker thread."""
    return await anyio.to_thread.run_sync(work, limiter=services(request).write_limiter)


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
