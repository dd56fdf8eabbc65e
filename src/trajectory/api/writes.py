"""The API's side of the one write path (trajectory.writing): headers in, Response out.

Handlers stay thin: they decode the body (msgspec, via Litestar) and call `write` or
`open_trajectory` here, in a worker thread (the event store is synchronous). This module
parses If-Match, reads the Idempotency-Key, takes a digest of the request, calls the use
case, and turns its outcome into the answer, and its input refusals into 422 problems.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from litestar import Request, Response

from trajectory.api.context import (
    Services,
    actor,
    caller,
    client_of,
    parse_trajectory_id,
    request_id,
    services,
)
from trajectory.api.errors import ApiError, FieldError
from trajectory.commands import Command, OpenTrajectory
from trajectory.idempotency import StoredAnswer
from trajectory.write_errors import InputRefused
from trajectory.writing import Via, WritePath, Written

_ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


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


def request_hash(request: Request[Any, Any, Any], body: bytes) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def write_path(svc: Services) -> WritePath:
    """The use case over the services' stores (it holds no state: cheap per request)."""
    return WritePath(svc.application, idempotency=svc.idempotency, access=svc.access)


def via(request: Request[Any, Any, Any]) -> Via:
    return Via(client=client_of(request), request_id=request_id(request))


def problem_of(refused: InputRefused) -> ApiError:
    """An input refusal as the API has always said it: 422 naming the field."""
    return ApiError(
        422,
        refused.detail,
        rule=refused.rule,
        errors=[FieldError(field=refused.field, message=refused.message)],
    )


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


def _answer(request: Request[Any, Any, Any], work: Callable[[], Written]) -> Response[Any]:
    try:
        written = work()
    except InputRefused as refused:
        raise problem_of(refused) from None
    # The write's access-log entry is written (in its transaction, or as a replay's).
    request.scope["state"]["access_logged"] = True
    if written.replayed:
        return _response(written.answer)
    return _response(written.answer, written.recorded.position)


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
    return _answer(
        request,
        lambda: write_path(svc).record(
            actor(user),
            tid,
            command,
            # Read where it always was: after visibility, the input and the key's replay.
            expected_version=lambda: parse_if_match(if_match),
            idempotency_key=idempotency_key,
            request_digest=request_hash(request, body),
            via=via(request),
        ),
    )


def open_trajectory(
    request: Request[Any, Any, Any],
    command: OpenTrajectory,
    *,
    body: bytes,
    idempotency_key: str | None,
) -> Response[Any]:
    svc = services(request)
    user = caller(request)
    return _answer(
        request,
        lambda: write_path(svc).open(
            actor(user),
            command,
            idempotency_key=idempotency_key,
            request_digest=request_hash(request, body),
            via=via(request),
        ),
    )
