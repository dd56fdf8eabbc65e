"""An organisation's teams over HTTP: the list (its administrator, and its coordinators,
who choose the team a girl is placed with), and the administrator's acts on them: add a
team, add and remove a member, retire a team.

The rules are `identity.administration`'s (`TeamAdministration`); these routes only
translate them. Every act, refused ones too, is access-logged under its own action
(`team-add`, `team-retire`, `team-member-add`, `team-member-remove`). A team of another
organisation answers 404, as a trajectory of another does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio.to_thread
import msgspec
from litestar import Request, delete, get, post
from litestar.params import JSONBody, Parameter

from trajectory.access_log import Action
from trajectory.api.context import access_entry, caller, services
from trajectory.api.errors import READ_PROBLEMS, WRITE_PROBLEMS, ApiError, problem_responses
from trajectory.api.problems import FieldError
from trajectory.api.security import ADMIN, authenticated
from trajectory.identity.administration import (
    ListedTeam,
    TeamAdministration,
    TeamRefused,
    listed_teams,
)
from trajectory.identity.teams import Teams

T = TypeVar("T")

TEAM_READERS = ("admin", "coordinator")

TeamId = Annotated[str, Parameter(max_length=100, description="The team's id (GET /teams).")]
UserId = Annotated[str, Parameter(max_length=100, description="The member's user id.")]


class TeamMemberOut(msgspec.Struct, kw_only=True):
    id: str
    """Her user id."""
    name: str
    """Her display name, as every page names her."""
    role: str


class TeamOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    retired: bool = False
    members: list[TeamMemberOut] = []


class AddTeam(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new team of the caller's organisation (a group home, an ambulatory team)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class AddTeamMember(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A coordinator or aftercare worker of the organisation joins the team: she sees its
    girls' files from now on."""

    user_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


def _out(listed: ListedTeam) -> TeamOut:
    return TeamOut(
        id=listed.team.team_id, name=listed.team.name, retired=listed.team.retired,
        members=[TeamMemberOut(id=u.user_id, name=u.shown_name, role=u.role)
                 for u in listed.members],
    )


def _listed(request: Request[Any, Any, Any]) -> list[TeamOut]:
    svc = services(request)
    teams = Teams(svc.application.db)
    return [_out(t) for t in listed_teams(teams, svc.users, caller(request).organisation)]


def _one(request: Request[Any, Any, Any], team_id: str) -> TeamOut:
    """The team as it is now (its members), retired or not."""
    svc = services(request)
    teams = Teams(svc.application.db)
    team = teams.get(team_id)
    assert team is not None
    members = [u for uid in teams.members(team_id) if (u := svc.users.by_id(uid)) is not None]
    return _out(ListedTeam(team, tuple(members)))


def _act(request: Request[Any, Any, Any], action: Action,
         work: Callable[[TeamAdministration], T]) -> T:
    """Do one act of the administrator's, logging it (refused or not) under `action`;
    a refusal becomes the problem that names its field."""
    svc = services(request)
    log = svc.access
    request.scope.setdefault("state", {})["access_logged"] = True
    administration = TeamAdministration(Teams(svc.application.db), svc.users, caller(request))
    try:
        done = work(administration)
    except TeamRefused as e:
        outcome = "denied" if e.kind == "not-found" else "refused"
        log.append(access_entry(request, action=action, trajectory_id=None, outcome=outcome))
        raise _problem(e) from None
    log.append(access_entry(request, action=action, trajectory_id=None, outcome="ok"))
    return done


def _problem(e: TeamRefused) -> ApiError:
    detail = e.sentence[:1].lower() + e.sentence[1:].rstrip(".")
    errors = [FieldError(field=e.field, message=detail)]
    if e.kind == "not-found":
        return ApiError(404, detail, errors=errors)
    if e.kind == "invalid":
        return ApiError(422, f"invalid input: {e.field}", errors=errors)
    return ApiError(409, detail, rule=e.code, errors=errors)


@get(
    "/teams",
    guards=[authenticated],
    opt={"roles": TEAM_READERS},
    summary="The organisation's teams, each with its members",
    tags=["teams"],
    responses=problem_responses(READ_PROBLEMS),
)
async def teams_list(request: Request[Any, Any, Any]) -> list[TeamOut]:
    """Active teams by name, members by their display name. A coordinator reads it to
    choose the team a girl is placed with (`team` at intake, `POST
    /trajectories/{id}/team-assignments`)."""
    return await anyio.to_thread.run_sync(partial(_listed, request))


@post(
    "/teams",
    guards=[authenticated],
    opt={"roles": ADMIN},
    status_code=201,
    summary="Add a team to the organisation",
    tags=["teams"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def add_team(request: Request[Any, Any, Any], data: JSONBody[AddTeam]) -> TeamOut:
    """409 `team-name-taken` when the organisation has a team by that name already."""
    def work() -> TeamOut:
        now = services(request).application.clock()
        team = _act(request, "team-add", lambda a: a.add(data.name, now))
        return _one(request, team.team_id)

    return await anyio.to_thread.run_sync(work)


@post(
    "/teams/{team_id:str}/members",
    guards=[authenticated],
    opt={"roles": ADMIN},
    status_code=201,
    summary="Add a member to a team",
    tags=["teams"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def add_team_member(
    request: Request[Any, Any, Any], team_id: TeamId, data: JSONBody[AddTeamMember]
) -> TeamOut:
    """She sees the team's girls from now on. 422 naming `user_id` when she is no active
    coordinator or aftercare worker of the organisation; 409 `team-retired`, 409
    `team-member-already`."""
    def work() -> TeamOut:
        now = services(request).application.clock()
        _act(request, "team-member-add", lambda a: a.add_member(team_id, data.user_id, now))
        return _one(request, team_id)

    return await anyio.to_thread.run_sync(work)


@delete(
    "/teams/{team_id:str}/members/{user_id:str}",
    guards=[authenticated],
    opt={"roles": ADMIN},
    status_code=204,
    summary="Remove a member from a team",
    tags=["teams"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def remove_team_member(
    request: Request[Any, Any, Any], team_id: TeamId, user_id: UserId
) -> None:
    """She no longer sees the team's girls (those she is responsible for she still does).
    Her membership keeps its row, with the moment it ended."""
    def work() -> None:
        now = services(request).application.clock()
        _act(request, "team-member-remove", lambda a: a.remove_member(team_id, user_id, now))

    await anyio.to_thread.run_sync(work)


@post(
    "/teams/{team_id:str}/retirement",
    guards=[authenticated],
    opt={"roles": ADMIN},
    status_code=200,
    summary="Retire a team",
    tags=["teams"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def retire_team(request: Request[Any, Any, Any], team_id: TeamId) -> TeamOut:
    """No girl can be placed with it any more; its members keep seeing the girls left in
    it until each is placed with another team. 409 `team-retired` when it is already."""
    def work() -> TeamOut:
        now = services(request).application.clock()
        _act(request, "team-retire", lambda a: a.retire(team_id, now))
        return _one(request, team_id)

    return await anyio.to_thread.run_sync(work)


def team_routes() -> list[Any]:
    return [teams_list, add_team, add_team_member, remove_team_member, retire_team]
