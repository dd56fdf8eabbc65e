"""Approved research projects over HTTP: propose (researcher), read, decide on an
organisation's participation and bind researchers (admin, the privacy officer).

The rules live in `trajectory.research.approvals`; these routes only translate its
refusals (`ProjectRefused`: 403/404/409 naming the rule; `ProjectInvalid`: 422 naming the
field). Every step is access-logged there; reads are logged here, before the answer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from typing import Annotated, Any, Literal

import anyio.to_thread
import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody, Parameter

from trajectory.api.context import access_entry, actor, caller, client_of, services
from trajectory.api.errors import ApiError, FieldError, problem_responses
from trajectory.api.security import ADMIN, RESEARCHER, authenticated
from trajectory.clock import amsterdam_date
from trajectory.research.approvals import (
    Project,
    ProjectInvalid,
    ProjectRefused,
    all_projects,
    bind,
    decide,
    find_project,
    propose,
)

_NAME = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ProjectName = Annotated[str, Parameter(max_length=64)]


class ProposeProject(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A research project: what it is for, its ethics approval, the data it needs and
    from whom, and until when."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64,
                                      pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    ethics_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    """The METC (or equivalent committee) reference of the study's approval."""
    files: Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]],
                     msgspec.Meta(max_length=10)] | None = None
    """The files it needs (null: all)."""
    variables: Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]],
                         msgspec.Meta(max_length=300)] | None = None
    """The variables (file.column) it needs (null: every column of its files)."""
    period_from: date
    """Girls taken in from this day ..."""
    period_to: date
    """... to this day (observed until it at the latest)."""
    organisations: Annotated[list[_NAME], msgspec.Meta(min_length=1, max_length=50)]
    expires_on: date


class DecideParticipation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The caller's organisation's decision on its participation."""

    decision: Literal["approved", "declined"] = "approved"


class BindResearcher(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    researcher: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    """The researcher's user name."""


class DecisionOut(msgspec.Struct, kw_only=True):
    organisation: str
    decision: str
    decided_by: str
    decided_at: str


class MemberOut(msgspec.Struct, kw_only=True):
    researcher: str
    bound_by: str
    bound_at: str


class ProjectOut(msgspec.Struct, kw_only=True):
    name: str
    purpose: str
    ethics_reference: str
    files: list[str]
    variables: list[str] | None
    period_from: str
    period_to: str
    organisations: list[str]
    expires_on: str
    proposed_by: str
    proposed_at: str
    approved: bool
    """Every organisation in scope approved it (its latest decision)."""
    expired: bool
    decisions: list[DecisionOut]
    members: list[MemberOut]


def project_out(p: Project, today: date) -> ProjectOut:
    return ProjectOut(
        name=p.name, purpose=p.purpose, ethics_reference=p.ethics_reference,
        files=list(p.declaration.files),
        variables=None if p.declaration.variables is None else list(p.declaration.variables),
        period_from=p.period_from.isoformat(), period_to=p.period_to.isoformat(),
        organisations=list(p.organisations), expires_on=p.expires_on.isoformat(),
        proposed_by=p.proposed_by, proposed_at=p.proposed_at.isoformat(),
        approved=p.approved, expired=p.expired(today),
        decisions=[DecisionOut(organisation=d.organisation, decision=d.decision,
                               decided_by=d.decided_by, decided_at=d.decided_at.isoformat())
                   for d in p.decisions],
        members=[MemberOut(researcher=m.researcher, bound_by=m.bound_by,
                           bound_at=m.bound_at.isoformat()) for m in p.members],
    )


def refusal(e: ProjectRefused | ProjectInvalid) -> ApiError:
    """The one translation of a project's refusal into a problem."""
    if isinstance(e, ProjectInvalid):
        return ApiError(422, str(e), errors=[FieldError(field=e.field, message=e.message)])
    return ApiError(e.status, e.message, rule=e.code)


def _logged(request: Request[Any, Any, Any]) -> None:
    """The domain writes this act's entry (also when it refuses): not the error handler."""
    request.scope.setdefault("state", {})["access_logged"] = True


def _read_logged(request: Request[Any, Any, Any], name: ProjectName) -> None:
    entry = access_entry(request, action="read", trajectory_id=None, outcome="ok")
    services(request).access.append(replace(entry, request_id=f"research-project:{name}"))


def _propose(request: Request[Any, Any, Any], data: ProposeProject) -> ProjectOut:
    svc = services(request)
    app = svc.application
    now = app.clock()
    _logged(request)
    try:
        p = propose(app.db, actor(caller(request)), name=data.name, purpose=data.purpose,
                    ethics_reference=data.ethics_reference, files=data.files,
                    variables=data.variables, period_from=data.period_from,
                    period_to=data.period_to, organisations=data.organisations,
                    expires_on=data.expires_on, now=now, today=amsterdam_date(now),
                    client=client_of(request))
    except (ProjectRefused, ProjectInvalid) as e:
        raise refusal(e) from None
    return project_out(p, amsterdam_date(now))


