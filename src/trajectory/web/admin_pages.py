"""The administrator's users page: her organisation's users, adding one, a new role, a new
second factor, revoking, ending sessions; her teams page: its teams and their members.

The rules are `identity.administration`'s; this page only asks and shows. A new second
factor and a revocation cannot be undone: the form asks to confirm and for her password
and a new code, for this act alone (as an erasure does). Every act, refused ones too, is
access-logged under its own action.
"""

from __future__ import annotations

import typing
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Template

from trajectory.access_log import Action, Outcome
from trajectory.access_report import basis_of
from trajectory.emergency import EmergencyAccesses
from trajectory.identity.administration import (
    NOT_FOUND,
    ORGANISATION_ROLES,
    Administration,
    AdminRefused,
    NewUser,
    TeamAdministration,
    TeamRefused,
)
from trajectory.identity.credentials import Enrolment
from trajectory.identity.teams import Teams
from trajectory.web.auth_pages import _qr, reauthenticate
from trajectory.web.core import (
    PathText,
    first,
    form_of,
    log_access,
    page,
    session_of,
    translator,
    web,
)

ADMIN = {"web_access": "full", "web_roles": ("admin",)}


def _administration(request: Request[Any, Any, Any]) -> Administration:
    w = web(request)
    return Administration(w.services.users, w.credentials, session_of(request).user)


def _users_page(request: Request[Any, Any, Any], *, status_code: int = 200,
                **context: Any) -> Template:
    w = web(request)
    t = translator(request)
    now = w.services.application.clock()
    listed = _administration(request).listed()
    sessions = {u.user.user_id: len(w.sessions.of_user(u.user.user_id, now)) for u in listed}
    ctx: dict[str, Any] = {"errors": {}, "notice": None, "new_user": None, "enrolment": None,
                           "form": {}, "about": None}
    ctx.update(context)
    enrolment: Enrolment | None = ctx.pop("enrolment")
    qr = _qr(enrolment.uri, t("QR code for the authenticator app")) if enrolment else None
    return page(request, "admin_users.html", status_code=status_code, listed=listed,
                sessions=sessions, roles=ORGANISATION_ROLES, enrolment=enrolment, qr=qr,
                **ctx)


def _refused(request: Request[Any, Any, Any], action: str, e: AdminRefused,
             about: str | None = None, **context: Any) -> Template:
    log_access(request, action, None, "refused")
    status = 404 if e.sentence == NOT_FOUND else 409
    return _users_page(request, status_code=status, about=about,
                       errors={e.field: translator(request)(e.sentence)}, **context)


@get("/admin/users", opt=ADMIN, sync_to_thread=True)
def users_page(request: Request[Any, Any, Any]) -> Template:
    log_access(request, "user-list", None)
    return _users_page(request)


@post("/admin/users", opt=ADMIN, sync_to_thread=True)
def add_user(request: Request[Any, Any, Any]) -> Template:
    form = form_of(request)
    kept = {"name": first(form, "name")[:200], "role": first(form, "role")[:40],
            "display_name": first(form, "display_name")[:201]}
    try:
        new: NewUser = _administration(request).add(
            name=kept["name"], role=kept["role"], display_name=kept["display_name"],
            now=web(request).services.application.clock())
    except AdminRefused as e:
        return _refused(request, "user-add", e, form=kept)
    log_access(request, "user-add", None)
    t = translator(request)
    return _users_page(request, new_user=new, enrolment=new.enrolment,
                       notice=t("The user was added."))


@post("/admin/users/{user_id:str}/role", opt=ADMIN, sync_to_thread=True)
def change_role(request: Request[Any, Any, Any], user_id: PathText) -> Template:
    try:
        _administration(request).change_role(user_id, first(form_of(request), "role"))
    except AdminRefused as e:
        return _refused(request, "user-role", e, about=user_id)
    log_access(request, "user-role", None)
    t = translator(request)
    return _users_page(request, notice=t("The role was changed. The user signs in again."))


def _confirmed(request: Request[Any, Any, Any], action: str, user_id: str) -> Template | None:
    """None when the form confirms the act and carries her password and a new code;
    else the page saying what is missing (logged as denied)."""
    t = translator(request)
    form = form_of(request)
    if first(form, "confirm") != "yes":
        log_access(request, action, None, "denied")
        return _users_page(request, status_code=422, about=user_id,
                           errors={"confirm": t("Tick the box to confirm.")})
    if not reauthenticate(request, form, for_this_act=True):
        log_access(request, action, None, "denied")
        return _users_page(request, status_code=401, about=user_id,
                           errors={"reauth": t("Wrong password or code."),
                                   "act": action.removeprefix("user-")})
    return None


@post("/admin/users/{user_id:str}/second-factor", opt=ADMIN, sync_to_thread=True)
def new_second_factor(request: Request[Any, Any, Any], user_id: PathText) -> Template:
    administration = _administration(request)
    try:
        administration.target(user_id)
    except AdminRefused as e:
        return _refused(request, "user-second-factor", e, about=user_id)
    refusal = _confirmed(request, "user-second-factor", user_id)
    if refusal is not None:
        return refusal
    try:
        user, enrolment = administration.new_second_factor(user_id)
    except AdminRefused as e:
        return _refused(request, "user-second-factor", e, about=user_id)
    log_access(request, "user-second-factor", None)
    t = translator(request)
    return _users_page(request, enrolment=enrolment, new_user=None, notice=t(
        "%(name)s has a new second factor; the old one no longer works. Hand over the code"
        " below; it is shown once.", name=user.shown_name))


