"""The organisation's pages: the runaway register, the signals by month and the team's
dashboard, for the organisation's coordinators and its quality officer.

Who sees what (`visibility`): a coordinator sees the girls of her organisation she has a
relationship with (`visibility.related_filter`: her teams', those she is responsible for,
those without a team), so the registers list those girls only, each by name (read from
her encrypted opening event, never put in an address) with a link to her file, and the
page's access-log entry names every girl shown; the runaway register's figures count the
runaways it lists. The charts per month are the organisation's counts, as the dashboard's
are (`projections.team`: a count names nobody). The
quality officer is one of the roles that never see a record or a name (`NO_RECORDS`), but
her work is her organisation's figures: she sees the same pages as counts and charts
only. The researcher and the inspector have no organisation of their own to look after:
the researcher reads pseudonymised exports, the inspector every organisation's figures
side by side with small counts suppressed (`/inspection`, which already counts the
signals and runaways); a register of one organisation at a time would add nothing for
them but small numbers, so they (and admins, who read no care data, and aftercare
workers, who see only the girls handed over to them) may not open these pages.

The charts are drawn on the server (`web.charts`) and their numbers are on the page as
tables too.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.response import Template

from trajectory.clock import amsterdam_date
from trajectory.identity.users import User
from trajectory.projections.core_elements import ELEMENTS, evidenced_counts, signals
from trajectory.projections.runaways import RunawayOut, runaway_register, runaways_per_month
from trajectory.projections.team import (
    DAYS_IN_PHASE_BANDS,
    SIGNAL_KINDS,
    months_to,
    recent_signals,
    team,
)
from trajectory.web.charts import (
    Series,
    Table,
    bar_chart,
    small_multiples,
    stacked_bars,
    table_by_series,
    table_of,
)
from trajectory.web.core import log_access, page, session_of, translator, web
from trajectory.web.girls import name_of
from trajectory.web.i18n import Translator
from trajectory.web.other_pages import SHORT_ELEMENTS

ORGANISATION_PAGES = {"web_access": "full", "web_roles": ("coordinator", "quality")}


def _fresh(request: Request[Any, Any, Any]) -> Any:
    w = web(request)
    if w.services.fresh_reads:
        w.services.projections.catch_up()
    return w.services.application


EARLIEST = date(1900, 1, 1)
"""No fact happened before this day (the write path refuses earlier dates): a period
asked from earlier starts here, so that a year before it is still a day."""


def _day(value: str | None, default: date, today: date) -> date:
    """A day of the period asked for, between `EARLIEST` and today; not a day: `default`."""
    try:
        return max(min(date.fromisoformat((value or "")[:10]), today), EARLIEST)
    except ValueError:
        return default


def _month_label(t: Translator, month: str) -> str:
    return t.month_short(date(int(month[:4]), int(month[5:7]), 1))


def girls_of(user: User) -> User | None:
    """Whose girls a register lists: a coordinator's related girls; the quality officer
    (who sees no name) the organisation's, as counts."""
    return user if user.role == "coordinator" else None


def named(request: Request[Any, Any, Any], ids: list[str]) -> dict[str, str | None]:
    """Each girl's name, for a coordinator (whose organisation's girls these are; for
    anyone else no name), and the page's access-log entry, naming every girl whose name
    is shown (NEN 7513), before the page leaves."""
    if session_of(request).user.role != "coordinator":
        log_access(request, "search", None)
        return {}
    app = web(request).services.application
    names = {tid: name_of(app, UUID(tid)) for tid in dict.fromkeys(ids)}
    log_access(request, "search", None, shown=tuple(names))
    return names


@dataclass(frozen=True)
class Figure:
    """A chart with its numbers as a table."""

    svg: str
    table: Table


# -- runaways ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunawayLine:
    runaway: RunawayOut
    name: str | None


