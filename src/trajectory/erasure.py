"""Crypto-shredding: destroy a trajectory by deleting its data key.

In one transaction: the erasure is recorded (who, when, why, on what legal ground) in an
append-only table; the data key, the index row, the idempotency records and every
read-model row of the trajectory are deleted; the act is access-logged. The events and
snapshots stay, sealed under a key that no longer exists, so the rest of the log and
every other trajectory's hash chain are untouched. Afterwards the freed pages are wiped
(SQLite: secure_delete and a WAL checkpoint; PostgreSQL: VACUUM FULL of the key table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args
from uuid import UUID

import psycopg
import structlog

from trajectory.access_log import AccessEntry
from trajectory.aggregates.errors import RuleRefused, TrajectoryNotFound
from trajectory.application import Actor, TrajectoryApplication
from trajectory.crypto import TrajectoryErased
from trajectory.persistence.database import RowWrite, Transaction

log = structlog.get_logger("trajectory.erasure")

LegalGround = Literal["retention-expired", "request-granted", "court-order", "other"]
LEGAL_GROUNDS: tuple[str, ...] = get_args(LegalGround)

ErasureHook = Callable[[Transaction, str], None]
"""Removes one trajectory's rows from a read model, inside the erasure's transaction."""


@dataclass(frozen=True)
class Erasure:
    trajectory_id: str
    organisation: str
    erased_at: datetime
    erased_by: str
    reason: str
    legal_ground: str


def erase(
    app: TrajectoryApplication,
    trajectory_id: UUID,
    *,
    by: Actor,
    reason: str,
    legal_ground: str,
    client: str | None = None,
    request_id: str | None = None,
    hooks: tuple[ErasureHook, ...] = (),
) -> Erasure:
    if not reason.strip():
        raise RuleRefused("an erasure needs a reason", code="reason-required")
    if legal_ground not in LEGAL_GROUNDS:
        raise RuleRefused(
            f"legal ground must be one of {', '.join(LEGAL_GROUNDS)}", code="legal-ground-invalid"
        )
    tid = str(trajectory_id)
    keys = app.keys
    if keys is None:
        raise RuleRefused(
            "this store is not encrypted, so it cannot be crypto-shredded",
            code="erasure-needs-encryption",
        )
    row = app.db.fetchone(
        "SELECT organisation, receiving_worker FROM trajectory_index WHERE trajectory_id = ?",
        [tid],
    )
    if row is None:
        if keys.is_erased(trajectory_id):
            raise TrajectoryErased(trajectory_id)
        raise TrajectoryNotFound(trajectory_id)
    if row["organisation"] != by.organisation:
        raise TrajectoryNotFound(trajectory_id)
    now = app.clock()
    erasure = Erasure(tid, str(row["organisation"]), now, by.user_id, reason.strip(), legal_ground)
    with app.db.transaction() as tx:
        tx.write(
            RowWrite(
                "erasures",
                {
                    "trajectory_id": tid,
                    "organisation": erasure.organisation,
                    "receiving_worker": row["receiving_worker"],
                    "erased_at": now.isoformat(),
                    "erased_by": by.user_id,
                    "reason": erasure.reason,
                    "legal_ground": legal_ground,
                },
            ),
            AccessEntry.by(by, at=now, action="erase", outcome="ok", trajectory_id=tid,
                           client=client, request_id=request_id).row(),
        )
        # the intake fingerprint too: after erasure her name and birth date match nobody
        for table in ("data_keys", "trajectory_index", "idempotency", "intake_fingerprints"):
            tx.execute(f"DELETE FROM {table} WHERE trajectory_id = ?", [tid])
        for hook in (*app.erasure_hooks, *hooks):
            hook(tx, tid)
    keys.forget(trajectory_id)
    _wipe_freed_pages(app)
    log.info("trajectory_erased", trajectory_id=tid, legal_ground=legal_ground)
    return erasure


def _wipe_freed_pages(app: TrajectoryApplication) -> None:
    """Leave no copy of the deleted key in free pages or the write-ahead log."""
    if app.dialect == "sqlite":
        with app.db.transaction(commit=False) as tx:
            tx.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    try:
        with psycopg.connect(app.settings.database_url, autocommit=True) as conn:
            conn.execute("VACUUM FULL data_keys")
    except psycopg.Error as e:  # the erasure stands; the wipe is retried by the next one
        log.warning("vacuum_after_erasure_failed", error_type=type(e).__name__)


def erasure_of(app: TrajectoryApplication, trajectory_id: UUID) -> Erasure | None:
    row = app.db.fetchone(
        "SELECT trajectory_id, organisation, erased_at, erased_by, reason, legal_ground"
        " FROM erasures WHERE trajectory_id = ?",
        [str(trajectory_id)],
    )
    if row is None:
        return None
    return Erasure(
        trajectory_id=str(row["trajectory_id"]),
        organisation=str(row["organisation"]),
        erased_at=datetime.fromisoformat(str(row["erased_at"])),
        erased_by=str(row["erased_by"]),
        reason=str(row["reason"]),
        legal_ground=str(row["legal_ground"]),
    )
