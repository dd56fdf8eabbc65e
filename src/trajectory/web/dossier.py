"""The girl's page as a dossier: a first screen (who she is, where she stands, what is due
and the next actions), then sections on their own addresses under one tab bar (timeline,
permissions and network, treatment, school, safety, handover and aftercare, the history,
and the menu to record a fact), and a print view with every section on its own page.

Every page of the dossier can be seen on an earlier day along one of two time axes, each
named differently and explained on the page:
- "as it happened on" (`axis=happened`): the facts that happened by that day (their day
  as last corrected), whenever they were typed in: her situation on that day as we know
  it now;
- "as it was known on" (`axis=known`): what had been recorded by the end of that day (the
  time the entry was typed in), as an audit sees it. The old `as_of` address means this.
Without a day the dossier opens on today. The entry's occurred day and its recorded time
are both stored with every event; nothing here reads the clock but `app.clock()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, get
from litestar.response import Template

from trajectory.aggregates.corrections import Corrections
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.trajectory import Trajectory
from trajectory.application import TrajectoryApplication
from trajectory.bij.care import care_record
from trajectory.bij.municipalities import Municipalities
from trajectory.bij.report import missing_for_delivery
from trajectory.clock import AMSTERDAM, amsterdam_date, end_of_day
from trajectory.emergency import EmergencyAccesses
from trajectory.exchange.keys import Partners
from trajectory.facts import EXCHANGE_FACTS, FACTS
from trajectory.identity.teams import Teams
from trajectory.identity.users import UserStore, names_of
from trajectory.protocol.follow_up import next_follow_up
from trajectory.protocol.rules import criteria_for, unmet_criteria
from trajectory.views import opening_event, summary
from trajectory.web import forms as f
from trajectory.web import timeline
from trajectory.web.bij_pages import problem_words
from trajectory.web.care_pages import (
    COORD,
    HistoryRow,
    _parse_day,
    _visible,
    history,
)
from trajectory.web.core import (
    PREFIX,
    PathText,
    log_access,
    not_found,
    page,
    session_of,
    translator,
    web,
)
from trajectory.web.i18n import N_, Translator

Axis = Literal["happened", "known"]

PAGE_SIZE = 25
"""History entries a page: a screen or two, newest first."""
SECTION_LATEST = 10
"""A section lists its newest entries; the history, filtered by their kind, has them all."""


@dataclass(frozen=True)
class Section:
    slug: str
    """The address under /trajectories/{id}/ ("" for the first screen)."""
    title: str
    """English msgid, translated in the page."""
    macro: str
    """The macro of `_dossier.html` that draws it."""


SECTIONS = (
    Section("", N_("Overview"), "overview"),
    Section("timeline", N_("Timeline"), "timeline"),
    Section("permissions-and-network", N_("Permissions and network"), "network"),
    Section("treatment", N_("Treatment"), "treatment"),
    Section("school", N_("Education and leisure"), "school"),
    Section("safety", N_("Safety"), "safety"),
    Section("handover-and-aftercare", N_("Handover and aftercare"), "handover"),
    Section("history", N_("History"), "history"),
    Section("record", N_("Record a fact"), "record"),
)
BY_SLUG = {s.slug: s for s in SECTIONS}
PRINTED = tuple(s for s in SECTIONS if s.slug not in ("history", "record"))[1:]
"""The sections of the print view after the first screen (the history comes last)."""

SECTION_GROUPS: dict[str, tuple[str, ...]] = {
    "permissions-and-network": ("network", "phasing"),
    "treatment": ("treatment", "analysis"),
    "school": ("education",),
    "safety": ("safety", "runaway", "chain"),
    "handover-and-aftercare": ("handover", "aftercare", "outcomes"),
}
"""Which kinds of fact (the form groups) a section lists, and offers forms for."""

KINDS = ("intake", *f.GROUPS)
"""The history's filter: the kinds of fact, as the forms are grouped."""

