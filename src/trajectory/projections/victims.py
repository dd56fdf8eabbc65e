"""National figures: girls registered with CoMensha, and girls taken into care, per year, in
the shape of the national rapporteur's table 2.1 (the seed: Dutch and foreign victims,
each with "of which minors", and the total, in N and %), with the breakdowns the action
plan asks for: victim status, risk profile, and (girls in care) the CoMensha decision.

Two tables, because they count different things and the old one said "registered" of
girls taken into care:
- `registered`: a girl counts in the year of her first report sent to CoMensha that
  counts (a report marked in error does not); "minor" is her age on the day it was sent;
  "acknowledged": CoMensha's acknowledgement of it is recorded. This is what the
  rapporteur counts: registrations (meldingen) with CoMensha.
- `in_care`: a girl counts in the year of her intake; "minor" is her age at intake.
A girl taken into care and never reported counts in `in_care` only: the difference
between the two tables is the under-reporting the action plan speaks of.

Per girl: her nationality (asked at intake: Dutch, foreign, or unknown for intakes made
before it was asked), her victim status as it stood, her risk profiles at intake.
No identity: not the date of birth (only "minor" on the day that counts), no names, no
free text (CoMensha's reference stays in the encrypted event).

Small cells: every count from 1 to 4 is suppressed (None, flagged), and where the cells of
a breakdown add up to a shown total (nationality and victim status to the total; the
minors of each nationality to all minors; the CoMensha decision, with "undecided", to the
total), the next smallest cell too, so that no suppressed count can be recovered by
subtraction. Percentages (of the row's parent: the total, or, for "of which minors", the
nationality's row) are withheld where the parent is.

Differencing: two answers taken before and after one record must not tell that girl's
attributes. So
- only closed periods are published: a year once January of the next year is over (its
  late entries made), from 1 February;
- a published year is frozen: it counts only what was recorded by the end of that
  January (the recording day, by the application's clock: the event's `timestamp`). An
  intake or a report dated in a closed year but recorded later, a later change of victim
  status, a later CoMensha decision or a later "in error" mark do not move its counts;
- every published count is rounded to a multiple of 5 after suppression (percentages are
  computed from the rounded counts);
- only researchers, admins and inspectors may read them (the route's roles).

The tables keep each fact with its recording day (statuses, decisions, reports and "in
error" marks as rows of their own), and the query reads them as they stood on the year's
freezing day. A corrected day of a report (not an "in error" mark) does not move it to
another year: the day it was sent is the day it was recorded as sent.

`publishable` is the suppression, written once: the installation's table and the national
table combined from several installations' published figures (`trajectory.statistics`)
both go through it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.chain import (
    ComenshaRegistrationDecided,
    ComenshaReportAcknowledged,
    ComenshaReportSent,
)
from trajectory.aggregates.events.closure import EntryMarkedInError
from trajectory.aggregates.events.intake import TrajectoryOpened, VictimStatusChanged
from trajectory.aggregates.vocabulary import (
    RISK_PROFILES,
    ComenshaDecision,
    Nationality,
    VictimStatus,
)
from trajectory.clock import amsterdam_date
from trajectory.persistence.database import Database, Transaction
from trajectory.projections.framework import (
    Change,
    Projection,
    Writes,
    insert_statement,
    row_values,
    upsert_statement,
)
from trajectory.protocol.rules import age_on

SMALL_CELL = 5
"""Counts below this (and above zero) are not published."""

ROUNDING_BASE = 5
"""Published counts are rounded to a multiple of this, so that one girl more or less
rarely changes a figure, and never says which cell she is in."""

VICTIM_STATUSES: tuple[VictimStatus, ...] = get_args(VictimStatus)
COMENSHA_DECISIONS: tuple[ComenshaDecision, ...] = get_args(ComenshaDecision)
NATIONALITIES: tuple[Nationality, ...] = get_args(Nationality)
UNDECIDED = "undecided"

TableName = Literal["registered", "in_care"]
TABLES: tuple[TableName, ...] = ("registered", "in_care")


def frozen_on(year: int) -> date:
    """The last recording day that counts for `year`: the end of the next January."""
    return date(year + 1, 1, 31)


def published_through(today: date) -> int:
    """The last year whose figures are frozen (published) on `today`."""
    return today.year - 1 if today > frozen_on(today.year - 1) else today.year - 2


# -- the read model's rows ----------------------------------------------------------------


class IntakeRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    intake_year: int
    recorded_on: date
    minor_at_intake: bool
    nationality: Nationality
    risk_profiles: str  # the codes, space-separated


class StatusRow(msgspec.Struct, frozen=True, kw_only=True):
    """Her victim status from the fact at `position` on (the intake's, then each change)."""

    trajectory_id: str
    position: int
    victim_status: VictimStatus
    recorded_on: date


class DecisionRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    position: int
    decision: ComenshaDecision
    recorded_on: date


class ReportRow(msgspec.Struct, frozen=True, kw_only=True):
    """A report sent to CoMensha (`acknowledged` false) or CoMensha's acknowledgement of
    one (true): its year, and whether she was a minor on its day."""

    trajectory_id: str
    position: int
    acknowledged: bool
    year: int
    minor: bool
    recorded_on: date


class InErrorRow(msgspec.Struct, frozen=True, kw_only=True):
    """The entry at `position` (a decision or a report, when it is one) no longer counts
    from `recorded_on` on."""

    trajectory_id: str
    position: int
    recorded_on: date


_PREFIX = "national_figures_v2"
_INTAKES, _STATUSES, _DECISIONS, _REPORTS, _IN_ERROR = (
    f"{_PREFIX}_intakes", f"{_PREFIX}_statuses", f"{_PREFIX}_decisions",
    f"{_PREFIX}_reports", f"{_PREFIX}_in_error",
)
_DDL = [
    # The read models before nationality and the CoMensha reports were counted (rebuilt
    # under a new name: a new name starts from the beginning of the log by itself).
    "DROP TABLE IF EXISTS victim_comensha_decisions",
    "DROP TABLE IF EXISTS victims",
    *(f"DROP TABLE IF EXISTS national_figures_{t}"
      for t in ("intakes", "statuses", "decisions", "in_error")),
    f"""CREATE TABLE IF NOT EXISTS {_INTAKES} (
        trajectory_id TEXT PRIMARY KEY,
        intake_year INTEGER NOT NULL,
        recorded_on TEXT NOT NULL,
        minor_at_intake INTEGER NOT NULL,
        nationality TEXT NOT NULL,
        risk_profiles TEXT NOT NULL
    )""",
    f"CREATE INDEX IF NOT EXISTS {_INTAKES}_year ON {_INTAKES} (intake_year)",
    *(
        f"""CREATE TABLE IF NOT EXISTS {table} (
        trajectory_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        {columns}
        recorded_on TEXT NOT NULL,
        PRIMARY KEY (trajectory_id, position)
    )"""
        for table, columns in (
            (_STATUSES, "victim_status TEXT NOT NULL,"),
            (_DECISIONS, "decision TEXT NOT NULL,"),
            (_REPORTS, "acknowledged INTEGER NOT NULL, year INTEGER NOT NULL,"
                       " minor INTEGER NOT NULL,"),
            (_IN_ERROR, ""),
        )
    ),
    f"CREATE INDEX IF NOT EXISTS {_REPORTS}_year ON {_REPORTS} (year)",
]
_INSERT_INTAKE = upsert_statement(_INTAKES, IntakeRow, ("trajectory_id",))
_INSERT_STATUS = insert_statement(_STATUSES, StatusRow, ("trajectory_id", "position"))
_INSERT_DECISION = insert_statement(_DECISIONS, DecisionRow, ("trajectory_id", "position"))
_INSERT_REPORT = insert_statement(_REPORTS, ReportRow, ("trajectory_id", "position"))
_INSERT_IN_ERROR = insert_statement(_IN_ERROR, InErrorRow, ("trajectory_id", "position"))


_STATUS_EVENTS = (TrajectoryOpened, VictimStatusChanged)
_REPORT_EVENTS = (ComenshaReportSent, ComenshaReportAcknowledged)
_WANTED = (*_STATUS_EVENTS, ComenshaRegistrationDecided, *_REPORT_EVENTS, EntryMarkedInError)


class VictimsProjection(Projection):
    name = "national_figures_v2"
    tables = (_INTAKES, _STATUSES, _DECISIONS, _REPORTS, _IN_ERROR)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._writes = Writes()

    def ddl(self) -> list[str]:
        return list(_DDL)

    def wants(self, event_class: type[TrajectoryEvent]) -> bool:
        return issubclass(event_class, _WANTED)

    def apply(self, change: Change) -> None:
        event, s, tid, at = change.event, change.state, change.trajectory_id, change.version
        recorded_on = amsterdam_date(event.timestamp)
        if isinstance(event, TrajectoryOpened):
            intake = IntakeRow(
                trajectory_id=tid,
                intake_year=s.intake_date.year,
                recorded_on=recorded_on,
                minor_at_intake=age_on(s.date_of_birth, s.intake_date) < 18,
                nationality=event.nationality,
                risk_profiles=" ".join(sorted(s.risk_profiles)),
            )
            self._writes.upsert(_INSERT_INTAKE, tid, row_values(intake))
        if isinstance(event, _STATUS_EVENTS):
            status = StatusRow(
                trajectory_id=tid, position=at, victim_status=s.victim_status,
                recorded_on=recorded_on,
            )
            self._writes.insert(_INSERT_STATUS, tid, at, row_values(status))
        elif isinstance(event, ComenshaRegistrationDecided):
            decision = DecisionRow(
                trajectory_id=tid, position=at, decision=event.decision, recorded_on=recorded_on
            )
            self._writes.insert(_INSERT_DECISION, tid, at, row_values(decision))
        elif isinstance(event, _REPORT_EVENTS):
            report = ReportRow(
                trajectory_id=tid, position=at,
                acknowledged=isinstance(event, ComenshaReportAcknowledged),
                year=event.occurred_on.year,
                minor=age_on(s.date_of_birth, event.occurred_on) < 18,
                recorded_on=recorded_on,
            )
            self._writes.insert(_INSERT_REPORT, tid, at, row_values(report))
        elif (correction := event.corrects()) is not None and correction.in_error:
            mark = InErrorRow(trajectory_id=tid, position=correction.position,
                              recorded_on=recorded_on)
            self._writes.insert(_INSERT_IN_ERROR, tid, at, row_values(mark))

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        self._writes.run(tx, erased)

    def discard(self) -> None:
        self._writes.clear()


# -- the table's shape ----------------------------------------------------------------------

Group = Literal[
    "total", "age", "nationality", "nationality_age", "victim_status", "risk_profile",
    "comensha_acknowledged", "comensha_decision",
]
Cell = tuple[Group, str]


def _minors(nationality: str) -> str:
    return f"{nationality}_minors"


def _nationality_key(nationality: str) -> str:
    return "unknown_nationality" if nationality == "unknown" else nationality


@dataclass(frozen=True)
class Line:
    """One row of a table: its cell, and the row its percentage is a share of (None: it
    is the base, 100%)."""

    cell: Cell
    parent: str | None


def layout(table: TableName) -> tuple[Line, ...]:
    """The rows of a table, in the rapporteur's order: the total and its minors, then each
    nationality and its minors, then the breakdowns."""
    lines: list[Line] = [Line(("total", "total"), None), Line(("age", "minors"), "total")]
    for nationality in NATIONALITIES:
        key = _nationality_key(nationality)
        lines.append(Line(("nationality", key), "total"))
        lines.append(Line(("nationality_age", _minors(key)), key))
    lines += [Line(("victim_status", s), "total") for s in VICTIM_STATUSES]
    lines += [Line(("risk_profile", p), "total") for p in RISK_PROFILES]
    if table == "registered":
        lines.append(Line(("comensha_acknowledged", "acknowledged"), "total"))
    else:
        lines += [Line(("comensha_decision", d), "total")
                  for d in (*COMENSHA_DECISIONS, UNDECIDED)]
    return tuple(lines)


ADDS_UP_TO: Mapping[Group, str] = {
    "nationality": "total",
    "nationality_age": "minors",
    "victim_status": "total",
    "comensha_decision": "total",
}
"""The breakdowns whose cells add up to a row of the same table (by key): one suppressed
cell among them could be worked out by subtraction."""


# -- the answer -----------------------------------------------------------------------------


class CellOut(msgspec.Struct, frozen=True, kw_only=True):
    """A count and its share of the row's parent; both None when suppressed."""

    n: int | None
    percent: int | None
    suppressed: bool


class FigureRowOut(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the table: a category, with a cell per year. `parent`: the row (by
    key) its percentage is a share of; none for the total."""

    key: str
    group: Group
    cells: list[CellOut]
    parent: str | None = None


class TableOut(msgspec.Struct, frozen=True, kw_only=True):
    """One table: what it counts (`counts`), categories as rows, years as columns."""

    counts: str
    rows: list[FigureRowOut]


_COUNTS: dict[TableName, str] = {
    "registered": "girls registered with CoMensha: counted in the year of their first report"
    " sent to CoMensha; minors on the day it was sent",
    "in_care": "girls taken into care: counted in the year of their intake; minors at intake",
}


class FiguresOut(msgspec.Struct, frozen=True, kw_only=True):
    """Girls registered with CoMensha, and girls taken into care, per year, in the
    rapporteur's shape: categories as rows, years as columns, N and % of the row's parent."""

    from_year: int
    to_year: int
    years: list[int]
    small_cell_threshold: int
    registered: TableOut
    in_care: TableOut
    published_through: int = 0
    """The last closed year: later years are withheld (every cell suppressed)."""
    rounding_base: int = ROUNDING_BASE


# -- the query ------------------------------------------------------------------------------


class VictimsView:
    def __init__(self, db: Database):
        self.db = db

    def figures(self, from_year: int, to_year: int, *, today: date) -> FiguresOut:
        """The figures of the closed years between `from_year` and `to_year` (the year of
        `today` and later are withheld)."""
        if to_year < from_year:
            raise ValueError("to_year comes before from_year")
        years = list(range(from_year, to_year + 1))
        counts = self.counts(from_year, to_year)
        closed_through = published_through(today)
        tables: dict[TableName, TableOut] = {}
        for table in TABLES:
            lines = layout(table)
            cells = {
                y: publishable(counts[table][y], lines) if y <= closed_through
                else _withheld(lines)
                for y in years
            }
            tables[table] = table_out(table, lines, [cells[y] for y in years])
        return FiguresOut(
            from_year=from_year,
            to_year=to_year,
            years=years,
            small_cell_threshold=SMALL_CELL,
            published_through=closed_through,
            registered=tables["registered"],
            in_care=tables["in_care"],
        )

    def counts(
        self, from_year: int, to_year: int
    ) -> dict[TableName, dict[int, Counter[Cell]]]:
        """The true counts per table and year, each year as it stood on its freezing day
        (unsuppressed: for `publishable` only, never an answer of its own)."""
        # The girls of either table: taken in during the years, or reported in them.
        girls_sql = (
            f"SELECT trajectory_id FROM {_INTAKES} WHERE intake_year BETWEEN ? AND ?"
            f" UNION SELECT trajectory_id FROM {_REPORTS} WHERE year BETWEEN ? AND ?"
        )
        span = [from_year, to_year, from_year, to_year]
        with self.db.transaction(commit=False) as tx:
            intakes = tx.fetchall(
                f"SELECT * FROM {_INTAKES} WHERE trajectory_id IN ({girls_sql})", span
            )
            facts = {
                table: tx.fetchall(
                    f"SELECT * FROM {table} WHERE trajectory_id IN ({girls_sql})", span
                )
                for table in (_STATUSES, _DECISIONS, _REPORTS, _IN_ERROR)
            }
        girls = {str(r["trajectory_id"]): r for r in intakes}
        years = range(from_year, to_year + 1)
        out: dict[TableName, dict[int, Counter[Cell]]] = {
            t: {y: Counter() for y in years} for t in TABLES
        }
        for year in years:
            as_of = _AsOf(frozen_on(year), facts)
            for tid, girl in girls.items():
                if _day(girl["recorded_on"]) > as_of.day:
                    continue  # her intake was recorded after the year was frozen
                if int(girl["intake_year"]) == year:
                    _count(out["in_care"][year], girl, bool(girl["minor_at_intake"]),
                           as_of.status(tid))
                    out["in_care"][year][("comensha_decision", as_of.decision(tid))] += 1
                first = as_of.first_report(tid)
                if first is not None and int(first["year"]) == year:
                    c = out["registered"][year]
                    _count(c, girl, bool(first["minor"]), as_of.status(tid))
                    if as_of.acknowledged(tid):
                        c[("comensha_acknowledged", "acknowledged")] += 1
        return out


def _count(c: Counter[Cell], girl: Mapping[str, Any], minor: bool, status: str) -> None:
    nationality = _nationality_key(str(girl["nationality"]))
    c[("total", "total")] += 1
    c[("nationality", nationality)] += 1
    if minor:
        c[("age", "minors")] += 1
        c[("nationality_age", _minors(nationality))] += 1
    c[("victim_status", status)] += 1
    for profile in str(girl["risk_profiles"]).split():
        c[("risk_profile", profile)] += 1


class _AsOf:
    """The facts of the girls as they stood on one freezing day."""

    def __init__(self, day: date, facts: Mapping[str, Sequence[Mapping[str, Any]]]):
        self.day = day
        self._statuses = self._by_girl(facts[_STATUSES])
        in_error = {(tid, int(f["position"]))
                    for tid, fs in self._by_girl(facts[_IN_ERROR]).items() for f in fs}
        self._decisions = {
            tid: [f for f in fs if (tid, int(f["position"])) not in in_error]
            for tid, fs in self._by_girl(facts[_DECISIONS]).items()
        }
        self._reports = {
            tid: [f for f in fs if (tid, int(f["position"])) not in in_error]
            for tid, fs in self._by_girl(facts[_REPORTS]).items()
        }

    def _by_girl(self, rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
        """Each girl's rows recorded by the freezing day, in the order of their positions."""
        found: dict[str, list[Mapping[str, Any]]] = {}
        for f in sorted(rows, key=lambda f: int(f["position"])):
            if _day(f["recorded_on"]) <= self.day:
                found.setdefault(str(f["trajectory_id"]), []).append(f)
        return found

    def status(self, tid: str) -> str:
        return str(self._statuses[tid][-1]["victim_status"])

    def decision(self, tid: str) -> str:
        latest = self._decisions.get(tid)
        return str(latest[-1]["decision"]) if latest else UNDECIDED

    def first_report(self, tid: str) -> Mapping[str, Any] | None:
        sent = [r for r in self._reports.get(tid, ()) if not int(r["acknowledged"])]
        return sent[0] if sent else None

    def acknowledged(self, tid: str) -> bool:
        return any(int(r["acknowledged"]) for r in self._reports.get(tid, ()))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- suppression, written once ------------------------------------------------------------


def rounded(n: int) -> int:
    """`n` to the nearest multiple of ROUNDING_BASE (halves up)."""
    return ROUNDING_BASE * ((n + ROUNDING_BASE // 2) // ROUNDING_BASE)


def _small(n: int) -> bool:
    return 0 < n < SMALL_CELL


def publishable(
    counts: Mapping[Cell, int],
    lines: Sequence[Line],
    *,
    hidden: Iterable[Cell] = (),
    round_counts: bool = True,
) -> dict[Cell, CellOut]:
    """The cells of one year as they may be published.

    `counts`: true counts (an installation), or sums of published counts (the national
    table). `hidden`: cells already unknown (suppressed by a source of the sum): they stay
    suppressed, and count as suppressed for the complementary rule. Then: small cells are
    suppressed; in a breakdown that adds up to a shown row, a single suppressed cell takes
    the next smallest non-zero cell with it; counts are rounded (`round_counts`; sums of
    rounded counts are multiples of the base already); percentages are of the parent's
    published count, withheld where that is suppressed or zero."""
    layout_cells = [line.cell for line in lines]
    suppressed = set(hidden) | {cell for cell in layout_cells if _small(counts.get(cell, 0))}
    by_key = {cell[1]: cell for cell in layout_cells}
    for group, total_key in ADDS_UP_TO.items():
        if by_key.get(total_key) in suppressed:
            continue
        members = [cell for cell in layout_cells if cell[0] == group]
        if sum(cell in suppressed for cell in members) == 1:
            shown = sorted(
                (counts.get(cell, 0), cell[1], cell)
                for cell in members
                if cell not in suppressed and counts.get(cell, 0) > 0
            )
            if shown:
                suppressed.add(shown[0][2])
    published = {
        cell: (rounded(counts.get(cell, 0)) if round_counts else counts.get(cell, 0))
        for cell in layout_cells if cell not in suppressed
    }
    out: dict[Cell, CellOut] = {}
    for line in lines:
        cell = line.cell
        if cell in suppressed:
            out[cell] = CellOut(n=None, percent=None, suppressed=True)
            continue
        n = published[cell]
        base = n if line.parent is None else published.get(by_key[line.parent])
        percent = None if not base else round(100 * n / base)
        out[cell] = CellOut(n=n, percent=percent, suppressed=False)
    return out


def _withheld(lines: Sequence[Line]) -> dict[Cell, CellOut]:
    """A year still open: nothing of it is published (an intake today would show)."""
    return {line.cell: CellOut(n=None, percent=None, suppressed=True) for line in lines}


def table_out(
    table: TableName, lines: Sequence[Line], columns: Sequence[Mapping[Cell, CellOut]]
) -> TableOut:
    """A table from its cells, one mapping per year (column)."""
    return TableOut(
        counts=_COUNTS[table],
        rows=[
            FigureRowOut(key=line.cell[1], group=line.cell[0], parent=line.parent,
                         cells=[column[line.cell] for column in columns])
            for line in lines
        ],
    )


def figures(db: Database, from_year: int, to_year: int, *, today: date) -> FiguresOut:
    """Counts per closed year, both tables, small cells suppressed, rounded to base 5."""
    return VictimsView(db).figures(from_year, to_year, today=today)
