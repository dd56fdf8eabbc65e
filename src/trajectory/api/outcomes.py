"""`GET /quality/outcomes?from=YYYY-MM&to=YYYY-MM`: the national outcome indicators of the
organisation's youth care (`trajectory.bij.indicators`), as JSON or (`format=csv`) CSV.

Counts only, small cells suppressed; for the organisation's coordinators, admin and
quality officer. Reading the girls' files to count is access-logged as a search.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

import anyio.to_thread
from litestar import Request, Response, get
from litestar.params import Parameter, QueryParameter

from trajectory.api.context import access_entry, caller, services
from trajectory.api.errors import ApiError, FieldError, problem_responses
from trajectory.api.security import authenticated
from trajectory.bij.indicators import OutcomesOut, csv_of, month_range, organisation_outcomes

MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def _outcomes(request: Request[Any, Any, Any], from_month: str, to_month: str) -> OutcomesOut:
    try:
        first, last = month_range(from_month, to_month)
    except ValueError:  # a month no calendar has (year 0, month 13: the pattern lets it by)
        raise ApiError(422, "months are YYYY-MM", errors=[
            FieldError(field="from/to", message="not a month")]) from None
    if last < first:
        raise ApiError(422, "months are YYYY-MM, from before to",
                       errors=[FieldError(field="from/to", message="from is after to")])
    svc = services(request)
    out = organisation_outcomes(svc.application, caller(request).organisation, first, last)
    svc.access.append(access_entry(request, action="search", trajectory_id=None, outcome="ok"))
    request.scope.setdefault("state", {})["access_logged"] = True
    return out


@get(
    "/quality/outcomes",
    guards=[authenticated],
    opt={"roles": ("coordinator", "admin", "quality")},
    summary="Outcome indicators of youth care per period",
    tags=["quality"],
    responses=problem_responses(),
)
async def quality_outcomes(
    request: Request[Any, Any, Any],
    from_: Annotated[str, QueryParameter(name="from", pattern=MONTH, description="YYYY-MM")],
    to: Annotated[str, Parameter(pattern=MONTH, description="YYYY-MM")],
    format: Annotated[Literal["json", "csv"], Parameter(required=False)] = "json",
) -> Response[Any]:
    """Dropout, satisfaction, can go on without help, no new start within six months and
    goals attained, over the care that ended in the months given: for the organisation,
    per form of care and per municipality; cells under the threshold suppressed."""
    out = await anyio.to_thread.run_sync(partial(_outcomes, request, from_, to))
    if format == "csv":
        return Response(csv_of(out).encode(), media_type="text/csv; charset=utf-8",
                        headers={"Cache-Control": "no-store"})
    return Response(out)
