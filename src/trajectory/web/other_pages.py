"""The pages of the other roles: the aftercare worker's handovers, the quality page (the
core-element matrix as a table and a chart), the researcher's exports, and the admin's
erasure and access log.

An aftercare worker sees only what is handed over to her, and only the handover view;
a researcher sees only pseudonymised exports; an admin sees the access log and erases,
never care data. Exports and erasures need a fresh re-authentication.
"""

from __future__ import annotations

import importlib
import re
import secrets
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.response import File, Template

from trajectory.access_report import emergency_accesses_of, with_basis
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.vocabulary import AftercareContactKind
from trajectory.api.context import actor, client_of, parse_trajectory_id, request_id
from trajectory.api.reads import handover_for
from trajectory.api.security import check_visible
from trajectory.clock import amsterdam_date, end_of_day
from trajectory.facts import FACTS, Evidence
from trajectory.handover_pdf import handover_pdf, short_id
from trajectory.identity.users import names_of
from trajectory.organisation.elements import organisation_elements
from trajectory.organisation.store import OrganisationStore
from trajectory.projections.core_elements import (
    ELEMENT_STATUSES,
    TrajectoryElementsOut,
    matrix,
    matrix_as_known,
)
from trajectory.projections.handovers import handovers_for
from trajectory.projections.out_of_view import out_of_view_counts
from trajectory.protocol.evidence import ORGANISATION_LEVEL
from trajectory.protocol.follow_up import next_follow_up
from trajectory.visibility import holding_organisation
from trajectory.web.auth_pages import reauth_fresh, reauthenticate
from trajectory.web.core import (
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
from trajectory.web.dossier import Moment
from trajectory.web.forms import FORMS
from trajectory.web.girls import listed_girl, name_of
from trajectory.web.i18n import N_, Translator
from trajectory.web.out_of_view_page import quality_rows

AFTERCARE = {"web_access": "full", "web_roles": ("aftercare",)}
CARE_ROLES = {"web_access": "full", "web_roles": ("coordinator", "aftercare")}
QUALITY = {"web_access": "full", "web_roles": ("coordinator", "admin", "quality")}
RESEARCH = {"web_access": "full", "web_roles": ("researcher",)}
ADMIN = {"web_access": "full", "web_roles": ("admin",)}
EXPORT_DESTROYED = N_("This export was destroyed: a girl in it was erased.")


# -- aftercare ---------------------------------------------------------------------------------


OUT_OF_VIEW_SENTENCES: dict[str, str] = {
    # Why she is out of view, as a sentence (`protocol.out_of_view`'s reasons).
    "aftercare-contact-overdue": N_("No contact has reached her since %(since)s: the agreed"
                                    " contact is overdue. Contact her today."),
    "contact-attempts-failed": N_("Attempts to reach her have failed since %(since)s. Try"
                                  " another way, or the people around her."),
    "left-without-handover": N_("She left care on %(since)s without a warm handover."),
    "handover-not-accepted": N_("The handover was not accepted in time (overdue since"
                                " %(since)s)."),
}


@get("/handovers", opt=AFTERCARE, sync_to_thread=True)
def handovers_page(request: Request[Any, Any, Any]) -> Template:
    w = web(request)
    app = w.services.application
    if w.services.fresh_reads:
        w.services.projections.catch_up()
    user = session_of(request).user
    today = amsterdam_date(app.clock())
    out = handovers_for(app.db, user.user_id, today)
    girls = {i.id: listed_girl(app, user, i.id, i.meeting_on, today) for i in out.items}
    # One entry naming every girl the list shows (NEN 7513: also a list is a look).
    log_access(request, "search", None, shown=tuple(str(i.id) for i in out.items))
    return page(request, "handovers.html", out=out, girls=girls)


@get("/handovers/{trajectory_id:str}", opt=AFTERCARE, sync_to_thread=True)
def handover_page(request: Request[Any, Any, Any], trajectory_id: PathText) -> Template:
    """The aftercare worker's page of one girl, built around reaching her: who she is and
    how to reach her (from the handover meeting on), the package, the people around her,
    her own contacts and why she is out of view; a form to record a contact. Never her
    full care history."""
    done = request.query_params.get("done")
    t = translator(request)
    w = web(request)
    app = w.services.application
    user = session_of(request).user
    tid = parse_trajectory_id(trajectory_id)
    check_visible(w.services, user, tid)
    out = handover_for(app, w.services.users, user, tid)
    log_access(request, "read", str(tid))
    titles = {spec.slug: spec.title(t) for spec in FORMS}
    reasons = [
        t(OUT_OF_VIEW_SENTENCES[r.reason], since=t.date(r.since)) for r in out.out_of_view_reasons
    ]
    done_title = titles.get(done or "", "")
    traj = app.get(tid)
    follow_up = (
        next_follow_up(traj.state, app.protocol_of(traj))
        if out.state == "in_aftercare" else None
    )
    return page(
        request, "handover.html", h=out, tid=str(tid), done=done_title, titles=titles,
        reasons=reasons, channels=CHANNELS, follow_up=follow_up,
        today=amsterdam_date(app.clock()),
    )


CHANNELS = typing.get_args(AftercareContactKind)


@get("/trajectories/{trajectory_id:str}/handover.pdf", opt=CARE_ROLES, sync_to_thread=True)
def handover_pdf_page(request: Request[Any, Any, Any], trajectory_id: PathText) -> Response[bytes]:
    """The printable handover package, for her coordinator (from the girl's page) and the
    receiving worker (from the handover page); each print is access-logged."""
    w = web(request)
    app = w.services.application
    user = session_of(request).user
    tid = parse_trajectory_id(trajectory_id)
    check_visible(w.services, user, tid)
    out = handover_for(app, w.services.users, user, tid)
    pdf = handover_pdf(out, translator(request), printed_at=app.clock(),
                       printed_by=user.shown_name,
                       name_of=names_of(w.services.users))
    log_access(request, "print-handover", str(tid))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition":
                 f'attachment; filename="overdracht-{short_id(tid)}.pdf"'},
    )


