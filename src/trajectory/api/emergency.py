"""Emergency access ("break the glass") over HTTP: a coordinator opens a girl's file
outside her relationships with a stated reason, and ends it early; the privacy officer
reads the review list and records her judgement; the organisation's access settings.

Never a silent fallback: without an emergency access the file stays 404, and asking for
one is a request of its own, with its reason in the body. The acts and their entries in
the access log are `trajectory.emergency_acts`'s; these routes only translate them.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, get, post, put
from litestar.params import JSONBody, Parameter

from trajectory.aggregates.errors import TrajectoryNotFound
from trajectory.api.context import (
    access_entry,
    actor,
    caller,
    client_of,
    in_write_thread,
    parse_trajectory_id,
    request_id,
    services,
)
from trajectory.api.errors import WRITE_PROBLEMS, ApiError, FieldError, not_found, problem_responses
from trajectory.api.routes import TrajectoryId
from trajectory.api.security import authenticated
from trajectory.emergency import AccessSettings, EmergencyAccess, EmergencyAccessRefused
from trajectory.emergency_acts import (
    ToReview,
    Where,
    change_access_settings,
    end_emergency_access,
    open_emergency_access,
    read_access_settings,
    review_emergency_access,
    review_list,
    to_review,
)
from trajectory.facts import COORDINATOR
from trajectory.visibility import EmergencyAccessNeedless, is_related

PRIVACY = ("privacy",)
SETTINGS_ROLES = ("privacy", "admin")


class AskEmergencyAccess(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why she must open a file outside her relationships now."""

    reason: Literal["crisis", "runaway-at-night", "police-request", "other"]
    explanation: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    """What the emergency is; required with the reason `other`."""
    write: bool = False
    """Ask to record too (only where the organisation allows emergency access to write)."""


class EmergencyAccessOut(msgspec.Struct, kw_only=True):
    access_id: str
    trajectory_id: str
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    may_write: bool


class ActOut(msgspec.Struct, kw_only=True):
    at: datetime
    action: str
    outcome: str


class ReviewItemOut(msgspec.Struct, kw_only=True):
    access_id: str
    user_id: str
    who: str
    """The coordinator's display name."""
    trajectory_id: str
    girl: str | None
    """Her name (the privacy officer judges whether opening her file was justified);
    None when her file was erased."""
    reason: str
    explanation: str
    may_write: bool
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    acts: list[ActOut]
    """What was done under it: the access-log entries marked with it."""
    review_outcome: str | None
    review_note: str
    reviewed_by: str | None
    reviewed_at: datetime | None