@post("/admin/users/{user_id:str}/revocation", opt=ADMIN, sync_to_thread=True)
def revoke_user(request: Request[Any, Any, Any], user_id: PathText) -> Template:
    administration = _administration(request)
    try:
        administration.may_revoke(user_id)
    except AdminRefused as e:
        return _refused(request, "user-revoke", e, about=user_id)
    refusal = _confirmed(request, "user-revoke", user_id)
    if refusal is not None:
        return refusal
    try:
        user = administration.revoke(user_id, web(request).services.application.clock())
    except AdminRefused as e:
        return _refused(request, "user-revoke", e, about=user_id)
    log_access(request, "user-revoke", None)
    t = translator(request)
    return _users_page(request, notice=t(
        "%(name)s is revoked: she can no longer sign in.", name=user.shown_name))


@post("/admin/users/{user_id:str}/sessions", opt=ADMIN, sync_to_thread=True)
def end_sessions(request: Request[Any, Any, Any], user_id: PathText) -> Template:
    try:
        user = _administration(request).end_sessions(user_id)
    except AdminRefused as e:
        return _refused(request, "user-sessions", e, about=user_id)
    log_access(request, "user-sessions", None)
    t = translator(request)
    return _users_page(request, notice=t(
        "The sessions of %(name)s have ended.", name=user.shown_name))


# -- teams -------------------------------------------------------------------------------------
# The organisation's teams with their members by name; adding a team, adding and removing
# a member (chosen by name from the organisation's coordinators and aftercare workers),
# retiring a team (confirmed). The rules are `TeamAdministration`'s; every act, refused
# ones too, is logged under its own action.


def _teams(request: Request[Any, Any, Any]) -> TeamAdministration:
    return TeamAdministration(Teams(web(request).services.application.db),
                              web(request).services.users, session_of(request).user)


def _teams_page(request: Request[Any, Any, Any], *, status_code: int = 200,
                **context: Any) -> Template:
    teams = _teams(request)
    ctx: dict[str, Any] = {"errors": {}, "notice": None, "about": None, "form": {}}
    ctx.update(context)
    listed = teams.listed()
    candidates = teams.candidates()
    # per team, whom it can take: the candidates not in it yet
    addable = {lt.team.team_id: [u for u in candidates if u not in lt.members]
               for lt in listed}
    return page(request, "admin_teams.html", status_code=status_code, listed=listed,
                addable=addable, **ctx)


def _team_refused(request: Request[Any, Any, Any], action: str, e: TeamRefused,
                  about: str | None = None, **context: Any) -> Template:
    log_access(request, action, None, "denied" if e.kind == "not-found" else "refused")
    status = {"not-found": 404, "invalid": 422}.get(e.kind, 409)
    return _teams_page(request, status_code=status, about=about,
                       errors={e.field: translator(request)(e.sentence)}, **context)


@get("/admin/teams", opt=ADMIN, sync_to_thread=True)
def teams_page(request: Request[Any, Any, Any]) -> Template:
    return _teams_page(request)


@post("/admin/teams", opt=ADMIN, sync_to_thread=True)
def add_team(request: Request[Any, Any, Any]) -> Template:
    name = first(form_of(request), "name")[:200]
    try:
        team = _teams(request).add(name, web(request).services.application.clock())
    except TeamRefused as e:
        return _team_refused(request, "team-add", e, form={"name": name})
    log_access(request, "team-add", None)
    t = translator(request)
    return _teams_page(request, notice=t("The team %(name)s was added.", name=team.name))


@post("/admin/teams/{team_id:str}/members", opt=ADMIN, sync_to_thread=True)
def add_team_member(request: Request[Any, Any, Any], team_id: PathText) -> Template:
    try:
        team, user = _teams(request).add_member(
            team_id, first(form_of(request), "user_id"),
            web(request).services.application.clock())
    except TeamRefused as e:
        return _team_refused(request, "team-member-add", e, about=team_id)
    log_access(request, "team-member-add", None)
    t = translator(request)
    return _teams_page(request, notice=t("%(name)s belongs to the team %(team)s now.",
                                         name=user.shown_name, team=team.name))


@post("/admin/teams/{team_id:str}/members/{user_id:str}/removal", opt=ADMIN,
      sync_to_thread=True)
def remove_team_member(request: Request[Any, Any, Any], team_id: PathText,
                       user_id: PathText) -> Template:
    try:
        team, user = _teams(request).remove_member(
            team_id, user_id, web(request).services.application.clock())
    except TeamRefused as e:
        return _team_refused(request, "team-member-remove", e, about=team_id)
    log_access(request, "team-member-remove", None)
    t = translator(request)
    return _teams_page(request, notice=t(
        "%(name)s no longer belongs to the team %(team)s.", name=user.shown_name,
        team=team.name))