# -- quality -----------------------------------------------------------------------------------
# Who sees which girl: a coordinator sees the per-girl matrix, each girl by her name (as
# her own caseload names her) and each "to do" as a link to the form that does it: a row
# for each girl she has a relationship with (`visibility.related_filter`, applied by
# `projections.core_elements.matrix`); the totals stay the organisation's, since a total
# names nobody and answers how the organisation applies each element. The quality officer
# and the administrator see no records (`visibility.NO_RECORDS`) and get the totals only,
# not numbered girls: "meisje 3" on one day is another girl on the next as girls come and
# go, so numbers would invite guessing who is who while giving her nothing to act on; the
# totals answer her question (how well the organisation applies each element).

STATUS_CSS = {
    "evidenced": "st-evidenced",
    "waived": "st-waived",
    "due": "st-due",
    "missing": "st-missing",
    "not_applicable": "st-na",
}
TO_DO = frozenset({"due", "missing"})

SHORT_ELEMENTS: dict[int, str] = {
    # A core element in a word or two (a column's head, a chart's label); the full name
    # (`t.element`) goes beside it for whoever needs it.
    1: N_("Knowledge"),
    2: N_("Signals"),
    3: N_("Follow-up steps"),
    4: N_("CoMensha"),
    5: N_("Safety"),
    6: N_("Medical"),
    7: N_("Analysis"),
    8: N_("Network"),
    9: N_("Climate"),
    10: N_("Phasing"),
    11: N_("Trauma"),
    12: N_("Education"),
    13: N_("Self-worth"),
    14: N_("Relationships"),
    15: N_("Aftercare"),
}


def _element_forms() -> dict[int, str]:
    """Per core element, the coordinator's form (with its preset kind, for an
    intervention) of the first fact that evidences it, in the order of the list of facts:
    where a "to do" in the matrix leads. Phasing is done by a phase's advance, not by a
    permission (the first fact of element 10): that one is named."""
    found: dict[int, str] = {10: "phase-transition"}
    for fact in FACTS:
        if fact.slug is None or "coordinator" not in fact.roles or fact.element is None:
            continue
        if isinstance(fact.element, Evidence):
            found.setdefault(fact.element.element, fact.slug)
            continue
        for kind, number in fact.element.elements.items():
            found.setdefault(number, f"{fact.slug}?kind={kind}")
    return found


ELEMENT_FORMS = _element_forms()


@dataclass(frozen=True)
class ChartBar:
    y: float
    label: str
    title: str
    parts: list[tuple[float, float, str, str]]
    """(x, width, css class, title) of each status."""


@dataclass(frozen=True)
class Cell:
    """One girl's element: its status, and where a "to do" is done (None: nothing to do,
    or no form does it)."""

    element: int
    status: str
    href: str | None