def runaway_figures(runaways: list[RunawayOut]) -> dict[str, int | None]:
    """The period's runaways counted: in all, still open, returned, found, with the
    police informed, and the median days away of those that ended."""
    ended = [r.days for r in runaways if r.ended_on is not None]
    return {
        "all": len(runaways),
        "open": sum(1 for r in runaways if r.ended_on is None),
        "returned": sum(1 for r in runaways if r.ending == "returned"),
        "found": sum(1 for r in runaways if r.ending == "found"),
        "police": sum(1 for r in runaways if r.police_informed),
        "median_days": round(statistics.median(ended)) if ended else None,
    }


def runaways_chart(t: Translator, db: Any, organisation: str, last: date) -> Figure:
    months = months_to(last)
    counts = runaways_per_month(db, organisation, months)
    labels = [_month_label(t, m) for m in months]
    values = [counts[m] for m in months]
    title = t("Runaways per month")
    return Figure(
        svg=bar_chart("chart-runaways", title,
                      t("How many girls ran away in each of the last twelve months."),
                      labels, values),
        table=table_of(title, t("Month"), labels, [Series(t("Runaways"), tuple(values))]),
    )


@get("/register/runaways", opt=ORGANISATION_PAGES, sync_to_thread=True)
def runaways_page(request: Request[Any, Any, Any]) -> Template:
    """Every runaway of the organisation in the period (open ones first, then the newest),
    for a coordinator by name; for the quality officer the counts."""
    app = _fresh(request)
    t = translator(request)
    user = session_of(request).user
    today = amsterdam_date(app.clock())
    last = _day(request.query_params.get("to"), today, today)
    first = _day(request.query_params.get("from"), max(last - timedelta(days=365), EARLIEST),
                 today)
    if first > last:
        first, last = last, first
    runaways = runaway_register(app.db, user.organisation, first, last, today,
                                seen_by=girls_of(user))
    names = named(request, [r.trajectory_id for r in runaways])
    lines = [RunawayLine(r, names[r.trajectory_id]) for r in runaways if names]
    return page(
        request,
        "register_runaways.html",
        organisation=user.organisation,
        first=first,
        last=last,
        lines=lines,
        figures=runaway_figures(runaways),
        chart=runaways_chart(t, app.db, user.organisation, last),
    )


# -- signals ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalLine:
    trajectory_id: str
    kind: str
    month: str
    name: str | None


@get("/register/signals", opt=ORGANISATION_PAGES, sync_to_thread=True)
def signals_page(request: Request[Any, Any, Any]) -> Template:
    """The signals of the last twelve months by kind and month; for a coordinator also
    the recent ones, each with the girl's name and a link to her file."""
    app = _fresh(request)
    t = translator(request)
    user = session_of(request).user
    today = amsterdam_date(app.clock())
    months = months_to(today)
    out = signals(app.db, user.organisation, months[0], months[-1])
    labels = [_month_label(t, m.month) for m in out.months]
    fields = {"loverboy": "loverboy", "sexual_abuse": "sexual_abuse",
              "boundary_crossing": "boundary_crossing", "runaway": "runaway_signals"}
    series = [
        Series(t.value(kind), tuple(int(getattr(m, fields[kind])) for m in out.months))
        for kind in SIGNAL_KINDS
    ]
    title = t("Signals per month")
    chart = Figure(
        svg=stacked_bars("chart-signals", title,
                         t("Signals recorded in each of the last twelve months, by kind."),
                         labels, series),
        table=table_of(title, t("Month"), labels, series),
    )
    recent = recent_signals(app.db, user.organisation, months[0], seen_by=girls_of(user))
    names = named(request, [s.trajectory_id for s in recent])
    lines = [SignalLine(s.trajectory_id, s.kind, s.month, names[s.trajectory_id])
             for s in recent if names]
    return page(
        request,
        "register_signals.html",
        organisation=user.organisation,
        chart=chart,
        total=sum(sum(s.values) for s in series),
        lines=lines,
        month_label=lambda m: _month_label(t, m),
    )


