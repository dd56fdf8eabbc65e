"""Emergency access on the pages: the coordinator's form to open a girl's file outside her
relationships (with a reason, for the organisation's number of hours) and the button that
ends it; the privacy officer's review list and her organisation's access settings.

The banner on every page of the file while it lasts is the shared layout's
(`web.core.emergency_banner`); the search that finds a girl outside her teams is the
caseload's, which asks `outside_relationships` here. The acts and their access-log entries
are `trajectory.emergency_acts`'s, as the API's are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from trajectory.aggregates.errors import TrajectoryNotFound
from trajectory.api.context import actor, client_of, parse_trajectory_id, request_id
from trajectory.application import TrajectoryApplication
from trajectory.emergency import (
    REASONS,
    AccessSettings,
    EmergencyAccess,
    EmergencyAccesses,
    EmergencyAccessRefused,
)
from trajectory.emergency_acts import (
    Where,
    change_access_settings,
    end_emergency_access,
    open_emergency_access,
    read_access_settings,
    review_emergency_access,
    review_list,
)
from trajectory.identity.users import User
from trajectory.visibility import EmergencyAccessNeedless, is_related
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
    until,
    web,
)
from trajectory.web.emergency_words import (
    OUTCOME_WORDS,
    REASON_WORDS,
    act_sentence,
    outcome_word,
    reason_word,
)
from trajectory.web.girls import name_of
from trajectory.web.i18n import N_, Translator

COORD = {"web_access": "full", "web_roles": ("coordinator",)}
PRIVACY = {"web_access": "full", "web_roles": ("privacy",)}
SETTINGS = {"web_access": "full", "web_roles": ("privacy", "admin")}

REFUSED_WORDS = {
    "emergency-reason-unknown": N_("Choose the reason for the emergency."),
    "emergency-explanation-missing": N_("With the reason \u201cother\u201d, describe what the"
                                        " emergency is."),
    "emergency-explanation-too-long": N_("The explanation is longer than 2000 characters."),
    "emergency-write-not-allowed": N_("Your organisation allows emergency access to read"
                                      " only."),
    "review-outcome-unknown": N_("Choose whether the access was justified."),
    "review-note-missing": N_("Say why the access was not justified."),
    "review-note-too-long": N_("The note is longer than 2000 characters."),
    "review-own-access": N_("Nobody reviews her own emergency access."),
    "review-recorded-already": N_("This emergency access was reviewed already."),
}
SETTINGS_WORDS = {
    "emergency_hours": N_("Emergency access lasts from 1 to 24 hours."),
    "outside_team_threshold": N_("A threshold is a count from 1 to 1000."),
    "emergency_threshold": N_("A threshold is a count from 1 to 1000."),
    "night_threshold": N_("A threshold is a count from 1 to 1000."),
    "night_starts": N_("An hour is from 0 to 23."),
    "night_ends": N_("An hour is from 0 to 23."),
}
WHOLE_NUMBER = N_("Fill in a whole number.")


def _app(request: Request[Any, Any, Any]) -> TrajectoryApplication:
    return web(request).services.application


def _where(request: Request[Any, Any, Any]) -> Where:
    return Where(client=client_of(request), request_id=request_id(request))


def _refused(t: Translator, e: EmergencyAccessRefused) -> str:
    return t(REFUSED_WORDS[e.code]) if e.code in REFUSED_WORDS else t(REFUSED_WORDS[
        "emergency-reason-unknown"])


# -- the caseload's search finds girls outside her relationships -----------------------------


@dataclass(frozen=True)
class Outside:
    """A girl of her organisation the search found outside her relationships: by name
    only, and whether she holds an emergency access to her file now (until when)."""

    tid: UUID
    name: str
    until: str | None


def outside_relationships(app: TrajectoryApplication, t: Translator, user: User,
                          found: list[UUID]) -> list[Outside]:
    """Of the girls a coordinator's name search found in her organisation, those she has
    no relationship with (listed apart, with "ask emergency access")."""
    if user.role != "coordinator":
        return []
    now = app.clock()
    accesses = EmergencyAccesses(app.db)
    out = []
    for tid in found:
        if is_related(app.db, user, tid):
            continue
        name = name_of(app, tid)
        if name is None:
            continue
        access = accesses.in_force(user.user_id, str(tid), now)
        out.append(Outside(tid, name, until(t, access.ends_at, now) if access else None))
    return out


# -- the coordinator's form --------------------------------------------------------------------


def _outside(request: Request[Any, Any, Any], raw_id: str) -> UUID | Redirect:
    """The girl, when her file is one this coordinator may ask emergency access to; her
    page when it is open to her already; 404 otherwise (as a file that does not exist)."""
    tid = parse_trajectory_id(raw_id)
    app = _app(request)
    user = session_of(request).user
    row = app.db.fetchone("SELECT organisation FROM trajectory_index WHERE trajectory_id = ?",
                          [str(tid)])
    if row is None or row["organisation"] != user.organisation:
        raise not_found()
    if is_related(app.db, user, tid) or EmergencyAccesses(app.db).in_force(
            user.user_id, str(tid), app.clock()):
        return redirect(f"/trajectories/{tid}")
    return tid


def _form(request: Request[Any, Any, Any], tid: UUID, *, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None, status_code: int = 200) -> Template:
    t = translator(request)
    app = _app(request)
    settings = EmergencyAccesses(app.db).settings(session_of(request).user.organisation)
    name = name_of(app, tid) or ""
    # The page names her: one entry naming the girl it showed, as the caseload's.
    log_access(request, "search", None, shown=(str(tid),))
    return page(
        request, "emergency_access.html", status_code=status_code, tid=str(tid), name=name,
        reasons=[(r, t(REASON_WORDS[r])) for r in REASONS], hours=settings.emergency_hours,
        may_write=settings.emergency_may_write, errors=errors or {}, values=values or {},
    )


@get("/trajectories/{trajectory_id:str}/emergency-access", opt=COORD, sync_to_thread=True)
def emergency_form(request: Request[Any, Any, Any], trajectory_id: PathText
                   ) -> Template | Redirect:
    found = _outside(request, trajectory_id)
    if isinstance(found, Redirect):
        return found
    return _form(request, found)


@post("/trajectories/{trajectory_id:str}/emergency-access", opt=COORD, sync_to_thread=True,
      status_code=303)
def emergency_open(request: Request[Any, Any, Any], trajectory_id: PathText
                   ) -> Template | Redirect:
    found = _outside(request, trajectory_id)
    if isinstance(found, Redirect):
        return found
    tid = found
    form = form_of(request)
    values = {"reason": first(form, "reason")[:40], "explanation": first(form, "explanation"),
              "write": first(form, "write")}
    try:
        open_emergency_access(
            _app(request), web(request).services.access, actor(session_of(request).user),
            tid, reason=values["reason"], explanation=values["explanation"][:4000],
            write=values["write"] == "1", where=_where(request))
    except TrajectoryNotFound:
        raise not_found() from None
    except EmergencyAccessNeedless:
        return redirect(f"/trajectories/{tid}")
    except EmergencyAccessRefused as e:
        log_access(request, "emergency-open", str(tid), "rejected")
        t = translator(request)
        return _form(request, tid, errors={e.field or "reason": _refused(t, e)},
                     values=values, status_code=422)
    return redirect(f"/trajectories/{tid}")


@post("/trajectories/{trajectory_id:str}/emergency-access/end", opt=COORD,
      sync_to_thread=True, status_code=303)
def emergency_end(request: Request[Any, Any, Any], trajectory_id: PathText) -> Redirect:
    tid = parse_trajectory_id(trajectory_id)
    ended = end_emergency_access(_app(request), web(request).services.access,
                                 actor(session_of(request).user), tid, where=_where(request))
    if ended is None:
        raise not_found()
    return redirect("/emergency-access/ended")


@get("/emergency-access/ended", opt=COORD, sync_to_thread=True)
def emergency_ended(request: Request[Any, Any, Any]) -> Template:
    return page(request, "emergency_ended.html")


# -- the privacy officer's review list ---------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """An emergency access as the review list shows it: every word ready."""

    access_id: str
    number: int
    who: str
    girl: str
    reason: str
    explanation: str
    started: str
    ended: str
    may_write: bool
    acts: list[tuple[str, str]]
    reviewed: str | None
    note: str


def _shown(t: Translator, number: int, item: Any, now: Any) -> Shown:
    a: EmergencyAccess = item.access
    if a.ended_at is not None:
        ended = t("ended early on %(moment)s", moment=t.moment(a.ended_at, seconds=False))
    elif a.ends_at > now:
        ended = t("in force until %(moment)s", moment=t.moment(a.ends_at, seconds=False))
    else:
        ended = t("ended on %(moment)s", moment=t.moment(a.ends_at, seconds=False))
    reviewed = None
    if a.review_outcome is not None and a.reviewed_at is not None:
        reviewed = t("Reviewed by %(name)s on %(moment)s: %(outcome)s.", name=item.reviewer,
                     moment=t.moment(a.reviewed_at, seconds=False),
                     outcome=outcome_word(t, a.review_outcome))
    return Shown(
        access_id=a.access_id, number=number, who=item.who,
        girl=item.girl or t("a girl whose file was destroyed"),
        reason=reason_word(t, a.reason), explanation=a.explanation,
        started=t.moment(a.started_at, seconds=False), ended=ended, may_write=a.may_write,
        acts=[(t.moment(x.at, seconds=False), act_sentence(t, x.action, x.outcome))
              for x in item.acts],
        reviewed=reviewed, note=a.review_note,
    )


def _reviews(request: Request[Any, Any, Any], *, errors: dict[str, dict[str, str]] | None = None,
             values: dict[str, dict[str, str]] | None = None, notice: str | None = None,
             status_code: int = 200) -> Template:
    t = translator(request)
    app = _app(request)
    unreviewed = request.query_params.get("unreviewed") == "1"
    items = review_list(app, web(request).services.users, web(request).services.access,
                        actor(session_of(request).user), unreviewed=unreviewed,
                        where=_where(request))
    now = app.clock()
    shown = [_shown(t, n, i, now) for n, i in enumerate(items, start=1)]
    return page(request, "privacy_reviews.html", status_code=status_code, items=shown,
                unreviewed=unreviewed, errors=errors or {}, values=values or {},
                notice=notice, outcomes=[(o, t(w)) for o, w in OUTCOME_WORDS.items()])


@get("/privacy/emergency-accesses", opt=PRIVACY, sync_to_thread=True)
def reviews_page(request: Request[Any, Any, Any]) -> Template:
    return _reviews(request)


@post("/privacy/emergency-accesses/{access_id:str}/review", opt=PRIVACY, sync_to_thread=True,
      status_code=200)
def review(request: Request[Any, Any, Any], access_id: PathText) -> Template:
    t = translator(request)
    form = form_of(request)
    values = {"outcome": first(form, "outcome")[:40], "note": first(form, "note")[:4000]}
    try:
        review_emergency_access(_app(request), web(request).services.access,
                                actor(session_of(request).user), access_id,
                                outcome=values["outcome"], note=values["note"],
                                where=_where(request))
    except EmergencyAccessRefused as e:
        if e.code == "not-found":
            raise not_found() from None
        field = e.field or "outcome"
        return _reviews(request, errors={access_id: {field: _refused(t, e)}},
                        values={access_id: values},
                        status_code=422 if e.field else 409)
    return _reviews(request, notice=t("The review was recorded."))


# -- the organisation's access settings --------------------------------------------------------


SETTING_FIELDS = ("emergency_hours", "outside_team_threshold", "emergency_threshold",
                  "night_threshold", "night_starts", "night_ends")


def _settings_page(request: Request[Any, Any, Any], settings: AccessSettings, *,
                   errors: dict[str, str] | None = None,
                   values: dict[str, str] | None = None, notice: str | None = None,
                   status_code: int = 200) -> Template:
    shown = {name: str(getattr(settings, name)) for name in SETTING_FIELDS}
    shown.update(values or {})
    return page(request, "privacy_settings.html", status_code=status_code,
                settings=settings, values=shown, errors=errors or {}, notice=notice,
                may_write=(values or {}).get("emergency_may_write",
                                             "1" if settings.emergency_may_write else "") == "1")


@get("/privacy/settings", opt=SETTINGS, sync_to_thread=True)
def settings_page(request: Request[Any, Any, Any]) -> Template:
    settings = read_access_settings(_app(request), web(request).services.access,
                                    actor(session_of(request).user), where=_where(request))
    return _settings_page(request, settings)


@post("/privacy/settings", opt=SETTINGS, sync_to_thread=True, status_code=200)
def settings_change(request: Request[Any, Any, Any]) -> Template:
    t = translator(request)
    app = _app(request)
    user = session_of(request).user
    form = form_of(request)
    values = {name: first(form, name).strip()[:10] for name in SETTING_FIELDS}
    values["emergency_may_write"] = "1" if first(form, "emergency_may_write") == "1" else ""
    current = EmergencyAccesses(app.db).settings(user.organisation)
    errors = {name: t(WHOLE_NUMBER) for name in SETTING_FIELDS
              if not values[name].isdigit()}
    if errors:
        log_access(request, "access-settings", None, "rejected")
        return _settings_page(request, current, errors=errors, values=values,
                              status_code=422)
    wanted = AccessSettings(emergency_may_write=values["emergency_may_write"] == "1",
                            **{name: int(values[name]) for name in SETTING_FIELDS})
    try:
        changed = change_access_settings(app, web(request).services.access, actor(user),
                                         wanted, where=_where(request))
    except EmergencyAccessRefused as e:
        field = e.field or "emergency_hours"
        return _settings_page(request, current, values=values, status_code=422,
                              errors={field: t(SETTINGS_WORDS.get(field, WHOLE_NUMBER))})
    return _settings_page(request, changed, notice=t("The settings were saved."))


def emergency_routes() -> list[Any]:
    return [emergency_form, emergency_open, emergency_end, emergency_ended, reviews_page,
            review, settings_page, settings_change]
