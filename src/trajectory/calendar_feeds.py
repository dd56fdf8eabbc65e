"""Agenda feeds: a secret address per user from which her agenda app reads her due dates.

An agenda app cannot sign in, so the address itself is the key: 256 random bits, shown to
her once, of which only a hash is kept (as of the API's tokens). She has at most one live
address: making a new one revokes the old. A revoked address stays in the table, revoked
(when it was made and ended is what an audit asks). The feed carries no names
(`web.calendar_feed`), but it does tell when something is due for someone: who holds the
address holds that, so it is revocable at once.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from trajectory.identity.users import token_hash
from trajectory.persistence.database import Database

TABLE = "calendar_feeds"  # created by persistence.schema


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeeds:
    def __init__(self, db: Database):
        self.db = db

    def create(self, user_id: str, now: datetime) -> str:
        """A new address for her, the old one revoked in the same transaction: the secret,
        to be shown once."""
        secret = new_secret()
        with self.db.transaction() as tx:
            tx.execute(
                f"UPDATE {TABLE} SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [now.isoformat(), user_id],
            )
            tx.execute(
                f"INSERT INTO {TABLE} (token_hash, user_id, created_at) VALUES (?, ?, ?)",
                [token_hash(secret), user_id, now.isoformat()],
            )
        return secret

    def revoke(self, user_id: str, now: datetime) -> bool:
        """Revoke her live address; whether there was one."""
        live = self.live_since(user_id) is not None
        with self.db.transaction() as tx:
            tx.execute(
                f"UPDATE {TABLE} SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [now.isoformat(), user_id],
            )
        return live

    def live_since(self, user_id: str) -> datetime | None:
        """When her live address was made (None: she has none)."""
        row = self.db.fetchone(
            f"SELECT created_at FROM {TABLE} WHERE user_id = ? AND revoked_at IS NULL",
            [user_id],
        )
        return datetime.fromisoformat(str(row["created_at"])) if row else None

    def owner(self, secret: str) -> str | None:
        """The user whose live address this is (None: unknown or revoked)."""
        row = self.db.fetchone(
            f"SELECT user_id FROM {TABLE} WHERE token_hash = ? AND revoked_at IS NULL",
            [token_hash(secret)],
        )
        return str(row["user_id"]) if row else None
