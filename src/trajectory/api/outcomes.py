"""`GET /quality/outcomes?from=YYYY-MM&to=YYYY-MM`: the national outcome indicators of the
organisation's youth care (`trajectory.bij.indicators`) as JSON, and the same as CSV at
`GET /quality/outcomes.csv` (a route of its own, so that each answers in the one media
type its OpenAPI entry names).

Counts only, small cells suppressed; for the organisation's coordinators, admin and
quality officer. Reading the girls' files to count is access-logged as a search.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
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


FromMonth = Annotated[str, QueryParameter(name="from", pattern=MONTH, description="YYYY-MM")]
ToMonth = Annotated[str, Parameter(pattern=MONTH, description="YYYY-MM")]


@get(
    "/quality/outcomes",
    guards=[authenticated],
    opt={"roles": ("coordinator", "admin", "quality")},
    summary="Outcome indicators of youth care per period",
    tags=["quality"],
    responses=problem_responses(),
)
async def quality_outcomes(request: Request[Any, Any, Any], from_: FromMonth,
                           to: ToMonth) -> OutcomesOut:
    """Dropout, satisfaction, can go on without help, no new start within six months and
    goals attained, over the care that ended in the months given: for the organisation,
    per form of care and per municipality; cells under the threshold suppressed."""
    return await anyio.to_thread.run_sync(partial(_outcomes, request, from_, to))


@get(
    "/quality/outcomes.csv",
    guards=[authenticated],
    opt={"roles": ("coordinator", "admin", "quality")},
    summary="Outcome indicators of youth care per period, as CSV",
    tags=["quality"],
    media_type="text/csv; charset=utf-8",
    responses={200: ResponseSpec(data_container=str, media_type="text/csv; charset=utf-8",
                                 description="One row per group and indicator",
                                 generate_examples=False),
               **problem_responses()},
)
async def quality_outcomes_csv(request: Request[Any, Any, Any], from_: FromMonth,
                               to: ToMonth) -> Response[bytes]:
    """The same indicators as `GET /quality/outcomes`, a row per group and indicator
    (suppressed cells empty)."""
    out = await anyio.to_thread.run_sync(partial(_outcomes, request, from_, to))
    return Response(csv_of(out).encode(), media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store"})
