"""National figures: registered (suspected) victims per year, as the national rapporteur
counts them (the seed's table 2.1: per year, the number registered and how many of them
were minors, in N and %), with the breakdowns the action plan asks for: victim status,
risk profile and the CoMensha registration decision.

Per trajectory one row: the year of intake, the victim status as it is now, whether she
was a minor at intake, her risk profiles; and the CoMensha decisions by position, so
that a decision marked in error no longer counts and the latest valid one does.
"Registered" here means taken into care with a trajectory (intake) in that year.

Small cells: every count from 1 to 4 is suppressed (None, flagged), and, where the cells
of a breakdown add up to the year's total (victim status; CoMensha decision, with
"undecided"), the next smallest cell too, so that no suppressed count can be recovered
by subtraction. Percentages of a year whose total is suppressed are withheld as well.

No identity: not the date of birth (only "minor at intake"), no names, no free text.

Differencing: two answers taken before and after one record must not tell that girl's
attributes. So
- only closed periods are published: a year once January of the next year is over (its
  late entries made), from 1 February;
- a published year is frozen: it counts only what was recorded by the end of that
  January (the recording day, by the application's clock: the event's `timestamp`). An
  intake dated in a closed year but recorded later, a later change of victim status, a
  later CoMensha decision or a later "in error" mark do not move its counts;
- every published count is rounded to a multiple of 5 after suppression (percentages are
  computed from the rounded counts);
- only researchers and admins may read them (the route's roles).

The tables keep each fact with its recording day (statuses, decisions and "in error"
marks as rows of their own), and the query reads them as they stood on the year's
freezing day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal, get_args

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.chain import ComenshaRegistrationDecided
from trajectory.aggregates.events.closure import EntryMarkedInError
from trajectory.aggregates.events.intake import TrajectoryOpened, VictimStatusChanged
from trajectory.aggregates.vocabulary import (
    RISK_PROFILES,
    ComenshaDecision,
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
UNDECIDED = "undecided"


def frozen_on(year: int) -> date:
    """The last recording day that counts for `year`: the end of the next January."""
    return date(year + 1, 1, 31)


def published_through(today: date) -> int:
    """The last year whose figures are frozen (published) on `today`."""
    return today.year - 1 if today > frozen_on(today.year - 1) else today.year - 2


class IntakeRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    intake_year: int
    recorded_on: date
    minor_at_intake: bool
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


class InErrorRow(msgspec.Struct, frozen=True, kw_only=True):
    """The entry at `position` (a decision, when it is one) no longer counts from
    `recorded_on` on."""

    trajectory_id: str
    position: int
    recorded_on: date


_PREFIX = "national_figures"
_INTAKES, _STATUSES, _DECISIONS, _IN_ERROR = (
    f"{_PREFIX}_intakes", f"{_PREFIX}_statuses", f"{_PREFIX}_decisions", f"{_PREFIX}_in_error"
)
_DDL = [
    # The read model before figures were frozen (rebuilt under a new name: a new name
    # starts from the beginning of the log by itself).
    "DROP TABLE IF EXISTS victim_comensha_decisions",
    "DROP TABLE IF EXISTS victims",
    f"""CREATE TABLE IF NOT EXISTS {_INTAKES} (
        trajectory_id TEXT PRIMARY KEY,
        intake_year INTEGER NOT NULL,
        recorded_on TEXT NOT NULL,
        minor_at_intake INTEGER NOT NULL,
        risk_profiles TEXT NOT NULL
    )""",
    f"CREATE INDEX IF NOT EXISTS {_INTAKES}_year ON {_INTAKES} (intake_year)",
    *(
        f"""CREATE TABLE IF NOT EXISTS {table} (
        trajectory_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        {column}
        recorded_on TEXT NOT NULL,
        PRIMARY KEY (trajectory_id, position)
    )"""
        for table, column in (
            (_STATUSES, "victim_status TEXT NOT NULL,"),
            (_DECISIONS, "decision TEXT NOT NULL,"),
            (_IN_ERROR, ""),
        )
    ),
]
_INSERT_INTAKE = upsert_statement(_INTAKES, IntakeRow, ("trajectory_id",))
_INSERT_STATUS = insert_statement(_STATUSES, StatusRow, ("trajectory_id", "position"))
_INSERT_DECISION = insert_statement(_DECISIONS, DecisionRow, ("trajectory_id", "position"))
_INSERT_IN_ERROR = insert_statement(_IN_ERROR, InErrorRow, ("trajectory_id", "position"))


_STATUS_EVENTS = (TrajectoryOpened, VictimStatusChanged)
_WANTED = (*_STATUS_EVENTS, ComenshaRegistrationDecided, EntryMarkedInError)


class VictimsProjection(Projection):
    name = "national_figures"
    tables = (_INTAKES, _STATUSES, _DECISIONS, _IN_ERROR)

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
        elif (correction := event.corrects()) is not None and correction.in_error:
            mark = InErrorRow(trajectory_id=tid, position=correction.position,
                              recorded_on=recorded_on)
            self._writes.insert(_INSERT_IN_ERROR, tid, at, row_values(mark))

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        self._writes.run(tx, erased)

    def discard(self) -> None:
        self._writes.clear()


# -- queries ------------------------------------------------------------------------------------

Group = Literal["total", "age", "victim_status", "risk_profile", "comensha_decision"]


class CellOut(msgspec.Struct, frozen=True, kw_only=True):
    """A count and its share of the year's total; both None when suppressed."""

    n: int | None
    percent: int | None
    suppressed: bool


