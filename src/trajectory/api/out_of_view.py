"""`GET /out-of-view`: the organisation's girls out of view today, and why.

For the coordinators and aftercare workers of the organisation (a coordinator the girls
she has a relationship with, `visibility.related_filter`; an aftercare worker also the
girls handed over to her from another organisation); every other role is
refused (403). The list names girls (by id), so it is access-logged as the caseload is:
one entry naming every girl shown, on each girl's own log too (NEN 7513).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Request, get

from trajectory.api.context import access_entry, caller, services
from trajectory.api.errors import problem_responses
from trajectory.api.reads import ensure_fresh
from trajectory.api.routes import MinPosition
from trajectory.api.security import authenticated
from trajectory.clock import amsterdam_date
from trajectory.facts import CARE
from trajectory.projections.out_of_view import OutOfViewOut, out_of_view_list


def read_out_of_view(request: Request[Any, Any, Any], min_position: int | None) -> OutOfViewOut:
    svc = services(request)
    user = caller(request)
    app = svc.application
    ensure_fresh(request, min_position)
    out = out_of_view_list(
        app.db,
        user.organisation,
        amsterdam_date(app.clock()),
        seen_by=user,
        worker=user.user_id if user.role == "aftercare" else None,
    )
    # Written once the list is known (it names whom it shows); fail closed: without the
    # entry nothing leaves.
    entry = access_entry(request, action="search", trajectory_id=None, outcome="ok")
    shown = tuple(dict.fromkeys(str(i.trajectory_id) for i in out.items))
    svc.access.append(replace(entry, shown=shown))
    request.scope.setdefault("state", {})["access_logged"] = True
    return out


@get(
    "/out-of-view",
    guards=[authenticated],
    opt={"roles": CARE},
    summary="The girls out of view",
    tags=["handover"],
    responses=problem_responses(),
)
async def out_of_view(
    request: Request[Any, Any, Any], min_position: MinPosition = None
) -> OutOfViewOut:
    """Every girl of the organisation out of view today, the longest first, one item per
    reason: her aftercare contact is overdue (`aftercare-contact-overdue`), contact
    attempts did not reach her (`contact-attempts-failed`), she left care without a warm
    handover (`left-without-handover`), or her handover was not accepted in time
    (`handover-not-accepted`); with `since` and the number of `days` since."""
    return await anyio.to_thread.run_sync(partial(read_out_of_view, request, min_position))