@dataclass(frozen=True)
class GirlRow:
    trajectory_id: UUID
    name: str | None
    """None: her file cannot be read (the row stays, so the counts add up)."""
    cells: list[Cell]

    @property
    def href(self) -> str:
        return f"/trajectories/{self.trajectory_id}"


def hers(element: int) -> bool:
    """Whether an element is the girl's own (not the organisation's: 1 and 9)."""
    return element not in ORGANISATION_LEVEL


def per_girl(rows: list[TrajectoryElementsOut], name_of: Callable[[UUID], str | None],
             *, today: bool) -> list[GirlRow]:
    """The coordinator's matrix: a row per girl, by name (alphabetical, as she looks a
    girl up), without the organisation's elements (they are the organisation's row). A
    to-do leads to its form only on today's figures: an earlier day's may be done since,
    and nothing is recorded on an earlier day."""
    out = []
    for row in rows:
        base = f"/trajectories/{row.id}"
        cells = [
            Cell(e.element, e.status,
                 (f"{base}/forms/{ELEMENT_FORMS[e.element]}" if e.element in ELEMENT_FORMS
                  else base) if today and e.status in TO_DO else None)
            for e in row.elements if hers(e.element)
        ]
        out.append(GirlRow(trajectory_id=row.id, name=name_of(row.id), cells=cells))
    return sorted(out, key=lambda g: (g.name is None, (g.name or "").casefold()))


def chart(t: Translator, totals: list[Any]) -> tuple[list[ChartBar], int]:
    """A stacked horizontal bar per core element: how many trajectories are in each status.
    Labelled by the element's short name (whole words; the full name is the bar's title)."""
    bars: list[ChartBar] = []
    left, width, row = 170.0, 620.0, 22
    for i, counts in enumerate(totals):
        total = sum(getattr(counts, s) for s in ELEMENT_STATUSES) or 1
        x = left
        parts = []
        for status in ELEMENT_STATUSES:
            n = getattr(counts, status)
            if not n:
                continue
            w = width * n / total
            parts.append((round(x, 1), round(w, 1), STATUS_CSS[status],
                          f"{t.value(status)}: {n}"))
            x += w
        bars.append(ChartBar(y=10 + i * row, label=t(SHORT_ELEMENTS[counts.element]),
                             title=f"{counts.element}. {t.element(counts.element)}",
                             parts=parts))
    return bars, 10 + len(totals) * row + 10


@get("/quality", opt=QUALITY, sync_to_thread=True)
def quality_page(request: Request[Any, Any, Any]) -> Template:
    t = translator(request)
    w = web(request)
    app = w.services.application
    if w.services.fresh_reads:
        w.services.projections.catch_up()
    user = session_of(request).user
    today = amsterdam_date(app.clock())
    # Its old `as_of` counted by the day things happened, and still does.
    moment = Moment.of(request.query_params, today, legacy_axis="happened")
    day = moment.day or today
    if moment.day is not None and moment.axis == "known":
        out = matrix_as_known(app.db, app, app.protocols, user.organisation, day,
                              end_of_day(day), seen_by=user)
    else:
        out = matrix(app.db, user.organisation, day, seen_by=user)
    stream = OrganisationStore(app.db).load(user.organisation)
    duties = organisation_elements(stream.state if stream is not None else None, day)
    girls = (per_girl(list(out.trajectories), lambda tid: name_of(app, tid),
                      today=day == today)
             if user.role == "coordinator" else [])
    # One entry naming every girl the page names (NEN 7513), before the page leaves.
    log_access(request, "search", None, shown=tuple(str(g.trajectory_id) for g in girls))
    totals = [c for c in out.totals if hers(c.element)]
    bars, height = chart(t, totals)
    lost = out_of_view_counts(app.db, user.organisation, today)
    return page(
        request,
        "quality.html",
        out_of_view=lost,
        out_of_view_rows=quality_rows(t, lost),
        out=out,
        totals=totals,
        as_of=day,
        moment=moment,
        today=today,
        bars=bars,
        chart_height=height,
        statuses=ELEMENT_STATUSES,
        status_css=STATUS_CSS,
        girls=girls,
        columns=[(n, t(SHORT_ELEMENTS[n]), t.element(n))
                 for n in sorted(SHORT_ELEMENTS) if hers(n)],
        organisation_elements=duties,
    )


# -- research ----------------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")