EVENT_KIND: dict[str, str] = {"TrajectoryOpened": "intake"}
for _fact in FACTS:
    if _fact.form is not None:
        for _event in (_fact.event, *_fact.also):
            EVENT_KIND.setdefault(_event.__name__, _fact.form.group)


for _event in EXCHANGE_FACTS.values():  # a bundle sent: with the handover
    EVENT_KIND.setdefault(_event.__name__, "handover")


def kind_of(event_type: str) -> str:
    """The kind of fact an entry is (a group of event types); an entry that no form
    records (a cap set by a regression) counts with phasing, where it comes from."""
    return EVENT_KIND.get(event_type, "phasing")


def kind_title(t: Translator, kind: str) -> str:
    return t("Intake") if kind == "intake" else f.group_title(t, kind)


# -- the day a page shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """The day the dossier is seen on, along one axis; `day` None: today."""

    axis: Axis
    day: date | None

    @classmethod
    def of(cls, params: Mapping[str, str], today: date, legacy_axis: Axis = "known") -> Moment:
        """The moment an address asks for. An old address says `as_of`: on the girl's
        page that was what was known by then; the quality page passes its own meaning."""
        legacy = params.get("as_of")
        raw_axis = params.get("axis")
        axis: Axis = (raw_axis if raw_axis in ("happened", "known")
                      else legacy_axis if legacy else "happened")  # type: ignore[assignment]
        day = _parse_day(params.get("day") or legacy)
        if day is not None and day >= today:
            day = None
        return cls(axis, day)

    def query(self) -> dict[str, str]:
        return {"axis": self.axis, "day": self.day.isoformat()} if self.day else {}

    def suffix(self) -> str:
        query = self.query()
        return "?" + urlencode(query) if query else ""

    def select(self, stream: list[TrajectoryEvent]) -> list[TrajectoryEvent]:
        """The entries seen on this moment, in recording order."""
        if self.day is None:
            return stream
        if self.axis == "known":
            moment = end_of_day(self.day)
            return [e for e in stream if e.timestamp <= moment]
        corrections = Corrections.of(stream)
        day = self.day
        kept = {e.originator_version for e in stream
                if e.corrects() is None and corrections.occurred_on(e) <= day}
        # A correction is knowledge about an entry, not a happening of its own: it goes
        # with the entry it corrects.
        return [e for e in stream if e.originator_version in kept
                or ((c := e.corrects()) is not None and c.position in kept)]


def fold(events: list[TrajectoryEvent]) -> Trajectory:
    """Her trajectory from a selection of her entries. A selection by the day things
    happened leaves gaps in the positions, which the library's own fold refuses; each
    event's `apply` only assigns, so the state is the same fold over the chosen entries."""
    first, *rest = events
    traj = first.mutate(None)
    assert isinstance(traj, Trajectory)
    for e in rest:
        e.apply(traj)
    return traj


# -- what every page of the dossier shows ---------------------------------------------------


@dataclass
class Dossier:
    tid: UUID
    moment: Moment
    today: date
    events: list[TrajectoryEvent]
    traj: Trajectory


def _load(request: Request[Any, Any, Any], trajectory_id: str) -> Dossier | Template:
    """Her file as seen on the page's moment, or the page that says there was none yet."""
    t = translator(request)
    app: TrajectoryApplication = web(request).services.application
    tid = _visible(request, trajectory_id)
    now = amsterdam_date(app.clock())
    moment = Moment.of(request.query_params, now)
    stream = list(app.stream(tid))
    events = moment.select(stream)
    if not events or events[0].originator_version != 1:
        log_access(request, "read", str(tid))
        assert moment.day is not None
        message = (t("On %(date)s this file had not been recorded yet.", date=t.date(moment.day))
                   if moment.axis == "known"
                   else t("On %(date)s she was not in care yet.", date=t.date(moment.day)))
        return page(request, "error.html", status_code=404, status=404, message=message)
    traj = app.get(tid) if moment.day is None else fold(events)
    return Dossier(tid, moment, moment.day or now, events, traj)