@post(
    "/research/projects",
    guards=[authenticated],
    # A proposal decides nothing and touches no care data: the researcher's ordinary
    # token (scope read) may make it; the organisations in scope decide.
    opt={"roles": RESEARCHER, "scope": "read"},
    status_code=201,
    summary="Propose a research project",
    tags=["research"],
    responses=problem_responses((400, 401, 403, 409, 413, 422, 429, 500, 503)),
)
async def propose_project(
    request: Request[Any, Any, Any], data: JSONBody[ProposeProject]
) -> ProjectOut:
    """A researcher proposes a project: its purpose, ethics reference, the files,
    variables and period it needs, the organisations in scope and its expiry. It can be
    exported only once the admin (privacy officer) of every organisation in scope approved
    it, and only by researchers bound to it. A name in use is refused (409,
    `project-exists`)."""
    return await anyio.to_thread.run_sync(partial(_propose, request, data))


def _list(request: Request[Any, Any, Any]) -> list[ProjectOut]:
    app = services(request).application
    today = amsterdam_date(app.clock())
    projects = all_projects(app.db)
    _read_logged(request, "*")
    return [project_out(p, today) for p in projects]


@get("/research/projects", guards=[authenticated], opt={"roles": RESEARCHER + ADMIN},
     summary="Every research project", tags=["research"],
     responses=problem_responses((401, 403, 429, 500, 503)))
async def list_projects(request: Request[Any, Any, Any]) -> list[ProjectOut]:
    """Every project with its scope, decisions and bound researchers (no care data)."""
    return await anyio.to_thread.run_sync(partial(_list, request))


def _one(request: Request[Any, Any, Any], name: ProjectName) -> ProjectOut:
    app = services(request).application
    found = find_project(app.db, name)
    if found is None:
        raise ApiError(404, f"there is no research project {name!r}", rule="project-unknown")
    _read_logged(request, name)
    return project_out(found, amsterdam_date(app.clock()))


@get("/research/projects/{name:str}", guards=[authenticated],
     opt={"roles": RESEARCHER + ADMIN}, summary="One research project", tags=["research"],
     responses=problem_responses((401, 403, 404, 429, 500, 503)))
async def get_project(request: Request[Any, Any, Any], name: ProjectName) -> ProjectOut:
    """A project: its record, every organisation's decisions, its bound researchers."""
    return await anyio.to_thread.run_sync(partial(_one, request, name))


def _decide(request: Request[Any, Any, Any], name: str, data: DecideParticipation) -> ProjectOut:
    app = services(request).application
    _logged(request)
    try:
        p = decide(app.db, actor(caller(request)), name, decision=data.decision,
                   now=app.clock(), client=client_of(request))
    except (ProjectRefused, ProjectInvalid) as e:
        raise refusal(e) from None
    return project_out(p, amsterdam_date(app.clock()))


@post("/research/projects/{name:str}/approvals", guards=[authenticated],
      opt={"roles": ADMIN}, status_code=201,
      summary="Decide on your organisation's participation in a research project",
      tags=["research"],
      responses=problem_responses((400, 401, 403, 404, 413, 422, 429, 500, 503)))
async def decide_participation(
    request: Request[Any, Any, Any], name: ProjectName, data: JSONBody[DecideParticipation]
) -> ProjectOut:
    """The admin of an organisation in scope (its privacy officer) approves (or
    declines) its participation; the latest decision is in force. An admin of an
    organisation outside the scope is refused (403, `organisation-out-of-scope`)."""
    return await anyio.to_thread.run_sync(partial(_decide, request, name, data))


def _bind(request: Request[Any, Any, Any], name: str, data: BindResearcher) -> ProjectOut:
    svc = services(request)
    app = svc.application
    user = svc.users.find(data.researcher.strip())
    known = user is not None and not user.revoked
    _logged(request)
    try:  # (an unknown user is the rule's to name, after the project and its scope)
        p = bind(app.db, actor(caller(request)), name,
                 researcher_id=user.user_id if user is not None and known else "",
                 researcher_role=user.role if user is not None and known else "",
                 now=app.clock(), client=client_of(request))
    except (ProjectRefused, ProjectInvalid) as e:
        raise refusal(e) from None
    return project_out(p, amsterdam_date(app.clock()))


@post("/research/projects/{name:str}/members", guards=[authenticated],
      opt={"roles": ADMIN}, status_code=201,
      summary="Bind a researcher's account to a research project", tags=["research"],
      responses=problem_responses((400, 401, 403, 404, 413, 422, 429, 500, 503)))
async def bind_researcher(
    request: Request[Any, Any, Any], name: ProjectName, data: JSONBody[BindResearcher]
) -> ProjectOut:
    """An admin of one of the project's organisations binds a researcher (by user name):
    only bound researchers export the project's data."""
    return await anyio.to_thread.run_sync(partial(_bind, request, name, data))


def project_routes() -> list[Any]:
    return [propose_project, list_projects, get_project, decide_participation,
            bind_researcher]