DISCLOSURE_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "organisation": (N_("Organisation"), (N_("its pseudonym"), N_("its region"),
                                          N_("withheld"))),
    "age_band": (N_("Age at intake"), (N_("in 2-year bands"),
                                       N_("in wider bands (<14, 14-17, 18+)"),
                                       N_("minor or adult"), N_("withheld"))),
    "intake_period": (N_("Intake period"), (N_("month"), N_("quarter"), N_("half year"),
                                            N_("year"), N_("withheld"))),
    "risk_profiles": (N_("Risk profiles"), (N_("all of them"), N_("the most severe only"),
                                            N_("withheld"))),
}
"""The export page's words for each quasi-identifier and each level of its hierarchy
(`trajectory.research.disclosure.hierarchies`, with regions: its richest ladders; a test
keeps the two in step). A column at its top is withheld (the last word): without regions
the organisation's level 1 is its top."""


FORMAT_NAMES = (("xes", "XES"), ("ocel", "OCEL 2.0"), ("sav", "SPSS"), ("dta", "Stata"),
                ("datapackage.json", "Data Package"))
"""The formats an export may be written in beside its tables (`parameters.formats`; the
Data Package is always written, by an export since it exists: it is in `files`), by the
names researchers know them by."""


def _exporter() -> Any | None:
    """The research export, where this build has it (else the page says so)."""
    try:
        module = importlib.import_module("trajectory.research.export")
    except ImportError:
        return None
    return getattr(module, "export_project", None)


def _user_exports(request: Request[Any, Any, Any]) -> Path:
    user = session_of(request).user
    return web(request).export_dir / re.sub(r"[^A-Za-z0-9_-]", "_", user.user_id)


def _exports(root: Path) -> list[tuple[str, Any]]:
    from trajectory.research.manifest import decode

    out = []
    if root.is_dir():
        for d in sorted(root.iterdir(), reverse=True):
            manifest = d / "manifest.json"
            if d.is_dir() and manifest.is_file():
                try:
                    out.append((d.name, decode(manifest.read_bytes())))
                except Exception:
                    continue
    return out


_KEPT = ("project", "format", "k", "sequences", "variables")
"""What the export form keeps after a wrong password or code (and the ticked files and
formats): never the password or code."""


def _kept(form: dict[str, list[str]]) -> dict[str, Any]:
    kept: dict[str, Any] = {name: first(form, name)[:2000] for name in _KEPT}
    kept["files"] = [v for v in form.get("files", []) if v]
    kept["also"] = [v for v in form.get("also", []) if v]
    return kept


def _research_page(request: Request[Any, Any, Any], *, error: str | None = None,
                   status_code: int = 200, k_error: str | None = None,
                   form: dict[str, Any] | None = None,
                   declaration_error: tuple[str, str] | None = None,
                   project_error: str | None = None,
                   reauth_error: str | None = None) -> Template:
    from trajectory.research.disclosure import MIN_K
    from trajectory.research.projects import FILES

    root = _user_exports(request)
    available = _exporter() is not None
    return page(
        request,
        "research.html",
        status_code=status_code,
        available=available,
        exports=_exports(root) if available else [],
        error=error,
        k_error=k_error,
        min_k=MIN_K,
        declarable_files=FILES,
        declaration_error=declaration_error,
        project_error=project_error,
        form=form or {},
        fresh=reauth_fresh(request),
        reauth_error=reauth_error,
    )


@get("/research", opt=RESEARCH, sync_to_thread=True)
def research_page(request: Request[Any, Any, Any]) -> Template:
    return _research_page(request)