def _reads_only(request: Request[Any, Any, Any], tid: UUID) -> bool:
    """She sees this file by an emergency access that does not let her record."""
    user = session_of(request).user
    if user.role != "coordinator":
        return False
    app = web(request).services.application
    access = EmergencyAccesses(app.db).in_force(user.user_id, str(tid), app.clock())
    return access is not None and not access.may_write


OUTCOME_PROBLEMS = frozenset({"outcome-missing", "outcome-unknown-code",
                              "type_informant-unknown-code"})
"""What the delivery lacks that the outcome of care records; the rest is recorded with the
items for CBS."""


def _cbs_missing(t: Translator, app: TrajectoryApplication, d: Dossier
                 ) -> tuple[list[str], list[str]]:
    """What would leave her out of the CBS delivery (`bij.report.missing_for_delivery`), in
    words, and the forms that record it (each once)."""
    record = care_record(d.tid, d.events)
    problems = missing_for_delivery(record, d.today, Municipalities(app.db))
    forms = dict.fromkeys("care-outcome" if p in OUTCOME_PROBLEMS else "youth-care-items"
                          for p in problems)
    return [problem_words(t, p) for p in problems], list(forms)


def render_section(request: Request[Any, Any, Any], trajectory_id: str, slug: str,
                   **extra: Any) -> Template:
    """A section of her file, with `extra` context (a refusal of the exchange's)."""
    return _render(request, trajectory_id, slug, **extra)


