"""The coordinator's pages: caseload (with a name search that is access-logged), intake,
a girl's trajectory page (timeline, permissions and contacts with their caps, attention
items, the full history with corrections beside what they correct, `as of` a day), and a
form for every fact.

Every care action goes through the one write path (trajectory.writing), as the API's do:
the same input rules, the access-log entry in the write's own transaction, and a hidden
key per form so that a form sent twice records once. Every read is logged before the page
leaves.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from trajectory.aggregates.corrections import correctable_positions
from trajectory.aggregates.errors import (
    AftercareEnded,
    RuleRefused,
    TrajectoryNotFound,
    VersionConflict,
)
from trajectory.aggregates.events.analysis import TreatmentPlanSet
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.closure import EntryCorrected, EntryMarkedInError
from trajectory.aggregates.events.phasing import PermissionsCapped
from trajectory.aggregates.trajectory import Trajectory
from trajectory.aggregates.vocabulary import Status
from trajectory.api.context import actor, client_of, parse_trajectory_id, request_id
from trajectory.api.reads import aftercare_workers
from trajectory.application import TrajectoryApplication
from trajectory.bij.municipalities import Municipalities
from trajectory.clock import amsterdam_date
from trajectory.crypto import TrajectoryErased
from trajectory.duplicates import PossibleDuplicateIntake
from trajectory.identity.teams import Teams
from trajectory.identity.users import UserStore, names_of
from trajectory.projections.caseload import caseload
from trajectory.views import event_out
from trajectory.visibility import Someone, related_filter, visible_row
from trajectory.web import forms as f
from trajectory.web.core import (
    CSRF_FIELD,
    FORBIDDEN,
    PathText,
    WebError,
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
from trajectory.web.emergency_pages import Outside, outside_relationships
from trajectory.web.entries import EntryWords, contact_labels
from trajectory.web.girls import listed_girl, name_of
from trajectory.web.i18n import Translator
from trajectory.web.refusals import Refusal, explain
from trajectory.write_errors import KEY_FIELD as KEY_REFUSED
from trajectory.write_errors import InputRefused
from trajectory.writing import Via, WritePath, check_key

COORD = {"web_access": "full", "web_roles": ("coordinator",)}
CARE = {"web_access": "full", "web_roles": ("coordinator", "aftercare")}


def _app(request: Request[Any, Any, Any]) -> TrajectoryApplication:
    return web(request).services.application


def _fresh(request: Request[Any, Any, Any]) -> None:
    svc = web(request).services
    if svc.fresh_reads:
        svc.projections.catch_up()


# -- caseload --------------------------------------------------------------------------------


def search_by_name(app: TrajectoryApplication, who: Someone, query: str, *,
                   whole_organisation: bool = False) -> list[UUID]:
    """The trajectories of her organisation she has a relationship with
    (`visibility.related_filter`) whose name contains `query` (any case): a girl she may
    not open is neither found nor logged as found. With `whole_organisation` every girl
    of it (the caseload's search: a girl outside her relationships is listed apart, by
    name only, to ask emergency access; her search is logged on that girl's file too).
    Names are encrypted, so each opening event is read and opened: fine for one
    organisation."""
    needle = query.strip().casefold()
    related, params = related_filter(who) if not whole_organisation else ("1 = 1", [])
    hits = []
    for row in app.db.fetchall(
        "SELECT trajectory_id FROM trajectory_index WHERE organisation = ?"
        f" AND {related} ORDER BY trajectory_id",
        [who.organisation, *params],
    ):
        tid = UUID(str(row["trajectory_id"]))
        name = name_of(app, tid)  # an erased or unreadable trajectory is no hit
        if name is not None and needle in name.casefold():
            hits.append(tid)
    return hits


STATUS_CHOICES = ("in_care", "aftercare", "closed")
ALL_STATUSES = "all"
"""The status choice that shows closed files too; without a choice the caseload shows the
girls in care and in aftercare (a closed file is not work of today)."""


@get("/caseload", opt=COORD, sync_to_thread=True)
def caseload_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The caseload with its filters (in the address: phase, status, overdue). A name is
    never searched from the address: it would stay in proxy logs and browser history, so
    an old link with `q` is sent on without it."""
    params = request.query_params
    if "q" in params:
        kept = {k: v for k, v in params.items() if k in ("phase", "status", "overdue") and v}
        return redirect("/caseload", **kept)
    return _caseload(request, "", params.get("phase"), params.get("status"),
                     params.get("overdue"))


@post("/caseload", opt=COORD, sync_to_thread=True, status_code=200)
def caseload_search(request: Request[Any, Any, Any]) -> Template:
    """The search by name: the name travels in the body of a form (with the session's
    CSRF token), never in an address."""
    form = form_of(request)
    return _caseload(request, first(form, "q"), first(form, "phase"), first(form, "status"),
                     first(form, "overdue"))


def days_ago(t: Translator, days: int) -> str:
    """How long ago, in words: "today", "1 day ago", "4 days ago"."""
    if days <= 0:
        return t("today")
    n = t.number(days)
    return t("%(days)s day ago", days=n) if days == 1 else t("%(days)s days ago", days=n)


def _caseload(
    request: Request[Any, Any, Any],
    q: str | None,
    raw_phase: str | None,
    status: str | None,
    overdue: str | None,
) -> Template:
    raw_phase = raw_phase or ""
    phase = int(raw_phase) if raw_phase.isdigit() else None
    app = _app(request)
    user = session_of(request).user
    _fresh(request)
    today = amsterdam_date(app.clock())
    query = (q or "").strip()[:100]
    hits: set[UUID] | None = None
    outside: list[Outside] = []
    if query:
        found = search_by_name(app, user, query, whole_organisation=True)
        # girls outside her relationships: listed apart, by name, to ask emergency access
        outside = outside_relationships(app, translator(request), user, found)
        hits = set(found) - {o.tid for o in outside}
        log_access(request, "search", None)
        for tid in found:  # she can ask who found her file, and by what
            log_access(request, "search", str(tid))
    chosen_status = cast(Status, status) if status in STATUS_CHOICES else None
    out = caseload(
        app.db,
        user.organisation,
        today,
        seen_by=user,
        phase=phase if phase and 1 <= phase <= 20 else None,
        status=chosen_status,
        overdue=True if overdue else None,
        limit=500,
        active=chosen_status is None and status != ALL_STATUSES,
        # a missing girl is on every list but a name search's
        keep_urgent=not query,
    )
    items = [i for i in out.items if hits is None or i.id in hits]
    # her name and age, read from her encrypted opening event (never a read model's)
    who = {i.id: listed_girl(app, user, i.id, None, today) for i in items}
    coordinators = _people(request, {i.coordinator for i in items})
    # Her team by name; where the organisation has teams, a girl without one is marked
    # so that a coordinator places her (until then every coordinator sees her).
    teams = Teams(app.db).names(user.organisation)
    if not query:  # one entry naming every girl whose name the page shows
        log_access(request, "search", None, shown=tuple(str(i.id) for i in items))
    phases = range(1, app.protocols.current.last_phase + 1)
    return page(
        request,
        "caseload.html",
        items=items,
        outside=outside,
        who=who,
        coordinators=coordinators,
        teams=teams,
        query=query,
        phase=phase,
        status=chosen_status or (ALL_STATUSES if status == ALL_STATUSES else None),
        statuses=STATUS_CHOICES,
        all_statuses=ALL_STATUSES,
        overdue=bool(overdue),
        phases=list(phases),
        organisation=user.organisation,
        today=today,
        days_ago=days_ago,
        form_for=f.SATISFIED_BY,
    )


def _people(request: Request[Any, Any, Any], user_ids: set[str]) -> dict[str, str]:
    """Each user's display name, as every page names her (`identity.users.names_of`)."""
    name = names_of(web(request).services.users)
    return {uid: name(uid) for uid in user_ids}


def _safe_name(app: TrajectoryApplication, tid: UUID) -> str:
    return name_of(app, tid) or str(tid)[:8]


# -- intake ----------------------------------------------------------------------------------


@get("/trajectories/new", opt=COORD, sync_to_thread=True)
def intake_form(request: Request[Any, Any, Any]) -> Template:
    t = translator(request)
    fields = f.fields_of(f.INTAKE, t, _intake_context(request))
    return _form_page(request, f.INTAKE, fields, trajectory=None)


@post("/trajectories/new", opt=COORD, sync_to_thread=True, status_code=303)
def intake(request: Request[Any, Any, Any]) -> Response[Any]:
    t = translator(request)
    form = form_of(request)
    # A form that was warned of a duplicate carries the reason field; read it then.
    warned = "duplicate_reason" in form
    fields = f.fields_of(f.INTAKE, t, _intake_context(request, duplicate_warned=warned))
    try:
        command = f.decode(f.INTAKE, fields, form, t)
    except f.FormInvalid as e:
        warning = _warning_again(request, t, form) if warned else None
        return _invalid(request, f.INTAKE, fields, form, e.errors, None, refusal=warning)
    from trajectory.api import schemas

    assert isinstance(command, schemas.OpenTrajectory)
    user = session_of(request).user
    try:
        written = _write_path(request).open(
            actor(user),
            command,
            idempotency_key=first(form, KEY_FIELD) or None,
            request_digest=form_digest(request, form),
            via=_via(request),
        )
    except InputRefused as refused:
        log_access(request, "write", None, "rejected")
        return _input_refused(request, f.INTAKE, fields, form, refused, None)
    except PossibleDuplicateIntake as duplicate:
        log_access(request, "write", None, "refused")
        fields = f.fields_of(f.INTAKE, t, _intake_context(request, duplicate_warned=True))
        return _refused(request, f.INTAKE, fields, form,
                        _duplicate_warning(request, t, duplicate), None)
    except RuleRefused as refusal:
        log_access(request, "write", None, "refused")
        return _rule_refused(request, f.INTAKE, fields, form, refusal, command, None)
    return redirect(f"/trajectories/{written.trajectory_id}", done="intake")


def _warning_again(
    request: Request[Any, Any, Any], t: Translator, form: dict[str, list[str]]
) -> Refusal | None:
    """The duplicate warning once more, while a warned form is sent back for a field
    (the reason left empty, say): she still reads why the reason is asked."""
    name = first(form, "identity.name").strip()
    born = _parse_day(first(form, "identity.date_of_birth"))
    if not name or born is None:
        return None
    user = session_of(request).user
    found = _write_path(request).possible_duplicates(actor(user), name, born)
    return _duplicate_warning(request, t, PossibleDuplicateIntake(found)) if found else None


def _duplicate_warning(
    request: Request[Any, Any, Any], t: Translator, duplicate: PossibleDuplicateIntake
) -> Refusal:
    """The warning before a possible duplicate intake: what was found, a link to each girl
    she may see (a coordinator of the organisation sees its girls in care; one handed over
    is not hers to open), and what to do to record the intake anyway."""
    app = _app(request)
    user = session_of(request).user
    links: list[tuple[str, str]] = []
    for tid in duplicate.matches:
        try:
            visible_row(app.db, actor(user), UUID(tid), today=amsterdam_date(app.clock()),
                        grace_days=app.settings.aftercare_grace_days, now=app.clock())
        except (TrajectoryNotFound, TrajectoryErased, AftercareEnded):
            # not hers to see: the warning stands without the link
            continue
        links.append((f"/trajectories/{tid}", t("Open her page: %(name)s",
                                                name=_safe_name(app, UUID(tid)))))
    return Refusal(
        code=duplicate.code,
        title=t("Possibly the same girl"),
        sentence=t("A girl with this name and date of birth is already in care in your"
                   " organisation. Check that this is not the same girl. To record the"
                   " intake anyway, give the reason below and save again."),
        links=tuple(links),
        detail=duplicate.message,
    )


# -- the write path, from a form -------------------------------------------------------------


def _write_path(request: Request[Any, Any, Any]) -> WritePath:
    svc = web(request).services
    return WritePath(svc.application, idempotency=svc.idempotency, access=svc.access)


def _via(request: Request[Any, Any, Any]) -> Via:
    return Via(client=client_of(request), request_id=request_id(request))


KEY_FIELD = "idempotency_key"
"""The hidden input that makes a form's second submit (a double click, a reload) record
nothing new: a fresh key each time a form is opened, kept while it is shown again."""
_NOT_DIGESTED = frozenset({CSRF_FIELD, KEY_FIELD})


def form_digest(request: Request[Any, Any, Any], form: Mapping[str, list[str]]) -> str:
    """What a form sent, as a digest: a second submit with the same key must match it."""
    sent = sorted((k, v) for k, v in form.items() if k not in _NOT_DIGESTED)
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(json.dumps(sent).encode())
    return digest.hexdigest()


def form_key(form: Mapping[str, list[str]] | None) -> str:
    """The form's key: the one it was sent with (shown again after a mistake), else new."""
    sent = (form or {}).get(KEY_FIELD) or [""]
    try:
        if sent[0] and check_key(sent[0]):
            return sent[0]
    except InputRefused:
        pass
    return secrets.token_urlsafe(18)


def _input_refused(
    request: Request[Any, Any, Any],
    spec: f.FormSpec,
    fields: list[f.Field],
    form: Mapping[str, list[str]],
    refused: InputRefused,
    traj: Trajectory | None,
    ctx: f.Context | None = None,
) -> Template:
    """The form again, with the refusal at its field, in the words the catalogue has for
    its code (English: the API's words; a key's refusal in words for a person, who never
    saw the key). A form whose key answered other values before gets a new key: what she
    saves now is new."""
    words = translator(request).rule(refused.code)
    if refused.field == KEY_REFUSED:
        form = {k: v for k, v in form.items() if k != KEY_FIELD}
    return _invalid(request, spec, fields, form, {refused.field: words}, traj, ctx)


# -- the trajectory page ---------------------------------------------------------------------


@dataclass
class HistoryRow:
    position: int
    kind: str
    title: str
    occurred_on: date
    recorded_at: datetime
    recorded_by: str
    recorded_text: str
    details: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    corrects: int | None = None
    in_error: bool = False
    correctable: bool = False


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _visible(request: Request[Any, Any, Any], raw_id: str) -> UUID:
    tid = parse_trajectory_id(raw_id)
    app = _app(request)
    visible_row(
        app.db, session_of(request).user, tid, today=amsterdam_date(app.clock()),
        grace_days=app.settings.aftercare_grace_days, now=app.clock(),
    )
    return tid


def history(
    t: Translator, users: UserStore, events: Iterable[TrajectoryEvent], traj: Trajectory
) -> list[HistoryRow]:
    """Every entry, newest first; a correction is shown beside what it corrects. People by
    their display name, contacts by their role, codes by their word (`web.entries`)."""
    events = list(events)
    who = names_of(users)
    teams = Teams(users.db).names(traj.state.organisation)
    words = EntryWords(t, person=who, contact=contact_labels(t, events),
                       team=lambda tid: teams.get(tid) or t("an unknown team"))
    rows: dict[int, HistoryRow] = {}
    correctable = correctable_positions(traj.state)
    for e in events:
        out = event_out(e)
        said = words.of(e)
        row = HistoryRow(
            position=out.position,
            kind=out.type,
            title=t.event(out.type),
            occurred_on=out.occurred_on,
            recorded_at=out.recorded_at,
            recorded_by=who(out.recorded_by),
            recorded_text=_moment(t, out.recorded_at),
            details=list(said.capped(e) if isinstance(e, PermissionsCapped)
                         else said.details(out.data)),
            correctable=out.position in correctable,
        )
        if isinstance(e, (EntryCorrected, EntryMarkedInError)):
            row.corrects = e.position
            target = rows.get(e.position)
            if target is not None:
                if isinstance(e, EntryCorrected):
                    text = e.correction
                    if e.corrected_occurred_on is not None:
                        text += f" ({t.field('corrected_occurred_on')}:"
                        text += f" {t.date(e.corrected_occurred_on)})"
                    target.notes.append(t("Corrected by no. %(position)s: %(text)s",
                                          position=out.position, text=text))
                else:
                    target.in_error = True
                    target.notes.append(t("In error according to no. %(position)s: %(text)s",
                                          position=out.position, text=e.reason))
        rows[out.position] = row
    return sorted(rows.values(), key=lambda r: r.position, reverse=True)


def _moment(t: Translator, moment: datetime) -> str:
    return t.moment(moment, seconds=False)


def _details(t: Translator, data: Mapping[str, Any], prefix: str = "",
             words: EntryWords | None = None) -> Iterable[tuple[str, str]]:
    """A fact's details as (label, words); `words` knows her contacts and the people
    (`history` passes them), without it a code is shown only where it has a word."""
    return (words or EntryWords(t)).details(data, prefix)


def _value(t: Translator, key: str, value: Any, words: EntryWords | None = None) -> str:
    return (words or EntryWords(t)).value(key, value)


# -- forms -----------------------------------------------------------------------------------


def _context(app: TrajectoryApplication, traj: Trajectory, request: Request[Any, Any, Any],
             slug: str = "") -> f.Context:
    preset = {k: v for k, v in request.query_params.items() if k in _PRESETS}
    workers: list[tuple[str, str, str]] = []
    if session_of(request).user.role == "coordinator":  # whom she may hand over to
        workers = [(w.id, w.name, w.organisation)
                   for w in aftercare_workers(web(request).services.users)]
    return f.Context(
        state=traj.state,
        protocol=app.protocol_of(traj),
        today=amsterdam_date(app.clock()),
        preset=preset,
        aftercare_workers=workers,
        plan_goals=_plan_goals(app, traj.id) if slug == "care-outcome" else (),
        municipalities=_towns(request) if slug == "youth-care-items" else {},
        **_offered(request),
    )


def _plan_goals(app: TrajectoryApplication, tid: UUID) -> tuple[str, ...]:
    """The goals of her latest treatment plan (read from her stream: the state keeps no
    free text), for the outcome of care to ask about each."""
    goals: tuple[str, ...] = ()
    for event in app.stream(tid):
        if isinstance(event, TreatmentPlanSet):
            goals = event.goals
    return goals


def _intake_context(request: Request[Any, Any, Any], duplicate_warned: bool = False
                    ) -> f.Context:
    return f.Context(duplicate_warned=duplicate_warned, municipalities=_towns(request),
                     **_offered(request))


def _towns(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The municipalities of the installation's list, for the forms that ask where she
    lives (the intake, the items for CBS): read only for those."""
    return Municipalities(_app(request).db).all()


def _offered(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the forms offer a coordinator to choose from, by name: the organisation's active
    teams, her own teams, its active coordinators."""
    user = session_of(request).user
    if user.role != "coordinator":
        return {}
    teams = Teams(_app(request).db)
    return {
        "teams": [(team.team_id, team.name) for team in teams.of_organisation(user.organisation)],
        "own_teams": teams.teams_of(user.user_id),
        "coordinators": [(u.user_id, u.shown_name) for u in sorted(
            web(request).services.users.all(), key=lambda u: u.shown_name.casefold())
            if u.organisation == user.organisation and u.role == "coordinator"
            and not u.revoked],
    }


_PRESETS = {"kind", "contact_id", "position", "to_phase", "level", "action", "moment"}


def _spec(slug: str, role: str) -> f.FormSpec:
    spec = f.BY_SLUG.get(slug)
    if spec is None:
        raise not_found()
    if role not in spec.roles:
        raise WebError(403, FORBIDDEN)
    return spec


@get("/trajectories/{trajectory_id:str}/forms/{slug:str}", opt=CARE, sync_to_thread=True)
def fact_form(
    request: Request[Any, Any, Any], trajectory_id: PathText, slug: PathText
) -> Template:
    t = translator(request)
    app = _app(request)
    user = session_of(request).user
    spec = _spec(slug, user.role)
    tid = _visible(request, trajectory_id)
    traj = app.get(tid)
    ctx = _context(app, traj, request, spec.slug)
    fields = f.fields_of(spec, t, ctx)
    log_access(request, "read", str(tid))
    return _form_page(request, spec, fields, trajectory=traj, ctx=ctx)


@post("/trajectories/{trajectory_id:str}/forms/{slug:str}", opt=CARE, sync_to_thread=True,
      status_code=303)
def record_fact(
    request: Request[Any, Any, Any], trajectory_id: PathText, slug: PathText
) -> Response[Any]:
    t = translator(request)
    app = _app(request)
    user = session_of(request).user
    spec = _spec(slug, user.role)
    tid = _visible(request, trajectory_id)
    form = form_of(request)
    traj = app.get(tid)
    ctx = _context(app, traj, request, spec.slug)
    fields = f.fields_of(spec, t, ctx)
    try:
        command = f.decode(spec, fields, form, t)
    except f.FormInvalid as e:
        log_access(request, "write", str(tid), "rejected")
        return _invalid(request, spec, fields, form, e.errors, traj, ctx)
    expected = first(form, "expected_version")
    try:
        _write_path(request).record(
            actor(user),
            tid,
            command,  # type: ignore[arg-type]
            expected_version=int(expected) if expected.isdigit() else None,
            idempotency_key=first(form, KEY_FIELD) or None,
            request_digest=form_digest(request, form),
            via=_via(request),
        )
    except InputRefused as input_refused:
        log_access(request, "write", str(tid), "rejected")
        return _input_refused(request, spec, fields, form, input_refused, traj, ctx)
    except RuleRefused as refusal:
        log_access(request, "write", str(tid), "refused")
        return _rule_refused(request, spec, fields, form, refusal, command, traj, ctx)
    except VersionConflict:
        log_access(request, "write", str(tid), "refused")
        fresh = app.get(tid)
        ctx = _context(app, fresh, request, spec.slug)
        fields = f.fields_of(spec, t, ctx)
        f.apply_values(fields, form)
        return _form_page(request, spec, fields, trajectory=fresh, ctx=ctx,
                          problems=[t("Someone else changed the file meanwhile. Look at the"
                                      " new state and try again.")], status_code=412, form=form)
    if user.role == "aftercare":
        return redirect(f"/handovers/{tid}", done=spec.slug)
    return redirect(f"/trajectories/{tid}", done=spec.slug)


def _rule_refused(
    request: Request[Any, Any, Any],
    spec: f.FormSpec,
    fields: list[f.Field],
    form: Mapping[str, list[str]],
    refusal: RuleRefused,
    command: object,
    traj: Trajectory | None,
    ctx: f.Context | None = None,
) -> Template:
    """The protocol's refusal in words: at each field of the form it names, else (and for
    the criteria it names besides) in the box on top."""
    t = translator(request)
    state = traj.state if traj is not None else None
    refused = explain(t, refusal, command, state, ctx.protocol if ctx else None)
    at = _at_fields(refusal, refused, fields, command, form)
    if not at:
        return _refused(request, spec, fields, form, refused, traj, ctx)
    rest = tuple(u for u in refused.unmet if not any(p == u or p.endswith(f".{u}") for p in at))
    return _invalid(request, spec, fields, form, at, traj, ctx, command=command,
                    refusal=replace(refused, unmet=rest) if rest else None, status_code=409)


def _at_fields(
    refusal: RuleRefused, refused: Refusal, fields: list[f.Field], command: object,
    form: Mapping[str, list[str]],
) -> dict[str, str]:
    """The refusal's sentence at each field of the form it names (empty: none it has)."""
    names = {fl.name for fl in fields}
    at = {}
    for path in refusal.fields:
        name = f.form_name(path, names, command, form)
        if name is not None:
            at[name] = refused.sentence
    return at


def _invalid(
    request: Request[Any, Any, Any],
    spec: f.FormSpec,
    fields: list[f.Field],
    form: Mapping[str, list[str]],
    errors: Mapping[str, str],
    traj: Trajectory | None,
    ctx: f.Context | None = None,
    *,
    command: object = None,
    refusal: Refusal | None = None,
    status_code: int = 422,
) -> Template:
    """The form again with every error at its field; on top, "check the marked fields"
    with a link to each, and only what no field took."""
    t = translator(request)
    f.apply_values(fields, form)
    marked, waiver_errors, loose = f.attach_errors(fields, errors, command, form)
    return _form_page(request, spec, fields, trajectory=traj, ctx=ctx, refusal=refusal,
                      problems=[t("Please check the marked fields."), *loose],
                      status_code=status_code, form=form, marked=marked,
                      waiver_errors=waiver_errors)


def _refused(
    request: Request[Any, Any, Any],
    spec: f.FormSpec,
    fields: list[f.Field],
    form: Mapping[str, list[str]],
    refusal: Refusal,
    traj: Trajectory | None,
    ctx: f.Context | None = None,
) -> Template:
    f.apply_values(fields, form)
    return _form_page(request, spec, fields, trajectory=traj, ctx=ctx, refusal=refusal,
                      status_code=409, form=form)


def _form_page(
    request: Request[Any, Any, Any],
    spec: f.FormSpec,
    fields: list[f.Field],
    *,
    trajectory: Trajectory | None,
    ctx: f.Context | None = None,
    problems: list[str] | None = None,
    refusal: Refusal | None = None,
    status_code: int = 200,
    form: Mapping[str, list[str]] | None = None,
    marked: list[tuple[str, str]] | None = None,
    waiver_errors: Mapping[str, str] | None = None,
) -> Template:
    t = translator(request)
    waivers: list[f.WaiverRow] = []
    to_phase = 0
    if spec.slug == "phase-transition" and ctx is not None and ctx.state is not None:
        chosen = next((fl.value for fl in fields if fl.name == "to_phase"), None)
        to_phase = int(chosen) if isinstance(chosen, str) and chosen.isdigit() else (
            ctx.state.phase + 1
        )
        waivers = f.waiver_rows(t, ctx, to_phase, form)
    elif spec.slug in f.ENDING_CARE and ctx is not None:
        waivers = f.ending_waiver_rows(t, ctx, spec.slug, form)
    tid = str(trajectory.id) if trajectory is not None else None
    if spec is f.INTAKE:
        action = "/trajectories/new"
        back = "/caseload"
    else:
        # What the form was opened for (`?kind=internet`) stays with it when it is sent,
        # so that a form shown again after a mistake offers the same choices.
        opened_for = {k: v for k, v in request.query_params.items() if k in _PRESETS}
        action = f"/trajectories/{tid}/forms/{spec.slug}" + (
            f"?{urlencode(opened_for)}" if opened_for else "")
        back = (f"/handovers/{tid}" if session_of(request).user.role == "aftercare"
                else f"/trajectories/{tid}")
    name = ""
    if trajectory is not None and session_of(request).user.role == "coordinator":
        name = _safe_name(_app(request), trajectory.id)
    return page(
        request,
        "form.html",
        status_code=status_code,
        spec=spec,
        title=spec.title(t),
        fields=fields,
        action=action,
        back=back,
        version=trajectory.version if trajectory is not None else "",
        problems=problems or [],
        refusal=refusal,
        waivers=waivers,
        tid=tid,
        name=name,
        form_for=f.SATISFIED_BY,
        to_phase=to_phase,
        idempotency_key=form_key(form),
        marked=[(anchor, _waiver_label(t, waivers, anchor) or label)
                for anchor, label in marked or []],
        waiver_errors=waiver_errors or {},
    )


def _waiver_label(t: Translator, waivers: list[f.WaiverRow], anchor: str) -> str | None:
    """The link text to a waiver's justification, named by its criterion."""
    for row in waivers:
        if f.waiver_id(f"justification.{row.criterion}") == anchor:
            return t("Justification for %(criterion)s", criterion=row.label)
    return None


def care_routes() -> list[Any]:
    return [caseload_page, caseload_search, intake_form, intake, fact_form, record_fact]


__all__ = ["care_routes", "search_by_name"]
