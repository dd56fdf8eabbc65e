"""What a projection is, and how its rows reach the database.

A projection turns the event log into tables of its own. The runner feeds it every event
of the log once, in log order: `apply` gathers what the event changes, in memory and
without I/O; `flush` writes what was gathered, inside the transaction in which the runner
also moves the projection's position in `projection_tracking`. Rows and position commit
together or not at all, so every event is applied exactly once however often the runner
is stopped, killed or restarted.

What must not change:
- `projection_tracking(name, position, erased_skipped, updated_at)`: other processes (the
  API's health check, a second runner) read it. `position` is the notification id of the
  last event applied (a place in the whole log, not a trajectory's version).
- Read-model rows hold no identity and no free text: only ids, codes, dates and counts.
  What a person wrote is read from the (encrypted) event on demand, never copied here.
- Dates are ISO 8601 text in both dialects, so that they compare and sort the same.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.persistence.database import Dialect, Transaction, placeholders, render
from trajectory.protocol import ProtocolRegistry

TRACKING_TABLE = "projection_tracking"
VERSIONS_TABLE = "projection_versions"
"""The stored shape of each read model (`Projection.version`), beside its position: a
release that changes a read model's rows bumps its version, and start-up rebuilds it."""
CHUNK = 500
"""Ids per `IN (...)` list: well under SQLite's limit on bound parameters."""


def tracking_ddl(dialect: Dialect) -> list[str]:
    big = "BIGINT" if dialect == "postgres" else "INTEGER"
    return [
        f"""CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (
            name TEXT PRIMARY KEY,
            position {big} NOT NULL DEFAULT 0,
            erased_skipped {big} NOT NULL DEFAULT 0,
            updated_at TEXT
        )""",
        f"""CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (
            name TEXT PRIMARY KEY,
            version INTEGER NOT NULL
        )""",
    ]


class Change(NamedTuple):
    """One event as a projection sees it: its place in the log (`position`), its place in
    its own trajectory (`version`, what corrections point at), and the trajectory's state
    right after it. The state is shared and moves on with the next event of its trajectory.
    A projection may keep it until its `flush`, to compute rows once per trajectory and page:
    the runner folds an event only to hand it to every projection due for it, so at the
    flush it is the state after the last event of that trajectory this projection was
    given. Never keep it past the flush (or a `discard`)."""

    position: int
    event: TrajectoryEvent
    state: TrajectoryState
    trajectory_id: str
    version: int


