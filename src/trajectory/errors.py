"""Turning failures at the edges (database unreachable, bad files) into plain messages."""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing.persistence import PersistenceError

from trajectory.aggregates.errors import TrajectoryNotFound
from trajectory.crypto import KeyProblem, TrajectoryErased
from trajectory.persistence.durability import StoreNotDurable
from trajectory.protocol import ProtocolError


def describe_startup_error(error: BaseException) -> str | None:
    """A message for a terminal user, or None when the error is a bug to show in full."""
    if isinstance(error, ProtocolError):
        return str(error)
    if isinstance(error, TrajectoryNotFound):
        return f"no trajectory with id {error.trajectory_id}"
    if isinstance(error, TrajectoryErased):
        return f"trajectory {error.trajectory_id} was erased (crypto-shredded)"
    if isinstance(error, (KeyProblem, StoreNotDurable)):
        return str(error)
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, psycopg.OperationalError):
            first = str(cause).strip().splitlines()[0] if str(cause).strip() else "no answer"
            return f"cannot reach the PostgreSQL database: {first}"
        if isinstance(cause, sqlite3.Error):
            return f"cannot use the SQLite database: {cause}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, PersistenceError):
        return f"database error: {error}"
    return None