# -- dashboard -------------------------------------------------------------------------------------


def band_names(t: Translator) -> list[str]:
    names = []
    for low, high in DAYS_IN_PHASE_BANDS:
        if high is None:
            names.append(t("%(low)s days or more", low=t.number(low)))
        else:
            names.append(t("%(low)s to %(high)s days", low=t.number(low), high=t.number(high)))
    return names


def elements_chart(t: Translator, db: Any, organisation: str, today: date) -> Figure:
    """Per core element, how many girls had it evidenced at the end of each of the last
    twelve months (by the evidence rules of the matrix, `protocol.evidence`)."""
    months = months_to(today)
    ends = []
    for m in months:
        year, month = int(m[:4]), int(m[5:7])
        ends.append(min(date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1), today))
    counts = evidenced_counts(db, organisation, ends)
    evidenced = {e: [counts[end][e] for end in ends] for e in ELEMENTS}
    labels = [_month_label(t, m) for m in months]
    # The panels by the element's short name; the table beside them by its full name.
    panels = [Series(f"{e}. {t(SHORT_ELEMENTS[e])}", tuple(evidenced[e])) for e in ELEMENTS]
    rows = [Series(f"{e}. {t.element(e)}", tuple(evidenced[e])) for e in ELEMENTS]
    title = t("Core elements evidenced per month")
    return Figure(
        svg=small_multiples(
            "chart-elements", title,
            t("For each core element, how many girls had it evidenced at the end of each of"
              " the last twelve months; the number beside each element is this month's."),
            labels, panels, columns=3),
        table=table_by_series(title, t("Core element"), labels, rows),
    )


@get("/dashboard", opt=ORGANISATION_PAGES, sync_to_thread=True)
def dashboard_page(request: Request[Any, Any, Any]) -> Template:
    """The team's figures as charts: girls per phase and how long in it, overdue items,
    core elements evidenced and runaways per month. Counts only: no girl is named, so
    they stay the whole organisation's for a coordinator too, teams or not. Her
    relationships decide whose file she opens and whose name a list shows her; a count
    opens nothing and names nobody, and the organisation's counts are what the
    dashboard is for (her own girls she finds on her caseload and her week)."""
    app = _fresh(request)
    t = translator(request)
    user = session_of(request).user
    today = amsterdam_date(app.clock())
    out = team(app.db, user.organisation, today)
    phase_labels = [
        t("Phase %(phase)s", phase=p.phase) if p.phase is not None else t("Aftercare")
        for p in out.phases
    ]
    bands = [
        Series(name, tuple(p.by_days[i] for p in out.phases))
        for i, name in enumerate(band_names(t))
    ]
    phases_title = t("Girls per phase, by days in the phase")
    phases = Figure(
        svg=stacked_bars("chart-phases", phases_title,
                         t("How many girls are in each phase today, and how long they have"
                           " been in it."), phase_labels, bands),
        table=table_of(phases_title, t("Phase"), phase_labels, bands),
    )
    codes = list(out.overdue)
    overdue_labels = [t.criterion(c) for c in codes]
    overdue_series = [Series(t("Overdue"), tuple(out.overdue[c] for c in codes))]
    overdue_title = t("Overdue items by kind")
    overdue = Figure(
        svg=stacked_bars("chart-overdue", overdue_title,
                         t("How many attention items are overdue today, by kind."),
                         overdue_labels, overdue_series),
        table=table_of(overdue_title, t("Item"), overdue_labels, overdue_series),
    )
    log_access(request, "search", None)
    return page(
        request,
        "dashboard.html",
        organisation=user.organisation,
        today=today,
        team=out,
        phases=phases,
        overdue=overdue,
        elements=elements_chart(t, app.db, user.organisation, today),
        runaways=runaways_chart(t, app.db, user.organisation, today),
    )


def register_routes() -> list[Any]:
    return [runaways_page, signals_page, dashboard_page]
