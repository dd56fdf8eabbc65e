"""Route handlers: thin translations from HTTP to `reads` and `writes`.

The event store is synchronous, so each handler hands its work to a worker thread.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.params import Body, HeaderParameter, Parameter

from trajectory import __version__
from trajectory.api import reads, writes
from trajectory.api.context import in_write_thread, services
from trajectory.api.errors import WRITE_PROBLEMS, ApiError, problem_responses
from trajectory.api.schemas import (
    AccessEntryOut,
    HealthOut,
    OpenTrajectory,
    ProjectionLagOut,
    RecordedOut,
)
from trajectory.api.security import AUDITORS, authenticated
from trajectory.facts import CARE, COORDINATOR
from trajectory.projections.caseload import CaseloadOut
from trajectory.projections.handovers import HandoversOut
from trajectory.views import EventOut, HandoverOut, TrajectorySummaryOut

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='The ETag of the version you read, e.g. "7"; a mismatch answers 412.',
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="A key of your choice; a retry with the same key and body records"
        " nothing new and returns the first answer.",
    ),
]
TrajectoryId = Annotated[str, Parameter(description="The trajectory's id (a UUID).")]
MinPosition = Annotated[
    int | None,
    Parameter(
        required=False,
        ge=0,
        le=2**62,
        description="Read your own write: the `position` a write returned; the answer"
        " includes it (the server waits briefly for its read models).",
    ),
]


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


@post(
    "/trajectories",
    guards=[authenticated],
    opt={"roles": COORDINATOR},
    status_code=201,
    summary="Open a trajectory (intake)",
    tags=["trajectories"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def open_trajectory(
    request: Request[Any, Any, Any],
    data: Annotated[OpenTrajectory, Body(description="The intake.")],
    idempotency_key: IdempotencyKey = None,
) -> Response[RecordedOut]:
    """Open a girl's trajectory in phase 1. The organisation and coordinator are the
    caller's. Answers 201 with the new id, its version and a Location."""
    body = await request.body()
    return await in_write_thread(
        request,
        partial(
            writes.open_trajectory, request, data, body=body, idempotency_key=idempotency_key
        ),
    )


@get(
    "/trajectories",
    guards=[authenticated],
    opt={"roles": CARE},
    summary="The caller's caseload",
    tags=["trajectories"],
    responses=problem_responses(),
)
async def caseload(
    request: Request[Any, Any, Any],
    phase: Annotated[int | None, Parameter(ge=1, le=20, required=False)] = None,
    status: Annotated[
        Literal["in_care", "aftercare", "closed"] | None, Parameter(required=False)
    ] = None,
    overdue: Annotated[bool | None, Parameter(required=False)] = None,
    coordinator: Annotated[str | None, Parameter(required=False, max_length=200)] = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    min_position: MinPosition = None,
) -> CaseloadOut | HandoversOut:
    """A coordinator's organisation's trajectories, most urgent first (open runaways,
    then overdue items, then the earliest due). An aftercare worker gets the trajectories
    handed over to her."""
    return await anyio.to_thread.run_sync(
        partial(
            reads.read_caseload,
            request,
            phase=phase,
            status=status,
            overdue=overdue,
            coordinator=coordinator,
            limit=limit,
            offset=offset,
            min_position=min_position,
        )
    )


@get(
    "/trajectories/{trajectory_id:str}",
    guards=[authenticated],
    opt={"roles": COORDINATOR},
    summary="A trajectory's summary",
    tags=["trajectories"],
    responses=problem_responses(),
)
async def trajectory_summary(
    request: Request[Any, Any, Any],
    trajectory_id: TrajectoryId,
    as_of: Annotated[
        str | None,
        Parameter(
            required=False,
            description="An RFC 3339 time: the state as it was known then.",
            max_length=40,
        ),
    ] = None,
) -> Response[TrajectorySummaryOut]:
    """Phase, days in phase, permissions and their caps, contacts, open runaway, and
    the attention items (due and overdue)."""
    out = await anyio.to_thread.run_sync(
        partial(reads.read_summary, request, trajectory_id, as_of)
    )
    return Response(out, headers=_etag(out.version))


@get(
    "/trajectories/{trajectory_id:str}/events",
    guards=[authenticated],
    opt={"roles": COORDINATOR},
    summary="A trajectory's full history",
    tags=["trajectories"],
    responses=problem_responses(),
)
async def trajectory_events(
    request: Request[Any, Any, Any], trajectory_id: TrajectoryId
) -> Response[list[EventOut]]:
    """Every recorded fact in order, with its position, who recorded it and when, and its
    place in the hash chain (prev_hash, hash)."""
    out = await anyio.to_thread.run_sync(partial(reads.read_events, request, trajectory_id))
    return Response(out, headers=_etag(out[-1].position))