class Projection(ABC):
    """A read model: its tables, how an event changes them, how a trajectory leaves them.

    Every table of a projection has a `trajectory_id` column, so that erasure and
    `delete_trajectory` reach every row of a trajectory.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    version: ClassVar[int] = 1
    """The shape of its rows. Bump it when a release changes what the rows hold (a column,
    what a code means): start-up then drops its tables, makes them anew and starts it at
    the beginning of the log (`ProjectionRunner.create_tables`), as a rebuild would. A
    store made before versions were kept counts as version 1."""
    follows_state: ClassVar[bool] = False
    """True for a projection whose rows follow from a trajectory's state alone (not from
    the events one by one): the runner then hands it only the last event of each
    trajectory in a page, with the state after it, instead of every event (a rebuild
    hands over a million)."""

    def __init__(self, protocols: ProtocolRegistry):
        self.protocols = protocols

    @abstractmethod
    def ddl(self) -> list[str]:
        """Statements creating the tables and indexes, each idempotent (IF NOT EXISTS)."""

    @abstractmethod
    def apply(self, change: Change) -> None:
        """Gather what the event changes. In memory only: no I/O, no clock."""

    def wants(self, event_class: type[TrajectoryEvent]) -> bool:
        """Whether `apply` does anything with events of this class. Asked once per class:
        events no projection wants cost the runner no call (most events of a log change
        the state but no row of a projection that is not `follows_state`)."""
        return True

    @abstractmethod
    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        """Write what was gathered (leaving out erased trajectories), then forget it."""

    @abstractmethod
    def discard(self) -> None:
        """Forget what was gathered: the page it belonged to was rolled back."""

    def create_tables(self, tx: Transaction) -> None:
        for statement in self.ddl():
            tx.execute(statement)

    def clear(self, tx: Transaction) -> None:
        """Empty every table (a rebuild). PostgreSQL: TRUNCATE, in the transaction like a
        DELETE, but it leaves no dead rows behind: after a DELETE every row a rebuild
        writes goes after a table's worth of them (and into indexes as swollen) until a
        vacuum comes by."""
        if tx.dialect == "postgres":
            tx.execute(f"TRUNCATE {', '.join(self.tables)}")
            return
        for table in self.tables:
            tx.execute(f"DELETE FROM {table}")

    def drop_tables(self, tx: Transaction) -> None:
        """Drop every table (and so its indexes): the shape changed (`version`)."""
        for table in self.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def delete_trajectory(self, tx: Transaction, trajectory_id: str) -> None:
        """Remove every row of one trajectory: the erasure hook of this projection."""
        for table in self.tables:
            tx.execute(f"DELETE FROM {table} WHERE trajectory_id = ?", [trajectory_id])


# -- writing rows ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Insert:
    """What an INSERT statement made by `upsert_statement` or `insert_statement` writes."""

    table: str
    columns: tuple[str, ...]
    on_conflict: str
    updates: bool


_INSERTS: dict[str, _Insert] = {}
JSON_FROM_ROWS = 2
"""From this many rows on, PostgreSQL gets them as one JSON document (see `execute_many`)."""
_COLUMN_TYPES: dict[str, dict[str, str]] = {}
"""PostgreSQL: the type of every column of a table, by table (asked once per process)."""
_encode = msgspec.json.Encoder().encode


def execute_many(
    tx: Transaction, statement: str, rows: Sequence[Sequence[Any]], *, keys_unique: bool = False
) -> None:
    """One statement for many rows.

    SQLite: executemany (a loop in C). PostgreSQL: executemany costs a round of the
    protocol per row (about 20 us). The rows of a statement made by `insert_statement`
    (or by `upsert_statement`, when the caller knows that no key comes twice, which a
    multi-row upsert refuses) go instead as one JSON array of rows (encoded in C), which
    the server takes apart into the table with the same ON CONFLICT clause: one
    statement, one round trip. 2,000 rows of six columns cost the client 1 ms that way;
    as one array per column (psycopg dumps arrays in Python) 17-22 ms, and by COPY into
    a temporary table and an INSERT from there 4 ms and four round trips."""
    if not rows:
        return
    spec = _INSERTS.get(statement)
    if (
        tx.dialect == "postgres"
        and len(rows) >= JSON_FROM_ROWS
        and spec is not None
        and (keys_unique or not spec.updates)
    ):
        _json_insert(tx, spec, rows)
        return
    tx.cursor.executemany(render(tx.dialect, statement), [list(r) for r in rows])


def _json_insert(tx: Transaction, spec: _Insert, rows: Sequence[Sequence[Any]]) -> None:
    """The rows as stored (text, integers, NULL) in a JSON array of arrays; each value is
    taken out as text and cast to its column's type."""
    types = _COLUMN_TYPES.get(spec.table)
    if types is None:
        found = tx.fetchall(
            "SELECT attname AS name, format_type(atttypid, atttypmod) AS type"
            " FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0"
            " AND NOT attisdropped",
            [spec.table],
        )
        types = _COLUMN_TYPES[spec.table] = {str(r["name"]): str(r["type"]) for r in found}
    values = ", ".join(
        f"r->>{i}" if types[c] == "text" else f"(r->>{i})::{types[c]}"
        for i, c in enumerate(spec.columns)
    )
    tx.execute(
        f"INSERT INTO {spec.table} ({', '.join(spec.columns)}) SELECT {values}"
        f" FROM jsonb_array_elements(?::jsonb) r{spec.on_conflict}",
        [_encode(rows).decode()],
    )


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def delete_where_in(tx: Transaction, table: str, ids: Sequence[str]) -> None:
    for part in chunks(ids):
        tx.execute(
            f"DELETE FROM {table} WHERE trajectory_id IN ({placeholders(len(part))})",
            list(part),
        )


