"""Refusing to run on a store that is configured to lose acknowledged writes.

A 201 is a promise that the fact is kept. SQLite keeps it only with `synchronous=FULL`
(set and checked on every connection, `DurableSQLitePool`); PostgreSQL only with `fsync`
on and `synchronous_commit` not `off` (either can be switched off per server, database or
role, often to make tests faster). Every process checks its store once at start-up and
refuses with `StoreNotDurable` unless told that the store is a throwaway test store
(`TRAJECTORY_THROWAWAY_STORE=1`); then it only warns.
"""

from __future__ import annotations

import sqlite3

import structlog

from trajectory.persistence.database import Database

log = structlog.get_logger("trajectory.persistence")

SQLITE_FULL = 2
"""`PRAGMA synchronous` answers a number: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA."""

THROWAWAY_HINT = "for a throwaway test store only, set TRAJECTORY_THROWAWAY_STORE=1"


class StoreNotDurable(Exception):
    """The store is configured so that an acknowledged write could be lost."""

    def __init__(self, store: str, problems: list[str], remedy: str):
        self.store = store
        self.problems = tuple(problems)
        super().__init__(
            f"refusing to run: the {store} store could lose acknowledged writes"
            f" ({'; '.join(problems)}). {remedy}; {THROWAWAY_HINT}"
        )


def require_full_sync(connection: sqlite3.Connection) -> None:
    """Raise unless this SQLite connection commits with synchronous=FULL (or EXTRA)."""
    (level,) = connection.execute("PRAGMA synchronous").fetchone()
    if int(level) < SQLITE_FULL:
        raise StoreNotDurable(
            "SQLite",
            [f"synchronous is {level}, not FULL (2)"],
            "SQLite refused PRAGMA synchronous=FULL",
        )


def postgres_problems(fsync: str, synchronous_commit: str) -> list[str]:
    """What in these server settings loses commits (empty: none)."""
    problems = []
    if fsync.strip().lower() != "on":
        problems.append(f"fsync is {fsync}")
    if synchronous_commit.strip().lower() == "off":
        problems.append("synchronous_commit is off")
    return problems


def check_durability(db: Database, *, throwaway: bool) -> None:
    """Once at start-up: refuse (or, for a throwaway store, warn about) settings that lose
    commits. On PostgreSQL `SHOW` gives the values in force for this database and role."""
    if db.dialect == "sqlite":
        row = db.fetchone("PRAGMA synchronous")
        level = int(next(iter(row.values()))) if row else -1
        problems = [] if level >= SQLITE_FULL else [f"synchronous is {level}, not FULL (2)"]
        remedy = "SQLite refused PRAGMA synchronous=FULL"
    else:
        fsync = db.fetchone("SHOW fsync") or {}
        commit = db.fetchone("SHOW synchronous_commit") or {}
        problems = postgres_problems(
            str(fsync.get("fsync", "?")), str(commit.get("synchronous_commit", "?"))
        )
        remedy = (
            "Turn them on in postgresql.conf (fsync = on, synchronous_commit = on) and remove"
            " any ALTER DATABASE/ROLE ... SET synchronous_commit = off"
        )
    if not problems:
        return
    if throwaway:
        log.warning("store_not_durable", store=db.dialect, problems=problems, throwaway=True)
        return
    store = "SQLite" if db.dialect == "sqlite" else "PostgreSQL"
    raise StoreNotDurable(store, problems, remedy)
