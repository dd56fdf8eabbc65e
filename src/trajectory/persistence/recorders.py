"""Application recorders that write extra rows in the same transaction as the events.

`app.save(trajectory, also=[RowWrite(...)])` reaches `_insert_events(..., also=...)`:
the index row, the access-log entry and the idempotency record of a command commit or
fail together with its events. Nothing is acknowledged that was not all written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
)

from trajectory.persistence.database import RowWrite, apply_writes
from trajectory.persistence.durability import require_full_sync


class AtomicSQLiteRecorder(SQLiteApplicationRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        also: Sequence[RowWrite] = kwargs.get("also", ())
        apply_writes("sqlite", c, also)
        return ids


class AtomicPostgresRecorder(PostgresApplicationRecorder):
    def _insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        also: Sequence[RowWrite] = kwargs.get("also", ())
        apply_writes("postgres", curs, also)


class DurableSQLitePool(SQLiteConnectionPool):
    """Every connection commits with synchronous=FULL: an acknowledged write survives a
    power cut, not only a crash of the process."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        raw: sqlite3.Connection = connection._sqlite_conn
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("PRAGMA foreign_keys=ON")
        # Deleted content (an erased trajectory's data key) is overwritten, not left behind.
        raw.execute("PRAGMA secure_delete=ON")
        require_full_sync(raw)
        return connection


class DurableSQLiteFactory(SQLiteFactory):
    application_recorder_class = AtomicSQLiteRecorder

    def __init__(self, env: Any):
        super().__init__(env)
        pool = self.datastore.pool
        self.datastore.pool = DurableSQLitePool(
            db_name=pool.db_name, lock_timeout=pool.lock_timeout
        )


class AtomicPostgresFactory(PostgresFactory):
    application_recorder_class = AtomicPostgresRecorder

    def __init__(self, env: Any):
        super().__init__(env)
        _probe_postgres(self.datastore.pool)


def _probe_postgres(pool: Any) -> None:
    """Connect once, directly, before the pool is used.

    The pool retries until its timeout and then says only that it waited; one direct
    attempt fails at once with the server's reason (refused, no such database, password)."""
    kwargs = {k: v for k, v in dict(pool.kwargs or {}).items() if k != "row_factory"}
    with psycopg.connect(**kwargs, connect_timeout=max(1, round(pool.timeout))):
        pass