def sql_value(value: Any) -> Any:
    """A value as stored: dates as ISO text, booleans as 0/1, the rest as is."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def row_values(row: msgspec.Struct) -> tuple[Any, ...]:
    """A row Struct's values in column order, as stored. (Rows are written for nearly every
    event during a rebuild: this stays a single pass over a C-made tuple.)"""
    return tuple(
        v.isoformat() if isinstance(v, dt.date) else int(v) if v is True or v is False else v
        for v in msgspec.structs.astuple(row)
    )


def columns_of(row_type: type[msgspec.Struct]) -> tuple[str, ...]:
    return row_type.__struct_fields__


def upsert_statement(table: str, row_type: type[msgspec.Struct], key: Sequence[str]) -> str:
    """INSERT ... ON CONFLICT DO UPDATE: the same text in SQLite (3.24+) and PostgreSQL."""
    cols = columns_of(row_type)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key)
    on_conflict = f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    statement = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders(len(cols))})"
    statement += on_conflict
    _INSERTS[statement] = _Insert(table, cols, on_conflict, updates=True)
    return statement


def insert_statement(table: str, row_type: type[msgspec.Struct], key: Sequence[str]) -> str:
    """INSERT that leaves an existing row alone (a replayed event changes nothing)."""
    cols = columns_of(row_type)
    on_conflict = f" ON CONFLICT ({', '.join(key)}) DO NOTHING"
    statement = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders(len(cols))})"
    statement += on_conflict
    _INSERTS[statement] = _Insert(table, cols, on_conflict, updates=False)
    return statement


def from_row(row_type: type[msgspec.Struct], row: dict[str, Any]) -> Any:
    """A row Struct from a database row (ISO text back to dates, 0/1 back to booleans)."""
    return msgspec.convert({c: row[c] for c in row_type.__struct_fields__}, row_type, strict=False)


class Writes:
    """Rows gathered in `apply` and written at `flush`, each table in one statement.

    For projections whose rows follow from single events: an insert per fact (keyed by
    the trajectory and the position of the event that states it), an upsert per
    trajectory, and changes to earlier facts (a delete when one is marked in error, an
    update when its day is corrected), which name the position of the fact they change.

    A change is applied at once to the rows of its fact still gathered here (the fact was
    stated in the same page), and kept to be run against the table for rows written by
    earlier pages. At the flush the changes run first, then every statement's rows go to
    the database as one `execute_many` (one COPY on PostgreSQL). The order of the events
    is kept where it matters (a change only reaches rows stated before it; later upserts
    of a trajectory win) and lost where it does not: statements of different positions
    write different rows. Run in event order instead, every change split the inserts
    around it into groups, each its own statement (its own COPY on PostgreSQL).
    """

    def __init__(self) -> None:
        self._rows: dict[str, dict[tuple[str, int], list[tuple[Any, ...]]]] = {}
        self._upserts: dict[str, dict[str, tuple[Any, ...]]] = {}
        self._changes: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}

    def insert(
        self, statement: str, trajectory_id: str, position: int, params: tuple[Any, ...]
    ) -> None:
        """A row stated by the event at `position`; `params` as stored (see `row_values`,
        `sql_value`)."""
        rows = self._rows.get(statement)
        if rows is None:
            rows = self._rows[statement] = {}
        found = rows.get((trajectory_id, position))
        if found is None:
            rows[(trajectory_id, position)] = [params]
        else:
            found.append(params)

    def upsert(self, statement: str, trajectory_id: str, params: tuple[Any, ...]) -> None:
        """The trajectory's one row of an upsert (by trajectory id): the last one wins."""
        upserts = self._upserts.get(statement)
        if upserts is None:
            upserts = self._upserts[statement] = {}
        upserts[trajectory_id] = params

    def delete(
        self,
        statement: str,
        trajectory_id: str,
        position: int,
        params: tuple[Any, ...],
        *,
        rows_of: Sequence[str],
    ) -> None:
        """Delete the rows of the fact at `position` gathered by the `rows_of` inserts;
        `statement` with `params` deletes those written before."""
        key = (trajectory_id, position)
        for insert in rows_of:
            self._rows.get(insert, {}).pop(key, None)
        self._change(statement, trajectory_id, params)

    def update(
        self,
        statement: str,
        trajectory_id: str,
        position: int,
        params: tuple[Any, ...],
        *,
        rows_of: Mapping[str, tuple[int, Any]],
    ) -> None:
        """Set a column of the rows of the fact at `position` gathered by each insert of
        `rows_of` (insert -> (column index, value as stored)); `statement` with `params`
        does the same to those written before."""
        key = (trajectory_id, position)
        for insert, (column, value) in rows_of.items():
            found = self._rows.get(insert, {}).get(key)
            if found:
                found[:] = [(*row[:column], value, *row[column + 1 :]) for row in found]
        self._change(statement, trajectory_id, params)

    def _change(self, statement: str, trajectory_id: str, params: tuple[Any, ...]) -> None:
        changes = self._changes.get(statement)
        if changes is None:
            changes = self._changes[statement] = []
        changes.append((trajectory_id, params))

    def run(self, tx: Transaction, erased: frozenset[str]) -> None:
        """Write everything gathered (leaving out the erased trajectories), then forget it.

        Changes of different statements commute (a deleted row stays deleted whether it
        was updated first or not), so each statement's changes go in one `execute_many`,
        in their order."""
        try:
            for statement, changes in self._changes.items():
                execute_many(tx, statement, [p for t, p in changes if t not in erased])
            for statement, upserts in self._upserts.items():
                rows = [p for t, p in upserts.items() if t not in erased]
                execute_many(tx, statement, rows, keys_unique=True)  # one row per trajectory
            for statement, inserts in self._rows.items():
                rows = [p for (t, _), ps in inserts.items() if t not in erased for p in ps]
                execute_many(tx, statement, rows)
        finally:
            self.clear()

    def clear(self) -> None:
        self._rows = {}
        self._upserts = {}
        self._changes = {}

    def __len__(self) -> int:
        return (
            sum(len(ps) for rows in self._rows.values() for ps in rows.values())
            + sum(map(len, self._upserts.values()))
            + sum(map(len, self._changes.values()))
        )