class FigureRowOut(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the table: a category, with a cell per year."""

    key: str
    group: Group
    cells: list[CellOut]


class FiguresOut(msgspec.Struct, frozen=True, kw_only=True):
    """Registered (suspected) victims per year of intake, in the rapporteur's shape:
    categories as rows, years as columns, N and % of the year's total."""

    from_year: int
    to_year: int
    years: list[int]
    small_cell_threshold: int
    rows: list[FigureRowOut]
    published_through: int = 0
    """The last closed year: later years are withheld (every cell suppressed)."""
    rounding_base: int = ROUNDING_BASE


class _Year:
    def __init__(self) -> None:
        self.counts: dict[tuple[Group, str], int] = Counter()


class VictimsView:
    def __init__(self, db: Database):
        self.db = db

    def figures(self, from_year: int, to_year: int, *, today: date) -> FiguresOut:
        """The figures of the closed years between `from_year` and `to_year` (the year of
        `today` and later are withheld)."""
        if to_year < from_year:
            raise ValueError("to_year comes before from_year")
        with self.db.transaction(commit=False) as tx:
            rows = tx.fetchall(
                f"SELECT trajectory_id, intake_year, recorded_on, minor_at_intake,"
                f" risk_profiles FROM {_INTAKES} WHERE intake_year BETWEEN ? AND ?",
                [from_year, to_year],
            )
            facts = {
                table: tx.fetchall(
                    f"SELECT f.* FROM {table} f JOIN {_INTAKES} v"
                    " ON v.trajectory_id = f.trajectory_id"
                    " WHERE v.intake_year BETWEEN ? AND ?",
                    [from_year, to_year],
                )
                for table in (_STATUSES, _DECISIONS, _IN_ERROR)
            }
        year_of = {str(r["trajectory_id"]): int(r["intake_year"]) for r in rows}

        def by_freeze(table: str) -> dict[str, list[dict[str, Any]]]:
            """Each girl's rows of `table` recorded by her intake year's freezing day, in
            the order of their positions."""
            found: dict[str, list[dict[str, Any]]] = {}
            for f in sorted(facts[table], key=lambda f: int(f["position"])):
                tid = str(f["trajectory_id"])
                if _day(f["recorded_on"]) <= frozen_on(year_of[tid]):
                    found.setdefault(tid, []).append(f)
            return found

        statuses = by_freeze(_STATUSES)
        in_error = {
            (tid, int(f["position"])) for tid, fs in by_freeze(_IN_ERROR).items() for f in fs
        }
        decisions = {
            tid: [f for f in fs if (tid, int(f["position"])) not in in_error]
            for tid, fs in by_freeze(_DECISIONS).items()
        }
        years = list(range(from_year, to_year + 1))
        counts = {y: _Year() for y in years}
        for r in rows:
            tid, year = str(r["trajectory_id"]), int(r["intake_year"])
            if _day(r["recorded_on"]) > frozen_on(year):
                continue  # recorded after her year was frozen
            c = counts[year].counts
            c[("total", "registered")] += 1
            if int(r["minor_at_intake"]):
                c[("age", "minors")] += 1
            c[("victim_status", str(statuses[tid][-1]["victim_status"]))] += 1
            for profile in str(r["risk_profiles"]).split():
                c[("risk_profile", profile)] += 1
            latest = decisions.get(tid)
            c[("comensha_decision", str(latest[-1]["decision"]) if latest else UNDECIDED)] += 1
        layout: list[tuple[Group, str]] = [
            ("total", "registered"),
            ("age", "minors"),
            *(("victim_status", s) for s in VICTIM_STATUSES),
            *(("risk_profile", p) for p in RISK_PROFILES),
            *(("comensha_decision", d) for d in (*COMENSHA_DECISIONS, UNDECIDED)),
        ]
        closed_through = published_through(today)
        cells = {
            y: _cells(counts[y].counts, layout) if y <= closed_through else _withheld(layout)
            for y in years
        }
        return FiguresOut(
            from_year=from_year,
            to_year=to_year,
            years=years,
            small_cell_threshold=SMALL_CELL,
            published_through=closed_through,
            rows=[
                FigureRowOut(key=key, group=group, cells=[cells[y][(group, key)] for y in years])
                for group, key in layout
            ],
        )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _withheld(layout: Sequence[tuple[Group, str]]) -> dict[tuple[Group, str], CellOut]:
    """A year still open: nothing of it is published (an intake today would show)."""
    return {cell: CellOut(n=None, percent=None, suppressed=True) for cell in layout}


def rounded(n: int) -> int:
    """`n` to the nearest multiple of ROUNDING_BASE (halves up)."""
    return ROUNDING_BASE * ((n + ROUNDING_BASE // 2) // ROUNDING_BASE)


def _suppressed(n: int) -> bool:
    return 0 < n < SMALL_CELL


def _cells(
    counts: dict[tuple[Group, str], int], layout: Sequence[tuple[Group, str]]
) -> dict[tuple[Group, str], CellOut]:
    total = counts.get(("total", "registered"), 0)
    hidden = {cell for cell in layout if _suppressed(counts.get(cell, 0))}
    # Complementary suppression: in a breakdown that adds up to the total, one hidden
    # cell could be recovered by subtraction; hide the next smallest non-zero cell too.
    if ("total", "registered") not in hidden:
        for group in ("victim_status", "comensha_decision"):
            members = [cell for cell in layout if cell[0] == group]
            if sum(cell in hidden for cell in members) == 1:
                shown = sorted(
                    (counts.get(cell, 0), cell[1], cell)
                    for cell in members
                    if cell not in hidden and counts.get(cell, 0) > 0
                )
                if shown:
                    hidden.add(shown[0][2])
    shown_total = rounded(total)
    withhold_percent = ("total", "registered") in hidden or shown_total == 0
    out: dict[tuple[Group, str], CellOut] = {}
    for cell in layout:
        if cell in hidden:
            out[cell] = CellOut(n=None, percent=None, suppressed=True)
        else:
            n = rounded(counts.get(cell, 0))
            percent = None if withhold_percent else round(100 * n / shown_total)
            out[cell] = CellOut(n=n, percent=percent, suppressed=False)
    return out


def figures(db: Database, from_year: int, to_year: int, *, today: date) -> FiguresOut:
    """Counts per closed year of intake, small cells suppressed, rounded to base 5."""
    return VictimsView(db).figures(from_year, to_year, today=today)
