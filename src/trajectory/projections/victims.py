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

Differencing: two answers taken before and after one intake must not tell that girl's
attributes. So only closed periods are published (complete years: the year now running
is withheld, every cell of it suppressed), every published count is rounded to a multiple
of 5 after suppression (percentages are computed from the rounded counts), and only
researchers and admins may read them (the route's roles). What this does not yet close: a
record made later about a closed year (an intake dated in it, a new victim status) still
moves its counts by one, which the rounding hides only when the count stays within its
multiple of 5; freezing a year needs the recording day in this read model (the events'
`timestamp` is the library's wall clock, not the application's).
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


class VictimRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    intake_year: int
    victim_status: VictimStatus
    minor_at_intake: bool
    risk_profiles: str  # the codes, space-separated


class DecisionRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    position: int
    decision: ComenshaDecision


_DDL = [
    """CREATE TABLE IF NOT EXISTS victims (
        trajectory_id TEXT PRIMARY KEY,
        intake_year INTEGER NOT NULL,
        victim_status TEXT NOT NULL,
        minor_at_intake INTEGER NOT NULL,
        risk_profiles TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS victims_year ON victims (intake_year)",
    """CREATE TABLE IF NOT EXISTS victim_comensha_decisions (
        trajectory_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        decision TEXT NOT NULL,
        PRIMARY KEY (trajectory_id, position)
    )""",
]
_UPSERT = upsert_statement("victims", VictimRow, ("trajectory_id",))
_INSERT_DECISION = insert_statement(
    "victim_comensha_decisions", DecisionRow, ("trajectory_id", "position")
)
_DELETE_DECISION = "DELETE FROM victim_comensha_decisions WHERE trajectory_id = ? AND position = ?"


_STATUS_EVENTS = (TrajectoryOpened, VictimStatusChanged)
_WANTED = (*_STATUS_EVENTS, ComenshaRegistrationDecided, EntryMarkedInError)


class VictimsProjection(Projection):
    name = "victims"
    tables = ("victims", "victim_comensha_decisions")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._writes = Writes()

    def ddl(self) -> list[str]:
        return list(_DDL)

    def wants(self, event_class: type[TrajectoryEvent]) -> bool:
        return issubclass(event_class, _WANTED)

    def apply(self, change: Change) -> None:
        event, s, tid = change.event, change.state, change.trajectory_id
        if isinstance(event, _STATUS_EVENTS):
            row = VictimRow(
                trajectory_id=tid,
                intake_year=s.intake_date.year,
                victim_status=s.victim_status,
                minor_at_intake=age_on(s.date_of_birth, s.intake_date) < 18,
                risk_profiles=" ".join(sorted(s.risk_profiles)),
            )
            self._writes.upsert(_UPSERT, tid, row_values(row))
        elif isinstance(event, ComenshaRegistrationDecided):
            decision = DecisionRow(
                trajectory_id=tid, position=change.version, decision=event.decision
            )
            self._writes.insert(_INSERT_DECISION, tid, change.version, row_values(decision))
        elif (correction := event.corrects()) is not None and correction.in_error:
            at = correction.position
            self._writes.delete(_DELETE_DECISION, tid, at, (tid, at), rows_of=(_INSERT_DECISION,))

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
                "SELECT trajectory_id, intake_year, victim_status, minor_at_intake,"
                " risk_profiles FROM victims WHERE intake_year BETWEEN ? AND ?",
                [from_year, to_year],
            )
            decisions = tx.fetchall(
                "SELECT d.trajectory_id, d.position, d.decision"
                " FROM victim_comensha_decisions d JOIN victims v"
                " ON v.trajectory_id = d.trajectory_id"
                " WHERE v.intake_year BETWEEN ? AND ?",
                [from_year, to_year],
            )
        latest: dict[str, tuple[int, str]] = {}
        for d in decisions:
            tid, position = str(d["trajectory_id"]), int(d["position"])
            if tid not in latest or latest[tid][0] < position:
                latest[tid] = (position, str(d["decision"]))
        years = list(range(from_year, to_year + 1))
        counts = {y: _Year() for y in years}
        for r in rows:
            c = counts[int(r["intake_year"])].counts
            c[("total", "registered")] += 1
            if int(r["minor_at_intake"]):
                c[("age", "minors")] += 1
            c[("victim_status", str(r["victim_status"]))] += 1
            for profile in str(r["risk_profiles"]).split():
                c[("risk_profile", profile)] += 1
            decision = latest.get(str(r["trajectory_id"]), (0, UNDECIDED))[1]
            c[("comensha_decision", decision)] += 1
        layout: list[tuple[Group, str]] = [
            ("total", "registered"),
            ("age", "minors"),
            *(("victim_status", s) for s in VICTIM_STATUSES),
            *(("risk_profile", p) for p in RISK_PROFILES),
            *(("comensha_decision", d) for d in (*COMENSHA_DECISIONS, UNDECIDED)),
        ]
        closed_through = today.year - 1
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
