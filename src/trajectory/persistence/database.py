"""A thin, dialect-aware way to run our own SQL on the event store's connections.

Our tables (index, access log, idempotency, users) share the database and, for writes
that must be atomic with events, the transaction. SQL is written once with `?`
placeholders (`placeholders(n)` for a list); `render` makes them PostgreSQL's, and every
statement goes through it on the way to psycopg. Identifiers are our own constants.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from trajectory.persistence.ledger import CHAINED_TABLES, Heads, chained

Dialect = Literal["sqlite", "postgres"]
Row = dict[str, Any]


class Cursor(Protocol):
    def execute(self, statement: Any, params: Any = ...) -> Any: ...

    def fetchall(self) -> Any: ...


@dataclass(frozen=True)
class RowWrite:
    """A row written in the same transaction as a command's events.

    With `upsert_on`, an existing row with the same key is updated instead; with
    `ignore_on`, an existing row is left alone.
    """

    table: str
    values: Mapping[str, Any]
    upsert_on: tuple[str, ...] = ()
    ignore_on: tuple[str, ...] = field(default=())


def placeholders(n: int) -> str:
    """`n` placeholders, for an `IN (...)` list or a row's values."""
    return ", ".join("?" for _ in range(n))


_POSTGRES_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\?|%""")
"""What PostgreSQL's driver reads differently: quoted text and names (kept, but for a `%`
in them), `?` (our placeholder) and `%` (its own placeholders' mark)."""


def _postgres_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if token == "?":
        return "%s"
    return token.replace("%", "%%")


@functools.lru_cache(maxsize=4096)
def _for_postgres(statement: str) -> str:
    return _POSTGRES_TOKENS.sub(_postgres_token, statement)


def render(dialect: Dialect, statement: str) -> str:
    """The statement as the dialect's driver takes it: our placeholders are `?`; psycopg
    wants `%s`, and `%%` for a literal `%` (also inside quoted text, which psycopg reads
    too); a `?` inside quotes stays text. The one place that knows (our statements are a
    few hundred constant texts: each is translated once)."""
    return _for_postgres(statement) if dialect == "postgres" else statement


def render_write(dialect: Dialect, write: RowWrite) -> tuple[str, list[Any]]:
    columns = list(write.values)
    sql = (
        f"INSERT INTO {write.table} ({', '.join(columns)}) "
        f"VALUES ({placeholders(len(columns))})"
    )
    if write.upsert_on:
        updates = [c for c in columns if c not in write.upsert_on]
        sql += f" ON CONFLICT ({', '.join(write.upsert_on)}) DO UPDATE SET " + ", ".join(
            f"{c} = excluded.{c}" for c in updates
        )
    elif write.ignore_on:
        sql += f" ON CONFLICT ({', '.join(write.ignore_on)}) DO NOTHING"
    return render(dialect, sql), [write.values[c] for c in columns]


def apply_writes(dialect: Dialect, cursor: Cursor, writes: Sequence[RowWrite]) -> None:
    """Every row of our own tables is inserted here: a row of a chained table (the access
    log, the erasure records) gets its link to the chain in this same transaction."""
    heads: Heads = {}
    for write in writes:
        if write.table in CHAINED_TABLES:
            linked = chained(dialect, cursor, write.table, write.values, heads)
            write = RowWrite(write.table, linked)
        sql, params = render_write(dialect, write)
        cursor.execute(sql, params)


def _rows(cursor: Any) -> list[Row]:
    return [dict(r) for r in cursor.fetchall()]


class Transaction:
    def __init__(self, dialect: Dialect, cursor: Any):
        self.dialect = dialect
        self.cursor = cursor

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(render(self.dialect, statement), list(params))

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        self.cursor.execute(render(self.dialect, statement), list(params))
        return _rows(self.cursor)

    def fetchone(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.fetchall(statement, params)
        return rows[0] if rows else None

    def write(self, *writes: RowWrite) -> None:
        apply_writes(self.dialect, self.cursor, writes)


class Database:
    """Runs statements on the event store's datastore (its pool and its transactions)."""

    def __init__(self, dialect: Dialect, datastore: Any):
        self.dialect = dialect
        self.datastore = datastore

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Transaction]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Transaction(self.dialect, cursor)

    def write(self, *writes: RowWrite) -> None:
        """Rows written and committed together. On PostgreSQL a single row is one INSERT in
        autocommit: committed as durably, in one round trip where a transaction takes three
        (the access-log entry of every read: that one is chained, see below)."""
        if self.dialect == "postgres" and all(w.table in CHAINED_TABLES for w in writes):
            self._append_chained_on_postgres(writes)
            return
        if self.dialect == "postgres" and len(writes) == 1:
            statement, params = render_write(self.dialect, writes[0])
            with self.datastore.get_connection() as conn:
                previous = conn.autocommit  # the library keeps its connections in autocommit
                conn.autocommit = True
                try:
                    conn.execute(statement, params)
                finally:
                    with contextlib.suppress(Exception):  # a broken connection is the pool's
                        conn.autocommit = previous
            return
        with self.transaction() as tx:
            tx.write(*writes)

    def _append_chained_on_postgres(self, writes: Sequence[RowWrite]) -> None:
        """Rows of a chained table (the entries of reads) in two round trips, not five:
        the transaction's start, the chain's lock and the read of its head go together, then
        the inserts and the commit. The lock is held from there until the commit."""
        with self.datastore.get_connection() as conn:
            previous = conn.autocommit  # the library keeps its connections in autocommit
            conn.autocommit = True
            try:
                with conn.pipeline():
                    conn.execute("BEGIN")
                    cursor = conn.cursor()
                    heads: Heads = {}
                    for write in writes:
                        linked = chained(self.dialect, cursor, write.table, write.values, heads)
                        row = RowWrite(write.table, linked)
                        conn.execute(*render_write(self.dialect, row))
                    conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):  # a broken connection is the pool's
                    conn.execute("ROLLBACK")
                raise
            finally:
                with contextlib.suppress(Exception):
                    conn.autocommit = previous

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        """One read statement (its own snapshot of the data, as any single statement)."""
        if self.dialect == "postgres":
            return self._fetch_in_autocommit(statement, params)
        # SQLite: the library's connections are in autocommit mode, where a statement
        # alone reads one consistent snapshot; a BEGIN and a ROLLBACK around it add
        # nothing but two more calls into SQLite on every lookup.
        with self.datastore.get_connection(commit=False) as conn, conn.cursor() as cursor:
            cursor.execute(statement, list(params))
            return _rows(cursor)

    def fetchone(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.fetchall(statement, params)
        return rows[0] if rows else None

    def _fetch_in_autocommit(self, statement: str, params: Sequence[Any]) -> list[Row]:
        """On PostgreSQL a transaction costs a round trip to begin and one to roll back:
        one statement alone needs neither (the lookups of every request: the caller's
        token, the trajectory's index row, the read models' positions)."""
        with self.datastore.get_connection() as conn:
            previous = conn.autocommit  # the library keeps its connections in autocommit
            conn.autocommit = True
            try:
                with conn.cursor() as cursor:
                    cursor.execute(render(self.dialect, statement), list(params))
                    return _rows(cursor)
            finally:
                with contextlib.suppress(Exception):  # a broken connection is the pool's
                    conn.autocommit = previous


class Reads(Protocol):
    def fetchone(self, statement: str, params: Sequence[Any] = ()) -> Row | None: ...


class LoopReader:
    """Single-statement reads on SQLite for the event loop's own thread.

    For the bearer-token lookup of every request: the hop to a worker thread and back
    costs more (0.3-0.5 ms under load) than the indexed read itself (tens of
    microseconds), and WAL readers never wait for the writer. Its own connection, opened
    on first use in the thread that uses it (SQLite refuses it from any other), set to
    read only, with a short busy time-out: a busy moment (a checkpoint truncating the WAL
    after an erasure) raises `sqlite3.Error` at once, and the caller falls back to the
    worker-thread path."""

    BUSY_TIMEOUT_SECONDS = 0.05

    def __init__(self, db_name: str):
        self.db_name = db_name
        self._conn: sqlite3.Connection | None = None
        self._thread: int | None = None

    def fetchone(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        if self._conn is None:
            conn = sqlite3.connect(
                self.db_name, uri=True, isolation_level=None, timeout=self.BUSY_TIMEOUT_SECONDS
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only = ON")
            self._conn, self._thread = conn, threading.get_ident()
        row = self._conn.execute(statement, list(params)).fetchone()
        return dict(row) if row is not None else None

    def close(self) -> None:
        """Closes the connection when called from the thread that opened it (a
        connection of another thread is left to the process's end)."""
        if self._conn is not None and self._thread == threading.get_ident():
            self._conn.close()
            self._conn = None