class ReviewEmergencyAccess(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    outcome: Literal["justified", "not-justified"]
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    """Required when not justified."""


class AccessSettingsBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The organisation's choices about emergency access and the anomaly signals."""

    emergency_may_write: bool
    emergency_hours: Annotated[int, msgspec.Meta(ge=1, le=24)]
    outside_team_threshold: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    emergency_threshold: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    night_threshold: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    night_starts: Annotated[int, msgspec.Meta(ge=0, le=23)]
    night_ends: Annotated[int, msgspec.Meta(ge=0, le=23)]


def _out(a: EmergencyAccess) -> EmergencyAccessOut:
    return EmergencyAccessOut(access_id=a.access_id, trajectory_id=a.trajectory_id,
                              started_at=a.started_at, ends_at=a.ends_at, ended_at=a.ended_at,
                              may_write=a.may_write)


def _settings_out(s: AccessSettings) -> AccessSettingsBody:
    return AccessSettingsBody(**{f: getattr(s, f) for f in AccessSettingsBody.__struct_fields__})


def _where(request: Request[Any, Any, Any]) -> Where:
    return Where(client=client_of(request), request_id=request_id(request))


def _field_error(e: EmergencyAccessRefused) -> ApiError:
    field = e.field or "body"
    return ApiError(422, f"invalid input: {field}", rule=e.code,
                    errors=[FieldError(field=field, message=str(e))])


def _open(request: Request[Any, Any, Any], raw_id: str,
          data: AskEmergencyAccess) -> EmergencyAccessOut:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    try:
        access = open_emergency_access(
            svc.application, svc.access, actor(user), tid, reason=data.reason,
            explanation=data.explanation, write=data.write, where=_where(request))
    except TrajectoryNotFound:
        _refused(request, tid, "denied")
        raise not_found() from None
    except EmergencyAccessNeedless:
        _refused(request, tid, "refused")
        raise ApiError(409, "this file is open to you already: she is of your team, or you"
                       " are her coordinator", rule="emergency-access-needless") from None
    except EmergencyAccessRefused as e:
        _refused(request, tid, "rejected")
        raise _field_error(e) from None
    request.scope["state"]["access_logged"] = True
    return _out(access)


def _refused(request: Request[Any, Any, Any], tid: UUID, outcome: str) -> None:
    """A refused request for emergency access, logged as what it asked for."""
    services(request).access.append(access_entry(
        request, action="emergency-open", trajectory_id=tid, outcome=outcome))
    request.scope["state"]["access_logged"] = True


@post(
    "/trajectories/{trajectory_id:str}/emergency-access",
    guards=[authenticated],
    opt={"roles": COORDINATOR},
    status_code=201,
    summary="Open a girl's file by emergency access (break the glass)",
    tags=["emergency access"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def ask_emergency_access(
    request: Request[Any, Any, Any], trajectory_id: TrajectoryId,
    data: JSONBody[AskEmergencyAccess],
) -> EmergencyAccessOut:
    """For a coordinator of the girl's organisation outside her relationships: read (and,
    where the organisation allows it and she asks, record) for the organisation's number
    of hours (8 unless set). Every act on her file meanwhile is marked in the access log
    with the access's id, and the privacy officer reviews it. 404 for anyone else (as for a
    file that does not exist); 409 `emergency-access-needless` when her file is open to
    her already; 422 naming the field for a reason not in the list, `other` without an
    explanation, or write access the organisation does not allow."""
    return await in_write_thread(request, partial(_open, request, trajectory_id, data))


def _end(request: Request[Any, Any, Any], raw_id: str) -> EmergencyAccessOut:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    ended = end_emergency_access(svc.application, svc.access, actor(user), tid,
                                 where=_where(request))
    if ended is None:
        row = svc.application.db.fetchone(
            "SELECT organisation FROM trajectory_index WHERE trajectory_id = ?", [str(tid)])
        if row is None or row["organisation"] != user.organisation or not is_related(
                svc.application.db, user, tid):
            raise not_found()
        raise ApiError(409, "you hold no emergency access to this file",
                       rule="emergency-access-none")
    request.scope["state"]["access_logged"] = True
    return _out(ended)


@post(
    "/trajectories/{trajectory_id:str}/emergency-access/end",
    guards=[authenticated],
    opt={"roles": COORDINATOR},
    status_code=200,
    summary="End one's emergency access to a girl's file now",
    tags=["emergency access"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def end_emergency(
    request: Request[Any, Any, Any], trajectory_id: TrajectoryId
) -> EmergencyAccessOut:
    """Her file answers 404 to her again at once. 404 without an emergency access in force
    (409 `emergency-access-none` for a file she sees by her relationship)."""
    return await in_write_thread(request, partial(_end, request, trajectory_id))


def _item(i: ToReview) -> ReviewItemOut:
    return ReviewItemOut(
        access_id=i.access.access_id, user_id=i.access.user_id, who=i.who,
        trajectory_id=i.access.trajectory_id, girl=i.girl, reason=i.access.reason,
        explanation=i.access.explanation, may_write=i.access.may_write,
        started_at=i.access.started_at, ends_at=i.access.ends_at,
        ended_at=i.access.ended_at,
        acts=[ActOut(at=a.at, action=a.action, outcome=a.outcome) for a in i.acts],
        review_outcome=i.access.review_outcome, review_note=i.access.review_note,
        reviewed_by=i.access.reviewed_by, reviewed_at=i.access.reviewed_at,
    )


def _list(request: Request[Any, Any, Any], unreviewed: bool) -> list[ReviewItemOut]:
    svc = services(request)
    user = caller(request)
    items = review_list(svc.application, svc.users, svc.access, actor(user),
                        unreviewed=unreviewed, where=_where(request))
    request.scope["state"]["access_logged"] = True
    return [_item(i) for i in items]


@get(
    "/audit/emergency-accesses",
    guards=[authenticated],
    opt={"roles": PRIVACY},
    summary="The organisation's emergency accesses, for the privacy officer's review",
    tags=["emergency access"],
    responses=problem_responses(),
)
async def emergency_accesses(
    request: Request[Any, Any, Any],
    unreviewed: Annotated[bool, Parameter(required=False)] = False,
) -> list[ReviewItemOut]:
    """Who opened whose file, why, when, and what she did under it; not yet reviewed
    first (only those with `unreviewed=true`). Reading it is itself logged."""
    return await anyio.to_thread.run_sync(partial(_list, request, unreviewed))


def _review(request: Request[Any, Any, Any], access_id: str,
            data: ReviewEmergencyAccess) -> ReviewItemOut:
    svc = services(request)
    user = caller(request)
    try:
        reviewed = review_emergency_access(
            svc.application, svc.access, actor(user), access_id, outcome=data.outcome,
            note=data.note, where=_where(request))
    except EmergencyAccessRefused as e:
        request.scope["state"]["access_logged"] = True
        if e.code == "not-found":
            raise ApiError(404, "no such emergency access") from None
        if e.field is not None:
            raise _field_error(e) from None
        raise ApiError(409, str(e), rule=e.code) from None
    request.scope["state"]["access_logged"] = True
    return _item(to_review(svc.application, svc.users, reviewed))


@post(
    "/audit/emergency-accesses/{access_id:str}/review",
    guards=[authenticated],
    opt={"roles": PRIVACY},
    status_code=201,
    summary="Record the review of an emergency access",
    tags=["emergency access"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def review_emergency(
    request: Request[Any, Any, Any],
    access_id: Annotated[str, Parameter(max_length=64)],
    data: JSONBody[ReviewEmergencyAccess],
) -> ReviewItemOut:
    """Justified, or not justified with a note; once per access, never one's own. 404 for
    an access of another organisation; 409 `review-recorded-already`, `review-own-access`;
    422 naming the note when "not justified" has none."""
    return await in_write_thread(request, partial(_review, request, access_id, data))


def _settings(request: Request[Any, Any, Any]) -> AccessSettingsBody:
    svc = services(request)
    settings = read_access_settings(svc.application, svc.access, actor(caller(request)),
                                    where=_where(request))
    request.scope["state"]["access_logged"] = True
    return _settings_out(settings)


def _change(request: Request[Any, Any, Any], data: AccessSettingsBody) -> AccessSettingsBody:
    svc = services(request)
    wanted = AccessSettings(**msgspec.structs.asdict(data))
    try:
        settings = change_access_settings(svc.application, svc.access, actor(caller(request)),
                                          wanted, where=_where(request))
    except EmergencyAccessRefused as e:
        request.scope["state"]["access_logged"] = True
        raise _field_error(e) from None
    request.scope["state"]["access_logged"] = True
    return _settings_out(settings)


@get(
    "/audit/access-settings",
    guards=[authenticated],
    opt={"roles": SETTINGS_ROLES},
    summary="The organisation's settings of emergency access and anomaly signals",
    tags=["emergency access"],
    responses=problem_responses(),
)
async def access_settings(request: Request[Any, Any, Any]) -> AccessSettingsBody:
    """Whether emergency access may record, how many hours it lasts, and the thresholds of
    the anomaly signals (in 30 days) with the hours that count as night."""
    return await anyio.to_thread.run_sync(partial(_settings, request))


@put(
    "/audit/access-settings",
    guards=[authenticated],
    opt={"roles": SETTINGS_ROLES},
    summary="Change the organisation's settings of emergency access and anomaly signals",
    tags=["emergency access"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def change_settings(
    request: Request[Any, Any, Any], data: JSONBody[AccessSettingsBody]
) -> AccessSettingsBody:
    """Every setting at once (read them first); an emergency access already granted keeps
    its hours and its write access. Logged as `access-settings`."""
    return await in_write_thread(request, partial(_change, request, data))


def emergency_routes() -> list[Any]:
    return [ask_emergency_access, end_emergency, emergency_accesses, review_emergency,
            access_settings, change_settings]