@post("/admin/teams/{team_id:str}/retirement", opt=ADMIN, sync_to_thread=True)
def retire_team(request: Request[Any, Any, Any], team_id: PathText) -> Template:
    teams = _teams(request)
    try:
        teams.active(team_id)
    except TeamRefused as e:
        return _team_refused(request, "team-retire", e, about=team_id)
    t = translator(request)
    if first(form_of(request), "confirm") != "yes":
        log_access(request, "team-retire", None, "denied")
        return _teams_page(request, status_code=422, about=team_id,
                           errors={"confirm": t("Tick the box to confirm.")})
    try:
        team = teams.retire(team_id, web(request).services.application.clock())
    except TeamRefused as e:
        return _team_refused(request, "team-retire", e, about=team_id)
    log_access(request, "team-retire", None)
    return _teams_page(request, notice=t("The team %(name)s is retired.", name=team.name))


# -- the access log ----------------------------------------------------------------------------

PAGE_SIZE = 50


def _girls_matching(request: Request[Any, Any, Any], name: str, short: str) -> list[str]:
    """Her organisation's trajectories whose girl's name holds `name` (names are stored
    encrypted: the opening event of each is read and compared) and whose id begins with
    `short` (the 8-character short id the pages show, or the whole id)."""
    from trajectory.views import opening_event

    app = web(request).services.application
    organisation = session_of(request).user.organisation
    rows = app.db.fetchall("SELECT trajectory_id FROM trajectory_index WHERE organisation = ?",
                           [organisation])
    wanted, prefix = name.strip().casefold(), short.strip().lower()
    found = []
    for row in rows:
        tid = str(row["trajectory_id"])
        if prefix and not tid.lower().startswith(prefix):
            continue
        if wanted:
            try:
                opened = opening_event(app.events.get(UUID(tid), lte=1))  # type: ignore[arg-type]
            except Exception:  # an erased file: no name to match
                continue
            if wanted not in opened.identity.name.casefold():
                continue
        found.append(tid)
    return found


AUDIT = {"web_access": "full", "web_roles": ("admin", "privacy")}
"""The access log: the organisation's admins and its privacy officer."""


@get("/admin/log", opt=AUDIT, sync_to_thread=True)
def log_page(request: Request[Any, Any, Any]) -> Template:
    """The organisation's access log, newest first, by girl (name or short id), user,
    action and period; the search itself is logged, naming the girls it matched."""
    from trajectory.identity.users import names_of

    w = web(request)
    admin = session_of(request).user
    q = {k: (request.query_params.get(k) or "")[:200] for k in
         ("name", "trajectory", "user", "action", "outcome", "since", "until", "page")}
    errors: dict[str, str] = {}
    t = translator(request)
    tids = None
    if q["name"] or q["trajectory"]:
        tids = _girls_matching(request, q["name"], q["trajectory"])
    user_id = None
    if q["user"]:  # by the name the log shows her by, or by her login name
        wanted = q["user"].strip()
        found = w.services.users.find(wanted) or next(
            (u for u in w.services.users.all() if u.shown_name.casefold() == wanted.casefold()),
            None)
        user_id = found.user_id if found is not None else "-"
    period: dict[str, str | None] = {}
    for key in ("since", "until"):
        try:
            day = date.fromisoformat(q[key]) if q[key] else None
        except ValueError:
            errors[key] = t("Fill in a date as dd-mm-yyyy.")
            day = None
        if day is not None and key == "until":
            day += timedelta(days=1)
        period[key] = day.isoformat() if day is not None else None
    number = int(q["page"]) if q["page"].isdigit() and 0 < int(q["page"]) < 10_000 else 1
    entries = w.services.access.search(
        admin.organisation, trajectory_ids=tids, user_id=user_id, action=q["action"] or None,
        outcome=q["outcome"] or None, since=period["since"], until=period["until"],
        limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE)
    log_access(request, "audit-read", None, shown=tuple(tids or ()))
    name = names_of(w.services.users)
    emergency = EmergencyAccesses(w.services.application.db)
    accesses = {e["emergency_access"]: emergency.get(e["emergency_access"])
                for e in entries[:PAGE_SIZE] if e.get("emergency_access")}
    kept = {k: v for k, v in q.items() if v and k != "page"}
    newer = urlencode({**kept, "page": str(number - 1)}) if number > 1 else None
    older = urlencode({**kept, "page": str(number + 1)}) if len(entries) > PAGE_SIZE else None
    return page(request, "admin_log.html", status_code=422 if errors else 200, q=q,
                errors=errors, entries=entries[:PAGE_SIZE], newer=newer, older=older,
                who=name, short=lambda tid: str(tid)[:8], actions=typing.get_args(Action),
                basis_of=basis_of, accesses=accesses,
                outcomes=typing.get_args(Outcome))


def admin_routes() -> list[Any]:
    return [log_page, users_page, add_user, change_role, new_second_factor, revoke_user,
            end_sessions, teams_page, add_team, add_team_member, remove_team_member,
            retire_team]
