"""The privacy officer's anomaly signals over the API: per user of her organisation, the
counts of `trajectory.access_anomalies` over a period against the organisation's
thresholds. Counts and user ids only: never a girl."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, get
from litestar.params import Parameter, QueryParameter

from trajectory.access_anomalies import Signal, a_day_of_the_log, counts, period_of
from trajectory.api.context import access_entry, caller, services
from trajectory.api.errors import ApiError, FieldError, problem_responses
from trajectory.api.security import AUDITORS, authenticated
from trajectory.clock import amsterdam_date
from trajectory.emergency import EmergencyAccesses

LONGEST_PERIOD = 366
"""Days: a year and a day at most, so that one question never reads the whole log."""
DEFAULT_PERIOD = 30
"""Days, up to today: the thresholds are set for 30 days."""


class ThresholdsOut(msgspec.Struct, kw_only=True):
    outside_team: int
    emergency: int
    night: int
    night_starts: int
    night_ends: int


class UserSignalsOut(msgspec.Struct, kw_only=True):
    user_id: str
    role: str | None
    outside_team: int
    """Files of the organisation's girls she opened by emergency access or was refused."""
    emergency: int
    """Emergency accesses she was granted."""
    night: int
    """Files of the organisation's girls she opened (or tried to) at night."""
    signals: list[Signal]
    """The counts that reached their threshold."""


class AnomaliesOut(msgspec.Struct, kw_only=True):
    organisation: str
    from_: date = msgspec.field(name="from")
    to: date
    thresholds: ThresholdsOut
    users: list[UserSignalsOut]
    """The users with a count that reached its threshold; nobody is blocked by it."""


def _day(value: str | None, name: str, default: date) -> date:
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "days are YYYY-MM-DD", errors=[
            FieldError(field=name, message="not a day (YYYY-MM-DD)")]) from None
    if not a_day_of_the_log(day):
        raise ApiError(422, "no day of the access log", errors=[
            FieldError(field=name, message="not a day of the access log")])
    return day


def read_anomalies(request: Request[Any, Any, Any], raw_from: str | None,
                   raw_to: str | None) -> AnomaliesOut:
    svc = services(request)
    user = caller(request)
    app = svc.application
    today = amsterdam_date(app.clock())
    last = _day(raw_to, "to", today)
    first = _day(raw_from, "from", last - timedelta(days=DEFAULT_PERIOD - 1))
    if first > last or (last - first).days >= LONGEST_PERIOD:
        raise ApiError(422, f"a period runs from a day to a later one, {LONGEST_PERIOD} days"
                       " at most", errors=[FieldError(field="from/to",
                                                      message="not a period")])
    settings = EmergencyAccesses(app.db).settings(user.organisation)
    since, until = period_of(first, last)
    found = [c for c in counts(app.db, user.organisation, since, until, settings) if c.signals]
    roles = {u.user_id: u.role for u in svc.users.all()}
    svc.access.append(access_entry(request, action="audit-read", trajectory_id=None,
                                   outcome="ok"))
    request.scope.setdefault("state", {})["access_logged"] = True
    return AnomaliesOut(
        organisation=user.organisation, from_=first, to=last,
        thresholds=ThresholdsOut(
            outside_team=settings.outside_team_threshold,
            emergency=settings.emergency_threshold, night=settings.night_threshold,
            night_starts=settings.night_starts, night_ends=settings.night_ends),
        users=[UserSignalsOut(user_id=c.user_id, role=roles.get(c.user_id),
                              outside_team=c.outside_team, emergency=c.emergency,
                              night=c.night, signals=list(c.signals)) for c in found],
    )


@get(
    "/audit/anomalies",
    guards=[authenticated],
    opt={"roles": AUDITORS},
    summary="Users whose access to the girls' files is unusual",
    tags=["audit"],
    responses=problem_responses(),
)
async def access_anomalies(
    request: Request[Any, Any, Any],
    from_: Annotated[str | None, QueryParameter(name="from", required=False, max_length=10,
                                                description="YYYY-MM-DD (default: 30 days"
                                                " before `to`)")] = None,
    to: Annotated[str | None, Parameter(required=False, max_length=10,
                                        description="YYYY-MM-DD (default: today)")] = None,
) -> AnomaliesOut:
    """Per user of your organisation who reached a threshold in the period: how many of its
    girls' files she opened outside her teams (by emergency access, or refused), how many
    emergency accesses she used, how many files she opened at night (Amsterdam time). The
    organisation's privacy officer judges; nothing is blocked."""
    return await anyio.to_thread.run_sync(partial(read_anomalies, request, from_, to))
