"""Idempotent writes: a retried request with the same key records nothing new.

The record is written in the same transaction as the events it answers for, so a retry
after a crash finds either both or neither. The key belongs to the user who sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trajectory.persistence.database import Database, RowWrite


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    body: str
    location: str | None
    etag: str | None


class IdempotencyStore:
    def __init__(self, db: Database):
        self.db = db

    def find(self, user_id: str, key: str) -> StoredAnswer | None:
        row = self.db.fetchone(
            "SELECT request_hash, status_code, body, location, etag FROM idempotency"
            " WHERE user_id = ? AND idem_key = ?",
            [user_id, key],
        )
        if row is None:
            return None
        return StoredAnswer(
            request_hash=str(row["request_hash"]),
            status_code=int(row["status_code"]),
            body=str(row["body"]),
            location=row["location"],
            etag=row["etag"],
        )

    @staticmethod
    def row(
        *,
        user_id: str,
        key: str,
        trajectory_id: str,
        answer: StoredAnswer,
        now: datetime,
    ) -> RowWrite:
        return RowWrite(
            "idempotency",
            {
                "user_id": user_id,
                "idem_key": key,
                "request_hash": answer.request_hash,
                "trajectory_id": trajectory_id,
                "status_code": answer.status_code,
                "body": answer.body,
                "location": answer.location,
                "etag": answer.etag,
                "created_at": now.isoformat(),
            },
        )