@post("/research/exports", opt=RESEARCH, sync_to_thread=True, status_code=303)
def start_export(request: Request[Any, Any, Any]) -> Response[Any]:
    t = translator(request)
    form = form_of(request)
    export_project = _exporter()
    if export_project is None:
        return _research_page(request, error=t("Research export is not available on this"
                                               " server."), status_code=503)
    if not reauthenticate(request, form):
        return _research_page(request, reauth_error=t("Wrong password or code."),
                              status_code=401, form=_kept(form))
    project = first(form, "project").strip()
    fmt = first(form, "format") or "csv"
    k_raw = first(form, "k") or "5"
    unit = first(form, "sequences") or "week"
    also = [f for f in ("ocel", "xes", "sav", "dta") if f in form.get("also", [])]
    if (not _NAME.match(project) or fmt not in ("csv", "parquet") or not k_raw.isdigit()
            or unit not in ("week", "month")):
        return _research_page(request, error=t("This value does not fit."), status_code=422)
    from trajectory.research.disclosure import MIN_K

    if int(k_raw) < MIN_K:  # (the export refuses it too; said here, at the field)
        return _research_page(
            request, status_code=422, form={"project": project, "k": k_raw},
            k_error=t("The smallest group must be at least %(k)s girls: smaller groups"
                      " could be recognised.", k=MIN_K),
        )
    app = web(request).services.application
    stamp = app.clock().strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{secrets.token_hex(3)}-{project}"[:120]
    target = _user_exports(request) / name
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    user = session_of(request).user
    from trajectory.research import ExportError, ProjectError
    from trajectory.research.approvals import ProjectRefused
    from trajectory.research.approved_export import export_approved
    from trajectory.research.projects import DeclarationError
    from trajectory.web.project_pages import refusal_sentence

    files = [f for f in form.get("files", []) if f] or None
    variables = [v.strip() for v in first(form, "variables").replace("\n", ",").split(",")
                 if v.strip()] or None
    try:
        # (the approved project's rule first: the engine exports only its scope)
        export_approved(app, actor(user), project, target, fmt=fmt, k=int(k_raw),
                        client=client_of(request), files=files, variables=variables,
                        sequence_unit=unit, formats=also)
    except ProjectRefused as e:
        return _research_page(request, status_code=e.status, form={"project": project,
                                                                   "k": k_raw},
                              project_error=refusal_sentence(t, e))
    except DeclarationError as e:
        return _research_page(
            request, status_code=422, form={"project": project, "k": k_raw},
            declaration_error=(e.field, t("The project declared other data, or this is"
                                          " not a file or variable of the export: %(reason)s",
                                          reason=str(e))),
        )
    except (ExportError, ProjectError) as e:
        return _research_page(request, error=t("The export failed: %(reason)s", reason=str(e)),
                              status_code=422)
    return redirect(f"/research/exports/{name}", done="1")


def _export_dir(request: Request[Any, Any, Any], name: PathText) -> Path:
    from trajectory.research.kept import destroyed_notice

    if not _NAME.match(name):
        raise not_found()
    target = _user_exports(request) / name
    if not (target / "manifest.json").is_file():
        raise not_found()
    if destroyed_notice(target) is not None:  # a girl in it was erased
        raise WebError(410, EXPORT_DESTROYED)
    return target


@get("/research/exports/{name:str}", opt=RESEARCH, sync_to_thread=True)
def export_page(request: Request[Any, Any, Any], name: PathText) -> Template:
    done = request.query_params.get("done")
    from trajectory.research.manifest import decode

    target = _export_dir(request, name)
    manifest = decode((target / "manifest.json").read_bytes())
    return page(request, "export.html", name=name, m=manifest, done=bool(done),
                disclosure_words=DISCLOSURE_WORDS, formats_written=[
                    label for value, label in FORMAT_NAMES
                    if value in manifest.parameters.formats or value in manifest.files])


@get("/research/exports/{name:str}/files/{file:str}", opt=RESEARCH, sync_to_thread=True)
def export_file(request: Request[Any, Any, Any], name: PathText, file: PathText) -> File:
    from trajectory.research.manifest import decode

    target = _export_dir(request, name)
    manifest = decode((target / "manifest.json").read_bytes())
    if file != "manifest.json" and file not in manifest.files:
        raise not_found()
    path = target / file
    if not path.is_file():
        raise not_found()
    log_access(request, "export", None)
    return File(path=path, filename=file, content_disposition_type="attachment")


# -- admin ---------------------------------------------------------------------------------------


def _admin_page(request: Request[Any, Any, Any], **context: Any) -> Template:
    ctx: dict[str, Any] = {"error": None, "notice": None, "entries": None, "looked_up": "",
                           "status_code": 200, "proposal_error": None, "form": {},
                           "reauth_error": None, "proposal_reauth": None}
    ctx.update(context)
    status = ctx.pop("status_code")
    from trajectory.erasure_proposals import LAWFUL_GROUNDS, open_proposals

    user = session_of(request).user
    w = web(request)
    proposals = open_proposals(w.services.application, user.organisation)
    who = names_of(w.services.users)  # each person by her one display name
    names = {p.proposed_by: who(p.proposed_by) for p in proposals}
    return page(request, "admin.html", status_code=status, grounds=LAWFUL_GROUNDS,
                proposals=proposals, proposer_names=names, who=who,
                **ctx)


