"""Privacy over HTTP: the one-person erasure route (now refused: see api/erasures.py for
the two-admin way), and the retention list.

Consent and destruction requests are ordinary facts (see facts.py); erasing is not a
fact about the girl but the destruction of her file, so it has its own path here.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Annotated, Any, Literal

import anyio.to_thread
import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody

from trajectory.api.context import caller, parse_trajectory_id, services
from trajectory.api.errors import WRITE_PROBLEMS, ApiError, not_found, problem_responses
from trajectory.api.routes import IfMatch, TrajectoryId
from trajectory.api.security import ADMIN, authenticated
from trajectory.api.writes import parse_if_match
from trajectory.clock import amsterdam_date
from trajectory.erasure_proposals import refuse_alone
from trajectory.retention import retention_items


class EraseTrajectory(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Destroy her file for good (crypto-shredding). Write no names in the reason."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    legal_ground: Literal["retention-expired", "request-granted", "court-order", "other"]


class ErasureOut(msgspec.Struct, kw_only=True):
    trajectory_id: str
    erased_at: datetime
    erased_by: str
    legal_ground: str


class RetentionItemOut(msgspec.Struct, kw_only=True):
    trajectory_id: str
    reason: str
    due_on: date
    overdue: bool


def _erase(
    request: Request[Any, Any, Any], raw_id: str, data: EraseTrajectory, if_match: str | None
) -> ErasureOut:
    """Answers 404, 410 and 412 as before; otherwise 409 `erasure-needs-two-admins`."""
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    app = svc.application
    row = app.db.fetchone(
        "SELECT organisation, version FROM trajectory_index WHERE trajectory_id = ?", [str(tid)]
    )
    if row is None or row["organisation"] != user.organisation:
        if row is None and app.keys is not None and app.keys.is_erased(tid):
            erased = app.db.fetchone(
                "SELECT organisation FROM erasures WHERE trajectory_id = ?", [str(tid)]
            )
            if erased is not None and erased["organisation"] == user.organisation:
                raise ApiError(410, "this trajectory was erased")
        raise not_found()
    expected = parse_if_match(if_match)
    if expected is not None and expected != int(row["version"]):
        raise ApiError(
            412,
            f"the trajectory is at version {row['version']}, not {expected}; read it again",
            rule="version-mismatch",
        )
    # One person may not erase: the route stays, and says where the two-admin way is.
    raise refuse_alone(data.legal_ground)


@post(
    "/trajectories/{trajectory_id:str}/erasure",
    guards=[authenticated],
    opt={"roles": ADMIN, "scope": "erase"},
    status_code=200,
    summary="Erase a trajectory (crypto-shredding)",
    tags=["privacy"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def erase_trajectory(
    request: Request[Any, Any, Any],
    trajectory_id: TrajectoryId,
    data: JSONBody[EraseTrajectory],
    if_match: IfMatch = None,
) -> ErasureOut:
    """Refused (409 `erasure-needs-two-admins`): an erasure needs two admins, one who
    proposes it (`POST /admin/erasures`) and another of the organisation who approves it
    (`POST /admin/erasures/{id}/confirmation`). Answers 404, 410 and 412 as before."""
    return await anyio.to_thread.run_sync(partial(_erase, request, trajectory_id, data, if_match))


def _retention(request: Request[Any, Any, Any]) -> list[RetentionItemOut]:
    svc = services(request)
    user = caller(request)
    app = svc.application
    today = amsterdam_date(app.clock())
    return [
        RetentionItemOut(
            trajectory_id=i.trajectory_id, reason=i.reason, due_on=i.due_on, overdue=i.overdue
        )
        for i in retention_items(app, today)
        if i.organisation == user.organisation
    ]


@get(
    "/retention",
    guards=[authenticated],
    opt={"roles": ADMIN},
    summary="Files due for destruction",
    tags=["privacy"],
    responses=problem_responses(),
)
async def retention(request: Request[Any, Any, Any]) -> list[RetentionItemOut]:
    """The organisation's files due for destruction: 20 years (the protocol's period)
    after care ended, and early-destruction requests with their three-month deadline."""
    return await anyio.to_thread.run_sync(partial(_retention, request))
