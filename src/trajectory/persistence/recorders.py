"""Application recorders that write extra rows in the same transaction as the events.

`app.save(trajectory, also=[RowWrite(...)])` reaches `_insert_events(..., also=...)`:
the index row, the access-log entry and the idempotency record of a command commit or
fail together with its events. Nothing is acknowledged that was not all written.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
)

from trajectory.persistence.database import RowWrite, apply_writes
from trajectory.persistence.durability import require_full_sync
from trajectory.persistence.schema import OWNED_BY_ANOTHER_ROLE, SCHEMA_LOCK


class AtomicSQLiteRecorder(SQLiteApplicationRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        also: Sequence[RowWrite] = kwargs.get("also", ())
        apply_writes("sqlite", c, also)
        return ids


F = TypeVar("F", bound=Callable[..., Any])


def _lost_connection(error: BaseException) -> bool:
    """The statement failed because its pooled connection had died (the server restarted,
    the network dropped it), not because the database could not be reached in time."""
    cause = error.__cause__
    if isinstance(cause, psycopg_pool.PoolTimeout):
        return False
    if isinstance(cause, psycopg.InterfaceError):
        return True
    if isinstance(cause, psycopg.OperationalError):
        state = cause.sqlstate
        return state is None or state.startswith(("08", "57P"))
    return False


def _once(method: Any) -> Any:
    """The library's method without its retries.

    The library retries a failed statement up to 10 times, 0.2 s apart, and each try may
    wait for a pooled connection (up to `db_lock_timeout_seconds`): while the database was
    down a request hung for up to a minute instead of answering 503."""
    return method.__wrapped__


def _retry_lost_connections(method: F) -> F:
    """A read retried at once on another connection while the one it got had died (after
    a restart the pool still holds dead ones); never after a wait for the pool in vain, a
    lock timeout or any other error: those answer 503 now."""
    inner = _once(method)

    @functools.wraps(inner)
    def retrying(self: Any, *args: Any, **kwargs: Any) -> Any:
        attempts = 1 + int(self.datastore.pool.max_size)
        for attempt in range(1, attempts + 1):
            try:
                return inner(self, *args, **kwargs)
            except (InterfaceError, OperationalError) as e:
                if attempt == attempts or not _lost_connection(e):
                    raise
        raise AssertionError("unreachable")

    return retrying  # type: ignore[return-value]


class TransactionAborted(OperationalError):
    """A write's transaction was aborted by an error psycopg did not name: its pipeline
    reports `PipelineAborted` for every statement after the first failure, and on commit
    sometimes only that (seen when a concurrent writer had committed a conflicting row).
    Nothing was committed."""


def _write_once(method: F) -> F:
    """A write tried once (see `AtomicPostgresRecorder`), its unnamed abort made known."""
    inner = _once(method)

    @functools.wraps(inner)
    def writing(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return inner(self, *args, **kwargs)
        except OperationalError as e:
            if isinstance(e.__cause__, psycopg.errors.PipelineAborted):
                raise TransactionAborted(str(e)) from e.__cause__
            raise

    return writing  # type: ignore[return-value]


class SchemaLockedSetUp:
    """The event store's own set-up, under the schema lock our tables take.

    The library creates its types, tables and its insert function outside any lock;
    two processes starting at once then both `CREATE OR REPLACE` that function, and one
    fails with "tuple concurrently updated" and exits. Each of its statements here runs
    only while holding `SCHEMA_LOCK` (a type that exists already is no error)."""

    datastore: Any
    sql_create_statements: list[Any]

    def create_table(self) -> None:
        for statement in self.sql_create_statements:
            if "CREATE TYPE" in statement.as_string():
                with (
                    self.datastore.transaction(commit=True) as curs,
                    contextlib.suppress(psycopg.errors.DuplicateObject),
                ):
                    curs.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
                    curs.execute(statement, prepare=False)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
            for statement in self.sql_create_statements:
                if "CREATE TYPE" not in statement.as_string():
                    curs.execute(statement, prepare=False)
        self.datastore.register_type_adapters()


class BoundedPostgresAggregateRecorder(SchemaLockedSetUp, PostgresAggregateRecorder):
    """Snapshots. A write is tried once (see `AtomicPostgresRecorder`)."""

    insert_events = _write_once(PostgresAggregateRecorder.insert_events)
    select_events = _retry_lost_connections(PostgresAggregateRecorder.select_events)


class AtomicPostgresRecorder(SchemaLockedSetUp, PostgresApplicationRecorder):
    # A write is tried once: a connection lost during the commit leaves unknown whether it
    # committed, and only the client's Idempotency-Key can retry that safely.
    insert_events = _write_once(PostgresApplicationRecorder.insert_events)
    select_events = _retry_lost_connections(PostgresApplicationRecorder.select_events)
    select_notifications = _retry_lost_connections(
        PostgresApplicationRecorder.select_notifications
    )
    max_notification_id = _retry_lost_connections(PostgresApplicationRecorder.max_notification_id)

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


RECONNECT_TIMEOUT = 10.0
"""Seconds the pool keeps retrying one lost connection before it starts afresh."""


class AtomicPostgresFactory(PostgresFactory):
    application_recorder_class = AtomicPostgresRecorder
    aggregate_recorder_class = BoundedPostgresAggregateRecorder

    def __init__(self, env: Any):
        super().__init__(env)
        pool = self.datastore.pool
        # After an outage the pool retries each lost connection with a doubling pause (1, 2,
        # 4, ... s) for 5 minutes by default: a database back after a minute stayed unused
        # for up to a minute more. Giving up on a retry after 10 s makes the next request
        # start a fresh attempt at once, so service resumes within seconds of its return.
        pool.reconnect_timeout = RECONNECT_TIMEOUT
        # The pool's own connects (replacing lost connections) would otherwise wait for an
        # unreachable host as long as the operating system lets them.
        assert isinstance(pool.kwargs, dict)
        pool.kwargs["connect_timeout"] = max(1, round(pool.timeout))
        # No server-side prepared statements. After a write's transaction is rolled back
        # (a conflict), psycopg forgets its prepared statements and sends DEALLOCATE ALL
        # with a later command; in pipeline mode that can come after the next write has
        # prepared one again, which then fails ("prepared statement _pg3_6 does not
        # exist") on that connection: 503s under concurrent writers.
        pool.kwargs["prepare_threshold"] = None
        self.runtime_role = _probe_postgres(pool)

    def env_create_table(self) -> bool:
        # Under the runtime role the owner role has made the tables (`trajectory init`),
        # and this role may not alter them.
        return not self.runtime_role and bool(super().env_create_table())


def _probe_postgres(pool: Any) -> bool:
    """Connect once, directly, before the pool is used; whether the tables belong to
    another role (we are the runtime role).

    The pool retries until its timeout and then says only that it waited; one direct
    attempt fails at once with the server's reason (refused, no such database, password)."""
    kwargs = {k: v for k, v in dict(pool.kwargs or {}).items() if k != "row_factory"}
    with psycopg.connect(**kwargs) as conn:
        return conn.execute(OWNED_BY_ANOTHER_ROLE).fetchone() is not None