@get(
    "/trajectories/{trajectory_id:str}/events/{position:int}",
    guards=[authenticated],
    opt={"roles": COORDINATOR},
    summary="One entry of a trajectory's history",
    tags=["trajectories"],
    responses=problem_responses(),
)
async def trajectory_event(
    request: Request[Any, Any, Any],
    trajectory_id: TrajectoryId,
    position: Annotated[int, Parameter(ge=1, le=10_000_000)],
) -> EventOut:
    """One recorded fact by its position."""
    return await anyio.to_thread.run_sync(
        partial(reads.read_event, request, trajectory_id, position)
    )


@get(
    "/trajectories/{trajectory_id:str}/handover",
    guards=[authenticated],
    opt={"roles": CARE},
    summary="The handover view",
    tags=["handover"],
    responses=problem_responses(),
)
async def handover(
    request: Request[Any, Any, Any], trajectory_id: TrajectoryId
) -> Response[HandoverOut]:
    """What the aftercare worker needs: the handover state and package, contacts to watch,
    restored contacts, education, the aftercare plan and whether she is going out of view."""
    out = await anyio.to_thread.run_sync(partial(reads.read_handover, request, trajectory_id))
    return Response(out, headers=_etag(out.version))


@get(
    "/trajectories/{trajectory_id:str}/handover.pdf",
    guards=[authenticated],
    opt={"roles": CARE},
    summary="The printable handover package (PDF)",
    tags=["handover"],
    media_type="application/pdf",
    responses=problem_responses(),
)
async def handover_pdf(
    request: Request[Any, Any, Any], trajectory_id: TrajectoryId
) -> Response[bytes]:
    """The handover package as a PDF, one page per section: who she is and how to reach
    her (for the receiving worker from the warm handover meeting on), the package, the
    people around her and the receiver, the contacts to watch. Carries the short id, the
    day and who printed it; each print is in the access log. Words in the caller's
    Accept-Language (Dutch by default)."""
    short, pdf = await anyio.to_thread.run_sync(
        partial(reads.read_handover_pdf, request, trajectory_id)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="overdracht-{short}.pdf"'},
    )


@get(
    "/aftercare-workers",
    guards=[authenticated],
    opt={"roles": COORDINATOR},
    summary="The aftercare workers to hand over to",
    tags=["handover"],
    responses=problem_responses(),
)
async def aftercare_workers(request: Request[Any, Any, Any]) -> list[reads.AftercareWorkerOut]:
    """This installation's active aftercare workers (id, name, organisation): the
    receiving worker of a handover is one of them, by her `id`. A receiver outside this
    installation is named in the handover's `external_receiver` instead."""
    return await anyio.to_thread.run_sync(partial(reads.read_aftercare_workers, request))


@get(
    "/audit/access",
    guards=[authenticated],
    opt={"roles": AUDITORS},
    summary="Who accessed a trajectory",
    tags=["audit"],
    responses=problem_responses(),
)
async def access_log(
    request: Request[Any, Any, Any],
    trajectory: Annotated[str, Parameter(description="The trajectory's id.", max_length=64)],
) -> list[AccessEntryOut]:
    """Every access to one trajectory, in time order, each with the basis it stood on:
    `relationship`, `emergency` (with the emergency access and its reason) or `refused`.
    For the organisation's admins and privacy officer. Reading it is itself logged."""
    return await anyio.to_thread.run_sync(partial(reads.read_access_log, request, trajectory))


@get(
    "/health",
    summary="Liveness and store reachability",
    tags=["system"],
    security=[{}],  # anyone may ask: an empty requirement is OpenAPI's "no authentication"
    responses=problem_responses((500, 503)),
)
async def health(request: Request[Any, Any, Any]) -> HealthOut:
    """Answers 200 when the store answers, 503 otherwise; reports how far each read model
    lags behind the log (in events)."""
    svc = services(request)

    def ping() -> list[ProjectionLagOut]:
        svc.application.db.fetchone("SELECT 1 AS one")
        return [
            ProjectionLagOut(name=s.name, position=s.position, lag=s.lag)
            for s in svc.projections.status()
        ]

    try:
        lags = await anyio.to_thread.run_sync(ping)
    except Exception as e:
        raise ApiError(503, "the store is unreachable", headers={"Retry-After": "5"}) from e
    return HealthOut(status="ok", store="reachable", version=__version__, projections=lags)
