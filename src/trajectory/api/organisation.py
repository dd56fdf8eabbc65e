"""The organisation's own duties over HTTP, and the inspector's comparison.

- `POST /organisation/facts/{path}`: one route per organisation fact (declared in
  `organisation.facts`), for the organisation's quality officer and admin, through the
  organisation write path (If-Match, Idempotency-Key, occurred_on as for trajectories);
- `GET /organisation/facts`: the stream's facts, elements 1 and 9 and the open
  improvement actions (`?as_of=`);
- `GET /inspection/organisations`: every organisation's figures, small cells suppressed
  (inspectors only).

Every read is access-logged before the answer leaves. This module deliberately does not
use postponed annotations: the generated handlers' annotations must be real classes.
"""

import hashlib
from datetime import date
from functools import partial
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, Parameter, QueryParameter

from trajectory.api.context import actor, caller, in_write_thread, services
from trajectory.api.errors import WRITE_PROBLEMS, ApiError, FieldError, problem_responses
from trajectory.api.quality import _log_search, _parse_day
from trajectory.api.reads import ensure_fresh
from trajectory.api.routes import IdempotencyKey, IfMatch, MinPosition
from trajectory.api.security import authenticated
from trajectory.api.writes import parse_if_match, problem_of, via
from trajectory.clock import amsterdam_date
from trajectory.organisation.commands import OrganisationCommand
from trajectory.organisation.facts import ORGANISATION_FACTS, OrganisationFact
from trajectory.organisation.inspection import InspectionOut, inspection, twelve_months_to
from trajectory.organisation.store import OrganisationStore
from trajectory.organisation.view import OrganisationDutiesOut, duties
from trajectory.organisation.writing import NotPermitted, OrganisationWrites
from trajectory.write_errors import InputRefused


class OrganisationRecordedOut(msgspec.Struct, kw_only=True):
    """A write's answer: the organisation's stream, its new version, the new positions."""

    id: UUID
    version: int
    positions: list[int]


QUALITY_STAFF = ("quality", "admin")
INSPECTOR = ("inspector",)

AsOf = Annotated[
    str | None, Parameter(required=False, max_length=10, description="A date; default today.")
]


def _write(
    request: Request[Any, Any, Any],
    command: OrganisationCommand,
    body: bytes,
    if_match: str | None,
    idempotency_key: str | None,
) -> Response[bytes]:
    svc = services(request)
    writes = OrganisationWrites(svc.application, idempotency=svc.idempotency, access=svc.access)
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(body)
    try:
        written = writes.record(
            actor(caller(request)),
            command,
            expected_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
            request_digest=digest.hexdigest(),
            via=via(request),
        )
    except InputRefused as refused:
        raise problem_of(refused) from None
    except NotPermitted as e:
        raise ApiError(403, str(e)) from None
    request.scope["state"]["access_logged"] = True
    answer = written.answer
    headers = {"ETag": answer.etag or ""}
    if answer.location:
        headers["Location"] = answer.location
    return Response(
        answer.body.encode(), status_code=answer.status_code, media_type="application/json",
        headers=headers,
    )


def fact_route(fact: OrganisationFact) -> HTTPRouteHandler:
    command = fact.command

    async def handler(
        request: Request[Any, Any, Any],
        data: JSONBody[command],  # type: ignore[valid-type]
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[OrganisationRecordedOut]:
        body = await request.body()
        answer: Response[Any] = await in_write_thread(
            request, partial(_write, request, data, body, if_match, idempotency_key)
        )
        return answer

    handler.__name__ = handler.__qualname__ = "organisation_" + fact.path.replace("-", "_")
    return post(
        f"/organisation/facts/{fact.path}",
        guards=[authenticated],
        opt={"roles": QUALITY_STAFF},
        status_code=201,
        responses=problem_responses(WRITE_PROBLEMS),
        summary=fact.title,
        description=(command.__doc__ or fact.title).strip(),
        tags=["organisation"],
    )(handler)


def _duties(request: Request[Any, Any, Any], as_of_raw: str | None) -> OrganisationDutiesOut:
    svc = services(request)
    user = caller(request)
    app = svc.application
    today = amsterdam_date(app.clock())
    as_of = _parse_day(as_of_raw, "as_of", today)
    stream = OrganisationStore(app.db).load(user.organisation)
    out = duties(user.organisation, stream, as_of, today)
    _log_search(request)
    return out


@get(
    "/organisation/facts",
    guards=[authenticated],
    opt={"roles": QUALITY_STAFF},
    summary="The organisation's own duties",
    tags=["organisation"],
    responses=problem_responses(),
)
async def organisation_facts(
    request: Request[Any, Any, Any], as_of: AsOf = None
) -> Response[OrganisationDutiesOut]:
    """Your organisation's trainings, aandachtsfunctionarissen, reflection sessions,
    pedagogical climate assessments and signal analyses; core elements 1 and 9 as they
    stand on `as_of`; and the improvement actions not carried out (`attention`, overdue
    first)."""
    out = await anyio.to_thread.run_sync(partial(_duties, request, as_of))
    return Response(out, headers={"ETag": f'"{out.version}"'})


def _month(value: str | None, field: str, default: str) -> str:
    if value is None:
        return default
    try:
        return date.fromisoformat(f"{value}-01").isoformat()[:7]
    except ValueError:
        raise ApiError(
            422, f"{field} must be a month (YYYY-MM)",
            errors=[FieldError(field=field, message="not a month")],
        ) from None


def _inspection(
    request: Request[Any, Any, Any], as_of_raw: str | None, from_raw: str | None,
    to_raw: str | None, min_position: int | None,
) -> InspectionOut:
    app = services(request).application
    today = amsterdam_date(app.clock())
    as_of = _parse_day(as_of_raw, "as_of", today)
    last = _month(to_raw, "to", as_of.isoformat()[:7])
    first = _month(from_raw, "from", twelve_months_to(last))
    if first > last:
        raise ApiError(
            422, "from must not be after to",
            errors=[FieldError(field="from", message="after to")],
        )
    ensure_fresh(request, min_position)
    out = inspection(app.db, as_of, first, last, today)
    _log_search(request)
    return out


@get(
    "/inspection/organisations",
    guards=[authenticated],
    opt={"roles": INSPECTOR},
    summary="Every organisation's figures, side by side",
    tags=["inspection"],
    responses=problem_responses(),
)
async def inspection_organisations(
    request: Request[Any, Any, Any],
    as_of: AsOf = None,
    from_: Annotated[
        str | None,
        QueryParameter(name="from", required=False, max_length=7,
                       description="YYYY-MM; default: `to` is the last of twelve months."),
    ] = None,
    to: Annotated[
        str | None,
        Parameter(required=False, max_length=7, description="YYYY-MM; default this month."),
    ] = None,
    min_position: MinPosition = None,
) -> InspectionOut:
    """For every organisation of this installation: the girls taken in, the core-element
    matrix's totals, the quality signals of the months `from`..`to`, the girls out of view
    today, elements 1 and 9 at organisation level and its open improvement actions.
    Counts of girls under 5 read "<5"; never a girl's record, id or name."""
    return await anyio.to_thread.run_sync(
        partial(_inspection, request, as_of, from_, to, min_position)
    )


def organisation_routes() -> list[HTTPRouteHandler]:
    return [
        *(fact_route(fact) for fact in ORGANISATION_FACTS),
        organisation_facts,
        inspection_organisations,
    ]
