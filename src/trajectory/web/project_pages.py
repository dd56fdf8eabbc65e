"""The pages of approved research projects: a researcher proposes one, the admin of each
organisation in scope (its privacy officer) approves its participation and binds
researchers, and both read them.

The rules are `trajectory.research.approvals`'; a refusal is a sentence at its field.
Every step is access-logged there (reads here). A form sent twice (a double click, a
reload) records nothing new: the proposal exists already (hers, the same), the
organisation's decision was taken after the page was shown (`seen`), the researcher is
bound already.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from trajectory.api.context import actor, client_of
from trajectory.clock import amsterdam_date
from trajectory.identity.users import names_of
from trajectory.research.approvals import (
    APPROVER_ROLE,
    Project,
    ProjectInvalid,
    ProjectRefused,
    all_projects,
    bind,
    decide,
    find_project,
    propose,
)
from trajectory.research.projects import FILES
from trajectory.web.core import (
    PathText,
    first,
    form_of,
    log_access,
    not_found,
    page,
    redirect,
    session_of,
    translator,
    web,
)
from trajectory.web.i18n import N_, Translator

READERS = {"web_access": "full", "web_roles": ("researcher", "admin")}
PROPOSERS = {"web_access": "full", "web_roles": ("researcher",)}
APPROVERS = {"web_access": "full", "web_roles": ("admin",)}

REFUSALS: dict[str, str] = {
    "project-unknown": N_("There is no research project with this name."),
    "project-exists": N_("There is a research project with this name already: choose"
                         " another name."),
    "project-not-approved": N_("Not every organisation in the project's scope has approved"
                               " it yet."),
    "project-expired": N_("The project has expired: its data can no longer be exported."),
    "researcher-not-bound": N_("Your account is not bound to this project. An administrator"
                               " of one of its organisations can bind you."),
    "organisation-out-of-scope": N_("Your organisation is not in this project's scope."),
    "not-an-approver": N_("Only an administrator of an organisation in scope can do this."),
}
"""Each refusal of `research.approvals` as a sentence for the page."""

FIELD_PROBLEMS: dict[str, str] = {
    "name": N_("Use letters, digits, dots, dashes or underscores, starting with a letter or"
               " digit (at most 64)."),
    "purpose": N_("Say what the project is for."),
    "ethics_reference": N_("Give the reference of the ethics committee's approval (METC or"
                           " equivalent)."),
    "organisations": N_("Name at least one organisation."),
    "period_from": N_("Give the first day of the period."),
    "period_to": N_("The period must not end before it begins."),
    "expires_on": N_("The expiry date must not lie in the past."),
    "files": N_("Choose among the files of the export."),
    "variables": N_("A variable is file.column, of a chosen file."),
    "researcher": N_("There is no researcher with this user name."),
}


def refusal_sentence(t: Translator, e: ProjectRefused) -> str:
    return t(REFUSALS.get(e.code, N_("This value does not fit.")))


def _projects_page(request: Request[Any, Any, Any], *, status_code: int = 200,
                   errors: dict[str, str] | None = None,
                   form: dict[str, str] | None = None) -> Template:
    app = web(request).services.application
    projects = all_projects(app.db)
    log_access(request, "read", None)
    return page(request, "projects.html", status_code=status_code, projects=projects,
                today=amsterdam_date(app.clock()), errors=errors or {}, form=form or {},
                declarable_files=FILES, role=session_of(request).user.role)


@get("/research/projects", opt=READERS, sync_to_thread=True)
def projects_page(request: Request[Any, Any, Any]) -> Template:
    return _projects_page(request)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@post("/research/projects", opt=PROPOSERS, sync_to_thread=True, status_code=303)
def propose_page(request: Request[Any, Any, Any]) -> Response[Any]:
    t = translator(request)
    form = form_of(request)
    user = session_of(request).user
    app = web(request).services.application
    kept = {k: first(form, k)[:2000] for k in (
        "name", "purpose", "ethics_reference", "organisations", "variables", "period_from",
        "period_to", "expires_on")}
    name = kept["name"].strip()
    days = {k: _day(kept[k]) for k in ("period_from", "period_to", "expires_on")}
    missing = [k for k, v in days.items() if v is None]
    if missing:
        return _projects_page(request, status_code=422, form=kept, errors={
            k: t(N_("Give a date as YYYY-MM-DD.")) for k in missing})
    files = [f for f in form.get("files", []) if f] or None
    variables = [v.strip() for v in kept["variables"].replace("\n", ",").split(",")
                 if v.strip()] or None
    organisations = [o.strip() for o in kept["organisations"].replace("\n", ",").split(",")]
    now = app.clock()
    existing = find_project(app.db, name) if name else None
    if existing is not None and existing.proposed_by == user.user_id and (
            existing.purpose == kept["purpose"].strip()):
        return redirect(f"/research/projects/{name}")  # (sent twice: recorded once)
    begins, ends, expires = days["period_from"], days["period_to"], days["expires_on"]
    assert begins is not None
    assert ends is not None
    assert expires is not None
    try:
        propose(app.db, actor(user), name=name, purpose=kept["purpose"],
                ethics_reference=kept["ethics_reference"], files=files, variables=variables,
                period_from=begins, period_to=ends,
                organisations=organisations, expires_on=expires, now=now,
                today=amsterdam_date(now), client=client_of(request))
    except ProjectInvalid as e:
        return _projects_page(request, status_code=422, form=kept, errors={
            e.field: t(FIELD_PROBLEMS.get(e.field, N_("This value does not fit.")))})
    except ProjectRefused as e:
        return _projects_page(request, status_code=409, form=kept,
                              errors={"name": refusal_sentence(t, e)})
    return redirect(f"/research/projects/{name}", done="proposed")


def _project_page(request: Request[Any, Any, Any], name: str, *, status_code: int = 200,
                  error: str | None = None, bind_error: str | None = None) -> Template:
    app = web(request).services.application
    project = find_project(app.db, name)
    if project is None:
        raise not_found()
    log_access(request, "read", None)
    user = session_of(request).user
    users = web(request).services.users
    person = names_of(users)
    names = {who: person(who) for who in {
        project.proposed_by, *(d.decided_by for d in project.decisions),
        *(m.researcher for m in project.members), *(m.bound_by for m in project.members)}}
    return page(request, "project.html", status_code=status_code, p=project,
                today=amsterdam_date(app.clock()), names=names, error=error,
                bind_error=bind_error, done=request.query_params.get("done"),
                decides=user.role == APPROVER_ROLE and user.organisation in project.organisations,
                own=project.in_force.get(user.organisation))


@get("/research/projects/{name:str}", opt=READERS, sync_to_thread=True)
def project_page(request: Request[Any, Any, Any], name: PathText) -> Template:
    return _project_page(request, name)


def _replayed(project: Project, organisation: str, decision: str, seen: str) -> bool:
    """The organisation took this decision after the page was shown: a second submit."""
    latest = project.in_force.get(organisation)
    return (seen.isdigit() and len(project.decisions) > int(seen) and latest is not None
            and latest.decision == decision)


@post("/research/projects/{name:str}/approvals", opt=APPROVERS, sync_to_thread=True,
      status_code=303)
def decide_page(request: Request[Any, Any, Any], name: PathText) -> Response[Any]:
    t = translator(request)
    form = form_of(request)
    user = session_of(request).user
    app = web(request).services.application
    decision = first(form, "decision") or "approved"
    if decision not in ("approved", "declined"):
        return _project_page(request, name, status_code=422,
                             error=t(N_("This value does not fit.")))
    project = find_project(app.db, name)
    if project is not None and _replayed(project, user.organisation, decision,
                                         first(form, "seen")):
        return redirect(f"/research/projects/{name}", done=decision)
    try:
        decide(app.db, actor(user), name, decision=decision, now=app.clock(),
               client=client_of(request))
    except ProjectRefused as e:
        if e.code == "project-unknown":
            raise not_found() from None
        return _project_page(request, name, status_code=e.status,
                             error=refusal_sentence(t, e))
    return redirect(f"/research/projects/{name}", done=decision)


@post("/research/projects/{name:str}/members", opt=APPROVERS, sync_to_thread=True,
      status_code=303)
def bind_page(request: Request[Any, Any, Any], name: PathText) -> Response[Any]:
    t = translator(request)
    form = form_of(request)
    user = session_of(request).user
    services = web(request).services
    app = services.application
    found = services.users.find(first(form, "researcher").strip()[:200])
    researcher = found if found is not None and not found.revoked else None
    try:  # (an unknown user is the rule's to name, after the project and its scope)
        bind(app.db, actor(user), name,
             researcher_id=researcher.user_id if researcher is not None else "",
             researcher_role=researcher.role if researcher is not None else "",
             now=app.clock(), client=client_of(request))
    except ProjectInvalid:
        return _project_page(request, name, status_code=422,
                             bind_error=t(FIELD_PROBLEMS["researcher"]))
    except ProjectRefused as e:
        if e.code == "project-unknown":
            raise not_found() from None
        return _project_page(request, name, status_code=e.status,
                             bind_error=refusal_sentence(t, e))
    return redirect(f"/research/projects/{name}", done="bound")


def project_routes() -> list[Any]:
    return [projects_page, propose_page, project_page, decide_page, bind_page]
