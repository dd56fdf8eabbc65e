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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.persistence.database import Dialect, Transaction, render
from trajectory.protocol import ProtocolRegistry

TRACKING_TABLE = "projection_tracking"
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
        )"""
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

    def __init__(self, dialect: Dialect, protocols: ProtocolRegistry):
        self.dialect = dialect
        self.protocols = protocols

    @abstractmethod
    def ddl(self) -> list[str]:
        """Statements creating the tables and indexes, each idempotent (IF NOT EXISTS)."""

    @abstractmethod
    def apply(self, change: Change) -> None:
        """Gather what the event changes. In memory only: no I/O, no clock."""

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
        for table in self.tables:
            tx.execute(f"DELETE FROM {table}")

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
COPY_FROM_ROWS = 16
"""From this many rows on, PostgreSQL gets them by COPY (see `execute_many`)."""


def execute_many(
    tx: Transaction, statement: str, rows: Sequence[Sequence[Any]], *, keys_unique: bool = False
) -> None:
    """One statement for many rows.

    SQLite: executemany (a loop in C). PostgreSQL: executemany costs a round of the
    protocol per row (about 20 us); many rows of a statement made by `insert_statement`
    (or by `upsert_statement`, when the caller knows that no key comes twice, which a
    multi-row upsert refuses) are COPied into a temporary table of this session and
    inserted from there with the same ON CONFLICT clause: about 6 us a row."""
    if not rows:
        return
    spec = _INSERTS.get(statement)
    if (
        tx.dialect == "postgres"
        and len(rows) >= COPY_FROM_ROWS
        and spec is not None
        and (keys_unique or not spec.updates)
    ):
        _copy_insert(tx, spec, rows)
        return
    tx.cursor.executemany(render(tx.dialect, statement), [list(r) for r in rows])


def _copy_insert(tx: Transaction, spec: _Insert, rows: Sequence[Sequence[Any]]) -> None:
    stage = f"stage_{spec.table}"
    columns = ", ".join(spec.columns)
    # Temporary: private to this connection, gone with it; emptied after every use, and
    # a rolled-back transaction takes its rows (or its creation) with it.
    tx.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE {spec.table})")
    with tx.cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    tx.execute(
        f"INSERT INTO {spec.table} ({columns}) SELECT {columns} FROM {stage}{spec.on_conflict}"
    )
    tx.execute(f"DELETE FROM {stage}")


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(n: int) -> str:
    return ", ".join("?" for _ in range(n))


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
    """Statements gathered in `apply` and run in their order at `flush`.

    For projections whose rows follow from single events (an insert per fact, a delete
    when a fact is marked in error), where order matters. Between two statements that are
    not INSERTs (a delete, an update), the INSERTs are grouped by statement, each group
    keeping its order, and each group goes to the database as one executemany: inserts
    by different statements write different rows, so only their order among themselves
    and relative to the deletes and updates matters.
    """

    def __init__(self) -> None:
        self._items: list[tuple[str, str, tuple[Any, ...]]] = []

    def add(self, trajectory_id: str, statement: str, params: tuple[Any, ...]) -> None:
        """`params` as stored (see `row_values`, `sql_value`)."""
        self._items.append((trajectory_id, statement, params))

    def run(self, tx: Transaction, erased: frozenset[str]) -> None:
        inserts: dict[str, list[tuple[Any, ...]]] = {}
        for trajectory_id, statement, params in self._items:
            if trajectory_id in erased:
                continue
            if statement.startswith("INSERT"):
                inserts.setdefault(statement, []).append(params)
                continue
            for insert, rows in inserts.items():
                execute_many(tx, insert, rows)
            inserts = {}
            tx.execute(statement, params)
        for insert, rows in inserts.items():
            execute_many(tx, insert, rows)
        self._items.clear()

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