@get("/admin", opt=ADMIN, sync_to_thread=True)
def admin_page(request: Request[Any, Any, Any]) -> Template:
    trajectory = request.query_params.get("trajectory")
    if not trajectory:
        return _admin_page(request)
    w = web(request)
    user = session_of(request).user
    try:
        tid = UUID(trajectory.strip())
    except ValueError:
        return _admin_page(request, error=translator(request)("not_found"),
                           looked_up=trajectory[:64], status_code=404)
    if holding_organisation(w.services.application.db, tid) != user.organisation:
        return _admin_page(request, error=translator(request)("not_found"),
                           looked_up=str(tid), status_code=404)
    log_access(request, "audit-read", str(tid))
    rows = w.services.access.for_trajectory(str(tid))  # each with its basis (issue 18)
    entries = with_basis(rows, emergency_accesses_of(w.services.access, str(tid)))
    return _admin_page(request, entries=entries, looked_up=str(tid))


def _erasure_refusal(t: Translator, refusal: RuleRefused, short: str = "") -> str:
    """The erasure rule's refusal as a sentence at the form (the code's own, filled in)."""
    from trajectory.erasure_proposals import RetentionNotExpired

    if isinstance(refusal, RetentionNotExpired):
        return t.rule(refusal.code, date=t.date(refusal.expires_on))
    if refusal.code == "confirmation-mismatch":
        return t.rule(refusal.code, short=short)
    if t.has("rule", refusal.code):
        return t.rule(refusal.code)
    return t("This value does not fit.")


@post("/admin/erasure", opt=ADMIN, sync_to_thread=True)
def erasure(request: Request[Any, Any, Any]) -> Template:
    """The first admin proposes an erasure; nothing is erased until a second approves."""
    from trajectory.erasure_proposals import propose

    t = translator(request)
    w = web(request)
    app = w.services.application
    form = form_of(request)
    user = session_of(request).user
    kept = {name: first(form, name)[:2000] for name in
            ("trajectory_id", "reason", "legal_ground", "court_reference")}
    if not reauthenticate(request, form, for_this_act=True):
        return _admin_page(request, reauth_error=t("Wrong password or code."), form=kept,
                           status_code=401)
    try:
        tid = UUID(first(form, "trajectory_id").strip())
    except ValueError:
        return _admin_page(request, error=t("Not found."), form=kept, status_code=404)
    row = app.db.fetchone(
        "SELECT organisation FROM trajectory_index WHERE trajectory_id = ?", [str(tid)]
    )
    if row is None or row["organisation"] != user.organisation:
        return _admin_page(request, error=t("Not found."), form=kept, status_code=404)
    try:
        propose(app, tid, by=actor(user), reason=first(form, "reason"),
                legal_ground=first(form, "legal_ground"),
                court_reference=first(form, "court_reference")[:200] or None,
                client=client_of(request), request_id=request_id(request))
    except RuleRefused as e:
        return _admin_page(request, error=_erasure_refusal(t, e), form=kept, status_code=409)
    return _admin_page(request, notice=t("The erasure is proposed. Another administrator of"
                                         " your organisation must approve it."))


@post("/admin/erasures/{proposal_id:str}/confirmation", opt=ADMIN, sync_to_thread=True)
def approve_erasure(request: Request[Any, Any, Any], proposal_id: PathText) -> Template:
    """The second admin approves, typing her short id: her file is destroyed."""
    from trajectory.erasure_proposals import ProposalNotFound, approve, open_proposal

    t = translator(request)
    w = web(request)
    app = w.services.application
    form = form_of(request)
    user = session_of(request).user
    try:
        proposal = open_proposal(app, proposal_id, actor(user))
    except ProposalNotFound:
        return _admin_page(request, error=t("Not found."), status_code=404)
    if not reauthenticate(request, form, for_this_act=True):
        return _admin_page(request, proposal_reauth=(proposal.proposal_id,
                                                     t("Wrong password or code.")),
                           status_code=401)
    try:
        approve(app, proposal.proposal_id, by=actor(user),
                confirmation=first(form, "confirmation"), export_dir=w.export_dir,
                client=client_of(request), request_id=request_id(request))
    except RuleRefused as e:
        return _admin_page(request, proposal_error=(
            proposal.proposal_id, _erasure_refusal(t, e, proposal.short_id)), status_code=409)
    return _admin_page(request, notice=t("The file was erased."))


def other_routes() -> list[Any]:
    return [
        handovers_page, handover_page, handover_pdf_page, quality_page, research_page,
        start_export, export_page, export_file, admin_page, erasure, approve_erasure,
    ]