def _render(request: Request[Any, Any, Any], trajectory_id: str, slug: str,
            **extra: Any) -> Template:
    loaded = _load(request, trajectory_id)
    if isinstance(loaded, Template):
        return loaded
    d = loaded
    t = translator(request)
    app: TrajectoryApplication = web(request).services.application
    protocol = app.protocol_of(d.traj)
    opened = opening_event(d.events)
    past = d.moment.day is not None
    out = summary(d.traj, opened, protocol, d.today,
                  end_of_day(d.today) if past and d.moment.axis == "known" else None)
    s = d.traj.state
    base = f"/trajectories/{d.tid}"
    reads_only = _reads_only(request, d.tid)
    context: dict[str, Any] = {
        "s": out,
        "state": s,
        "protocol": protocol,
        "tid": str(d.tid),
        "base": base,
        "moment": d.moment,
        "past": past,
        # Whether the page offers to record: not on an earlier day, not on paper, and not
        # to a coordinator who opened the file by emergency access to read only.
        "records": not past and slug != "print" and not reads_only,
        "today": d.today,
        "section": slug,
        "sections": SECTIONS,
        "printed": PRINTED,
        "macro": BY_SLUG[slug].macro if slug in BY_SLUG else "",
        "tab_links": [(sec, base + ("/" + sec.slug if sec.slug else "") + d.moment.suffix())
                      for sec in SECTIONS if not (reads_only and sec.slug == "record")],
        "titles": {spec.slug: spec.title(t) for spec in f.FORMS},
        "form_for": f.SATISFIED_BY,
        "done": _done_title(t, request.query_params.get("done")),
        # The exchange with other installations (`web.exchange_pages`): the partners a
        # bundle may go to, and where she came from when she came with one.
        "exchange_partners": [],
        "received_from": opened.received_from,
        "exchange_error": "",
    }
    if slug == "handover-and-aftercare" and not past:
        context["exchange_partners"] = sorted(Partners(app.db).all())
    context.update(extra)
    def rows_of(chosen: list[TrajectoryEvent]) -> list[HistoryRow]:
        return entries_of(t, web(request).services.users, d, chosen)

    def entry_href(position: int) -> str:
        """Where an entry a correction points at is read: on this page when it is here
        (the print view holds all), else on the page of the whole history that holds it."""
        if slug == "print":
            return f"#entry-{position}"
        newer = sum(1 for e in d.events if e.originator_version > position)
        query = {**d.moment.query(), **({"page": str(newer // PAGE_SIZE + 1)}
                                         if newer >= PAGE_SIZE else {})}
        return (f"{PREFIX}{base}/history" + ("?" + urlencode(query) if query else "")
                + f"#entry-{position}")

    context["entry_href"] = entry_href

    context["follow_up"] = next_follow_up(s, protocol)
    context["news"] = None
    if slug == "" and not past:
        context["news"] = _news(request, d, rows_of)
    if slug in ("", "print"):
        context.update(_overview(t, d, protocol))
        context.update(_responsible(web(request).services.users, d.traj))
        context["after_closure"] = [spec for spec in f.FORMS if spec.group == "outcomes"]
        context["cbs_missing"], context["cbs_forms"] = (
            _cbs_missing(t, app, d) if context["records"] and slug == "" else ([], []))
    if slug in ("timeline", "print"):
        context["tl"] = timeline.build(t, d.events, d.today)
    if slug in SECTION_GROUPS or slug == "print":
        context["section_rows"] = {
            sec: rows_of([e for e in reversed(d.events)
                          if kind_of(type(e).__name__) in groups][:SECTION_LATEST])
            for sec, groups in SECTION_GROUPS.items()
        }
        context["section_kinds"] = {
            sec: [(base + "/history?" + urlencode({**d.moment.query(), "kind": g}),
                   kind_title(t, g)) for g in groups]
            for sec, groups in SECTION_GROUPS.items()
        }
        context["section_forms"] = {
            sec: [spec for spec in f.FORMS if spec.group in groups
                  and "coordinator" in spec.roles]
            for sec, groups in SECTION_GROUPS.items()
        }
    if slug == "history":
        context.update(_history_page(t, request.query_params, d.events, rows_of, base,
                                     d.moment))
    if slug == "print":
        context["rows"] = history(t, web(request).services.users, d.events, d.traj)
    if slug == "record":
        context["groups"] = _form_groups(t)
        context["after_closure"] = [spec for spec in f.FORMS if spec.group == "outcomes"]
    log_access(request, "read", str(d.tid))
    return page(request, "dossier.html", **context)


def _done_title(t: Translator, done: str | None) -> str:
    if not done:
        return ""
    spec = f.BY_SLUG.get(done) or (f.INTAKE if done == "intake" else None)
    return spec.title(t) if spec else ""


# -- the first screen --------------------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    code: str
    slug: str | None


def _overview(t: Translator, d: Dossier, protocol: Any) -> dict[str, Any]:
    """Where she stands and what comes next: the phase button only when the move can be
    made; else what is missing, each with its form, or that she is away."""
    s = d.traj.state
    next_phase = s.phase + 1 if s.phase < protocol.last_phase else None
    missing: list[Missing] = []
    criteria: list[tuple[str, bool]] = []
    if next_phase is not None and s.status == "in_care":
        unmet = set(unmet_criteria(s, protocol, next_phase, d.today))
        criteria = [(c, c not in unmet) for c in criteria_for(protocol, next_phase)]
        missing = [Missing(c, f.SATISFIED_BY.get(c)) for c, met in criteria if not met]
    return {
        "next_phase": next_phase if s.status == "in_care" else None,
        "criteria": criteria,
        "missing": missing,
    }


def _responsible(users: UserStore, traj: Trajectory) -> dict[str, Any]:
    """Who works with her, by name: her team (None: not placed with one) and her
    responsible coordinator."""
    s = traj.state
    team = Teams(users.db).names(s.organisation).get(s.team) if s.team else None
    return {"team_name": team, "coordinator_name": names_of(users)(s.coordinator)}


@dataclass(frozen=True)
class News:
    """What was recorded in her file since the user's previous visit (her last read of it
    before today), newest first: a few, and how many in all."""

    since: datetime
    rows: list[HistoryRow]
    count: int


NEWS_SHOWN = 5


def _news(
    request: Request[Any, Any, Any],
    d: Dossier,
    rows_of: Callable[[list[TrajectoryEvent]], list[HistoryRow]],
) -> News | None:
    start = datetime.combine(d.today, time(), tzinfo=AMSTERDAM).astimezone(UTC)
    user = session_of(request).user
    last = web(request).services.access.last_read(str(d.tid), user.user_id, start.isoformat())
    if last is None:  # her first visit: everything is new, nothing to single out
        return None
    since = datetime.fromisoformat(last)
    new = [e for e in d.events if e.timestamp > since]
    return News(since, rows_of(new[::-1][:NEWS_SHOWN]), len(new))


# -- the history --------------------------------------------------------------------------------


def entries_of(
    t: Translator, users: UserStore, d: Dossier, chosen: list[TrajectoryEvent]
) -> list[HistoryRow]:
    """The history's rows of the chosen entries only, newest first, each with the notes of
    the corrections that correct it: a page of a long history reads no more than it shows."""
    wanted = {e.originator_version for e in chosen}
    feed = [e for e in d.events if e.originator_version in wanted
            or ((c := e.corrects()) is not None and c.position in wanted)]
    return [r for r in history(t, users, feed, d.traj) if r.position in wanted]


def _history_page(
    t: Translator,
    params: Mapping[str, str],
    events: list[TrajectoryEvent],
    rows_of: Callable[[list[TrajectoryEvent]], list[HistoryRow]],
    base: str,
    moment: Moment,
) -> dict[str, Any]:
    """The history filtered by kind of fact and by the days it happened, newest first, a
    page at a time; the filters stay in the address, so a filtered page can be shared."""
    kind = params.get("kind") or ""
    kind = kind if kind in KINDS else ""
    start, end = _parse_day(params.get("from")), _parse_day(params.get("to"))
    chosen = [
        e for e in reversed(events)
        if (not kind or kind_of(type(e).__name__) == kind)
        and (start is None or e.occurred_on >= start)
        and (end is None or e.occurred_on <= end)
    ]
    pages = max((len(chosen) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    raw = params.get("page") or "1"
    number = min(max(int(raw) if raw.isdigit() else 1, 1), pages)
    kept = {**moment.query(), **{k: v for k, v in (
        ("kind", kind), ("from", start.isoformat() if start else ""),
        ("to", end.isoformat() if end else "")) if v}}

    def link(n: int) -> str:
        query = urlencode({**kept, "page": str(n)} if n > 1 else kept)
        return base + "/history" + ("?" + query if query else "")

    return {
        "rows": rows_of(chosen[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]),
        "found": len(chosen),
        "kinds": [(k, kind_title(t, k)) for k in KINDS],
        "kind": kind,
        "start": start,
        "end": end,
        "page_number": number,
        "pages": pages,
        "previous": link(number - 1) if number > 1 else "",
        "next": link(number + 1) if number < pages else "",
    }


def _form_groups(t: Translator) -> list[tuple[str, list[f.FormSpec]]]:
    groups: dict[str, list[f.FormSpec]] = {}
    for spec in f.FORMS:
        if "coordinator" in spec.roles:
            groups.setdefault(spec.group, []).append(spec)
    return [(f.group_title(t, g), specs) for g, specs in groups.items()]


# -- the routes ----------------------------------------------------------------------------------


@get("/trajectories/{trajectory_id:str}", opt=COORD, sync_to_thread=True)
def overview_page(request: Request[Any, Any, Any], trajectory_id: PathText) -> Template:
    """The first screen; it opens on today."""
    return _render(request, trajectory_id, "")


@get("/trajectories/{trajectory_id:str}/print", opt=COORD, sync_to_thread=True)
def print_page(request: Request[Any, Any, Any], trajectory_id: PathText) -> Template:
    """Every section one after another, each on its own sheet when printed."""
    return _render(request, trajectory_id, "print")


@get("/trajectories/{trajectory_id:str}/{section:str}", opt=COORD, sync_to_thread=True)
def section_page(
    request: Request[Any, Any, Any], trajectory_id: PathText, section: PathText
) -> Template:
    if section not in BY_SLUG or not section:
        raise not_found()
    return _render(request, trajectory_id, section)


def dossier_routes() -> list[Any]:
    return [overview_page, print_page, section_page]


__all__ = ["SECTIONS", "Moment", "dossier_routes", "fold", "kind_of"]
