"""The organisation's runaway register: every runaway, open and closed.

One row per `RunawayReported` (`runaway_register`, keyed by the trajectory and the
report's position): the organisation, the day she left, whether the police were
informed, and, once a `RunawayEnded` follows, the day she came back and how (returned
or found) with that event's position. While a runaway is open no second one can be
reported (the rules refuse it), so an ending closes the trajectory's one open row.
Runaways are not among the entries a correction may reach (`aggregates.corrections`:
only facts that evidence something): should they become so, this read model must follow
the corrections (and its version go up).

No identity and no free text: where she went, with whom and which police forces were
informed are what a person wrote; the row keeps only whether the police were informed.
The page reads her name from her encrypted opening event, for whoever may see it.

What must not change: the table's name and columns (the register and the dashboard read
them). A change to what a row holds bumps `RunawaysProjection.version`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.runaway import RunawayEnded, RunawayReported
from trajectory.aggregates.vocabulary import RunawayEnding
from trajectory.persistence.database import Database, Transaction
from trajectory.projections.framework import Change, Projection, from_row
from trajectory.visibility import Someone, related_filter

TABLE = "runaway_register"


class RunawayRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    position: int
    organisation: str
    started_on: date
    police_informed: bool
    ended_on: date | None = None
    ending: RunawayEnding | None = None
    ended_position: int | None = None


_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        trajectory_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        organisation TEXT NOT NULL,
        started_on TEXT NOT NULL,
        police_informed INTEGER NOT NULL,
        ended_on TEXT,
        ending TEXT,
        ended_position INTEGER,
        PRIMARY KEY (trajectory_id, position)
    )""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_org ON {TABLE} (organisation, started_on)",
]

_INSERT = (
    f"INSERT INTO {TABLE} (trajectory_id, position, organisation, started_on,"
    " police_informed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (trajectory_id, position) DO NOTHING"
)
_END = (
    f"UPDATE {TABLE} SET ended_on = ?, ending = ?, ended_position = ?"
    " WHERE trajectory_id = ? AND ended_on IS NULL"
)


class RunawaysProjection(Projection):
    """Runaways are rare (a handful per girl): each event's statement is kept in log
    order and run one by one at the flush, so an ending in the same page as its report
    reaches the row the report wrote."""

    name = "runaways"
    tables = (TABLE,)
    version = 1

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._statements: list[tuple[str, str, list[Any]]] = []

    def ddl(self) -> list[str]:
        return list(_DDL)

    def wants(self, event_class: type[TrajectoryEvent]) -> bool:
        return issubclass(event_class, (RunawayReported, RunawayEnded))

    def apply(self, change: Change) -> None:
        event, tid, version = change.event, change.trajectory_id, change.version
        day = event.occurred_on.isoformat()
        add = self._statements.append
        if isinstance(event, RunawayReported):
            informed = bool(event.police_forces_informed) or event.home_region_police_informed
            add((tid, _INSERT, [tid, version, change.state.organisation, day, int(informed)]))
        elif isinstance(event, RunawayEnded):
            add((tid, _END, [day, event.ending, version, tid]))

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        statements, self._statements = self._statements, []
        for tid, statement, params in statements:
            if tid not in erased:
                tx.execute(statement, params)

    def discard(self) -> None:
        self._statements = []


# -- queries ------------------------------------------------------------------------------------


class RunawayOut(msgspec.Struct, frozen=True, kw_only=True):
    """One runaway: from when to when (`ended_on` None: she is still away), how many
    days (to today while open), how it ended, and whether the police were informed."""

    trajectory_id: str
    position: int
    started_on: date
    ended_on: date | None
    days: int
    ending: RunawayEnding | None
    police_informed: bool


def runaway_register(
    db: Database, organisation: str, first: date, last: date, today: date, *,
    seen_by: Someone | None,
) -> list[RunawayOut]:
    """The organisation's runaways that were (at least partly) in `first`..`last`: the
    open ones first (the longest away first), then the newest. `seen_by`: only of the
    girls she has a relationship with (`visibility.related_filter`); None: the whole
    organisation's (its figures, read by whoever sees no names)."""
    related, related_params = related_filter(seen_by) if seen_by else ("1 = 1", [])
    rows = db.fetchall(
        f"SELECT * FROM {TABLE} WHERE organisation = ? AND started_on <= ?"
        f" AND (ended_on IS NULL OR ended_on >= ?) AND {related}"
        " ORDER BY (ended_on IS NULL) DESC, started_on DESC, trajectory_id, position",
        [organisation, last.isoformat(), first.isoformat(), *related_params],
    )
    out = []
    for r in rows:
        row: RunawayRow = from_row(RunawayRow, r)
        end = row.ended_on or today
        out.append(
            RunawayOut(
                trajectory_id=row.trajectory_id,
                position=row.position,
                started_on=row.started_on,
                ended_on=row.ended_on,
                days=max((end - row.started_on).days, 0),
                ending=row.ending,
                police_informed=row.police_informed,
            )
        )
    open_first = [o for o in out if o.ended_on is None]
    open_first.sort(key=lambda o: (o.started_on, o.trajectory_id))
    return open_first + [o for o in out if o.ended_on is not None]


def runaways_per_month(db: Database, organisation: str, months: list[str]) -> dict[str, int]:
    """How many runaways began in each month ('YYYY-MM') of `months`."""
    if not months:
        return {}
    rows = db.fetchall(
        f"SELECT started_on FROM {TABLE} WHERE organisation = ? AND started_on >= ?"
        " AND started_on < ?",
        [organisation, f"{months[0]}-01", f"{months[-1]}-32"],
    )
    counts = dict.fromkeys(months, 0)
    for r in rows:
        month = str(r["started_on"])[:7]
        if month in counts:
            counts[month] += 1
    return counts
