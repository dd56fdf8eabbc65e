"""The path every write takes: visibility, idempotency, If-Match, one transaction.

Handlers stay thin: they decode the body (msgspec, via Litestar) and call `write`, which
runs in a worker thread because the event store is synchronous.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response

from trajectory.aggregates.errors import VersionConflict, WriteRefused
from trajectory.api.context import (
    Services,
    access_entry,
    actor,
    caller,
    parse_trajectory_id,
    services,
)
from trajectory.api.errors import ApiError, FieldError
from trajectory.api.schemas import RecordedOut
from trajectory.api.security import check_visible
from trajectory.application import Recorded
from trajectory.clock import parse_occurred
from trajectory.commands import Command, OpenTrajectory
from trajectory.idempotency import IdempotencyStore, StoredAnswer
from trajectory.persistence.database import RowWrite
from trajectory.persistence.recorders import TransactionAborted

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')
_json = msgspec.json.Encoder()


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    match = _ETAG.match(value.strip())
    if match is None:
        raise ApiError(
            422,
            'If-Match must be the ETag of the trajectory, e.g. "7"',
            errors=[FieldError(field="If-Match", message="not a trajectory ETag")],
        )
    return int(match.group(1))


def check_key(key: str | None) -> str | None:
    if key is not None and not _KEY.match(key):
        raise ApiError(
            422,
            "Idempotency-Key must be 1 to 200 visible ASCII characters",
            errors=[FieldError(field="Idempotency-Key", message="invalid")],
        )
    return key


def check_occurred_on(command: Command, now: datetime) -> None:
    """`occurred_on` must read as a date or an RFC 3339 time with an offset: a 422 naming
    it, rather than an error deep in the application. A future date is a rule (409)."""
    try:
        day, _ = parse_occurred(command.occurred_on, now)
    except ValueError as e:
        raise ApiError(
            422,
            "occurred_on must be a date (YYYY-MM-DD) or an RFC 3339 time with an offset",
            errors=[FieldError(field="occurred_on", message=str(e))],
        ) from None
    if day < EARLIEST:
        raise _too_early("occurred_on")


EARLIEST = date(1900, 1, 1)
"""No fact about a girl in care happened before this: an earlier date is a typo (and the
arithmetic on it, ages and days since intake, would go wrong downstream)."""


def _too_early(field: str) -> ApiError:
    return ApiError(
        422,
        f"{field} lies before {EARLIEST.isoformat()}",
        errors=[FieldError(field=field, message=f"before {EARLIEST.isoformat()}")],
    )


def check_dates(value: object, path: str = "") -> None:
    """Every date in a command lies on or after 1900-01-01 (422 naming the first that
    does not). Future dates are the rules' to refuse (409)."""
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        if day < EARLIEST:
            raise _too_early(path or "body")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            check_dates(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            check_dates(item, f"{path}[{n}]")


def request_hash(request: Request[Any, Any, Any], body: bytes) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _response(answer: StoredAnswer, position: int | None = None) -> Response[bytes]:
    headers = {}
    if position is not None:
        # Where the write landed in the whole log: pass it as `min_position` to a read
        # model to read your own write. Not part of a replayed answer.
        headers["X-Log-Position"] = str(position)
    if answer.location:
        headers["Location"] = answer.location
    if answer.etag:
        headers["ETag"] = answer.etag
    return Response(
        answer.body.encode(),
        status_code=answer.status_code,
        media_type="application/json",
        headers=headers,
    )


def _replay(
    request: Request[Any, Any, Any], svc: Services, stored: StoredAnswer, digest: str, tid: UUID
) -> Response[bytes]:
    if stored.request_hash != digest:
        raise ApiError(
            422,
            "this Idempotency-Key was used before with a different request",
            rule="idempotency-key-reused",
            errors=[FieldError(field="Idempotency-Key", message="reused with another body")],
        )
    svc.access.append(access_entry(request, action="write", trajectory_id=tid, outcome="replayed"))
    request.scope["state"]["access_logged"] = True
    return _response(stored)


def _answer(recorded: Recorded, digest: str, *, created: bool) -> StoredAnswer:
    tid = recorded.trajectory_id
    body = RecordedOut(
        id=tid,
        version=recorded.version,
        positions=list(recorded.positions),
        contact_id=recorded.created,
    )
    location = (
        f"/trajectories/{tid}"
        if created
        else f"/trajectories/{tid}/events/{recorded.positions[-1]}"
    )
    return StoredAnswer(
        request_hash=digest,
        status_code=201,
        body=_json.encode(body).decode(),
        location=location,
        etag=f'"{recorded.version}"',
    )


def _rows(
    request: Request[Any, Any, Any],
    svc: Services,
    recorded: Recorded,
    answer: StoredAnswer,
    key: str | None,
    user_id: str,
) -> list[RowWrite]:
    tid = recorded.trajectory_id
    rows = [access_entry(request, action="write", trajectory_id=tid, outcome="ok").row()]
    if key is not None:
        rows.append(
            IdempotencyStore.row(
                user_id=user_id,
                key=key,
                trajectory_id=str(tid),
                answer=answer,
                now=svc.application.clock(),
            )
        )
    return rows


def write(
    request: Request[Any, Any, Any],
    raw_id: str,
    command: Command,
    *,
    body: bytes,
    if_match: str | None,
    idempotency_key: str | None,
) -> Response[Any]:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    check_occurred_on(command, svc.application.clock())
    check_dates(command)
    key = check_key(idempotency_key)
    digest = request_hash(request, body)
    if key is not None and (stored := svc.idempotency.find(user.user_id, key)):
        return _replay(request, svc, stored, digest, tid)
    expected = parse_if_match(if_match)
    answer: list[StoredAnswer] = []

    def also(recorded: Recorded) -> list[RowWrite]:
        answer.append(_answer(recorded, digest, created=False))
        return _rows(request, svc, recorded, answer[-1], key, user.user_id)

    # Without If-Match the caller asked for no particular version: a write that lost the
    # race to another writer of this trajectory runs again on the new version (its rules
    # checked again), for as long as a request may wait on the store.
    deadline = time.monotonic() + svc.application.settings.db_lock_timeout_seconds
    while True:
        try:
            recorded = svc.application.execute(
                tid, command, actor(user), expected_version=expected, also=also
            )
            break
        except (VersionConflict, WriteRefused, TransactionAborted) as e:
            # A concurrent retry with the same key may have won the race: answer as it did.
            if key is not None and (stored := svc.idempotency.find(user.user_id, key)):
                return _replay(request, svc, stored, digest, tid)
            again = isinstance(e, VersionConflict) and expected is None
            if not again or time.monotonic() >= deadline:
                raise
    request.scope["state"]["access_logged"] = True
    return _response(answer[-1], recorded.position)


def open_trajectory(
    request: Request[Any, Any, Any],
    command: OpenTrajectory,
    *,
    body: bytes,
    idempotency_key: str | None,
) -> Response[Any]:
    svc = services(request)
    user = caller(request)
    check_dates(command)
    key = check_key(idempotency_key)
    digest = request_hash(request, body)
    if key is not None and (stored := svc.idempotency.find(user.user_id, key)):
        return _replay(request, svc, stored, digest, UUID(stored_id(stored)))
    answer: list[StoredAnswer] = []

    def also(recorded: Recorded) -> list[RowWrite]:
        answer.append(_answer(recorded, digest, created=True))
        return _rows(request, svc, recorded, answer[-1], key, user.user_id)

    try:
        recorded = svc.application.open_trajectory(command, actor(user), also=also)
    except (VersionConflict, WriteRefused, TransactionAborted):
        if key is not None and (stored := svc.idempotency.find(user.user_id, key)):
            return _replay(request, svc, stored, digest, UUID(stored_id(stored)))
        raise
    request.scope["state"]["access_logged"] = True
    return _response(answer[-1], recorded.position)


def stored_id(answer: StoredAnswer) -> str:
    return str(msgspec.json.decode(answer.body)["id"])
