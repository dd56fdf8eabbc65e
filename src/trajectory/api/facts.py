"""One POST (or PUT) route per kind of fact, generated from the list of facts.

Each route decodes its body into the command's Struct (so the OpenAPI document shows the
exact schema) and hands it to `writes.write`. Path, roles, summary and description come
from the fact's entry in `trajectory.facts`; a `{contact_id}` or `{kind}` in the path is
put into the command's field of that name. This module deliberately does not use
postponed annotations: the generated handlers' annotations must be real classes.
"""

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, Parameter

from trajectory import commands as c
from trajectory.aggregates.vocabulary import PERMISSION_KINDS
from trajectory.api import writes
from trajectory.api.context import in_write_thread
from trajectory.api.errors import WRITE_PROBLEMS, ApiError, FieldError, problem_responses
from trajectory.api.routes import IdempotencyKey, IfMatch, TrajectoryId
from trajectory.api.schemas import RecordedOut
from trajectory.api.security import authenticated
from trajectory.facts import FACTS, Fact

ContactId = Annotated[str, Parameter(description="The contact's id.", max_length=64)]
Kind = Annotated[str, Parameter(description=f"One of {', '.join(PERMISSION_KINDS)}.")]


async def _record(
    request: Request[Any, Any, Any],
    trajectory_id: str,
    command: c.Command,
    if_match: str | None,
    idempotency_key: str | None,
) -> Response[RecordedOut]:
    """Every fact route's one step: the write path, in a worker thread (the event store is
    synchronous). The body's bytes go along for the idempotency check."""
    body = await request.body()
    return await in_write_thread(
        request,
        partial(
            writes.write,
            request,
            trajectory_id,
            command,
            body=body,
            if_match=if_match,
            idempotency_key=idempotency_key,
        ),
    )


def _doc(fact: Fact) -> str:
    return fact.help or (fact.schema.__doc__ or "").strip() or f"Record: {fact.command.__name__}."


def _route(fact: Fact, handler: Any, name: str) -> HTTPRouteHandler:
    handler.__name__ = handler.__qualname__ = name
    path = fact.path.replace("{contact_id}", "{contact_id:str}").replace("{kind}", "{kind:str}")
    decorator = put if fact.method == "PUT" else post
    return decorator(
        f"/trajectories/{{trajectory_id:str}}/{path}",
        guards=[authenticated],
        opt={"roles": fact.roles},
        status_code=201,
        responses=problem_responses(WRITE_PROBLEMS),
        summary=fact.title,
        description=_doc(fact),
        tags=[fact.path.split("/")[0]],
    )(handler)


def plain_route(fact: Fact) -> HTTPRouteHandler:
    command = fact.schema

    async def handler(
        request: Request[Any, Any, Any],
        trajectory_id: TrajectoryId,
        data: JSONBody[command],  # type: ignore[valid-type]
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RecordedOut]:
        return await _record(request, trajectory_id, data, if_match, idempotency_key)

    return _route(fact, handler, "record_" + fact.path.replace("/", "_").replace("-", "_"))


def contact_route(fact: Fact) -> HTTPRouteHandler:
    """/trajectories/{id}/network-contacts/{contact_id}/...: the contact from the path."""
    command = fact.schema

    async def handler(
        request: Request[Any, Any, Any],
        trajectory_id: TrajectoryId,
        contact_id: ContactId,
        data: JSONBody[command],  # type: ignore[valid-type]
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RecordedOut]:
        with_id = msgspec.structs.replace(data, contact_id=contact_id)
        return await _record(request, trajectory_id, with_id, if_match, idempotency_key)

    last = fact.path.rsplit("/", 1)[1]
    return _route(fact, handler, "contact_" + last.replace("-", "_"))


def permission_route(fact: Fact) -> HTTPRouteHandler:
    """/trajectories/{id}/permissions/{kind}: the kind from the path, checked here (the
    command's field is a plain string, so the path's word must be one of the list)."""
    command = fact.schema

    async def handler(
        request: Request[Any, Any, Any],
        trajectory_id: TrajectoryId,
        kind: Kind,
        data: JSONBody[command],  # type: ignore[valid-type]
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RecordedOut]:
        if kind not in PERMISSION_KINDS:
            raise ApiError(
                422,
                f"unknown permission kind {kind!r}",
                errors=[
                    FieldError(field="kind", message=f"one of {', '.join(PERMISSION_KINDS)}")
                ],
            )
        with_kind = msgspec.structs.replace(data, kind=kind)
        return await _record(request, trajectory_id, with_kind, if_match, idempotency_key)

    return _route(fact, handler, "set_permission")


def fact_route(fact: Fact) -> HTTPRouteHandler:
    if "{contact_id}" in fact.path:
        return contact_route(fact)
    if "{kind}" in fact.path:
        return permission_route(fact)
    return plain_route(fact)


def fact_routes() -> list[HTTPRouteHandler]:
    return [fact_route(fact) for fact in FACTS]
