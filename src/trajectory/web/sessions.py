"""Server-side sessions of the web pages, in the database (`web_sessions`).

The browser holds a random session id in an HttpOnly, SameSite=Strict cookie; the
database holds only its SHA-256, so a copy of the table opens no session. A session is
one of two stages: `password` (the first factor passed, the TOTP code not yet: good for
nothing but the code page, for five minutes) and `full` (both factors). Every step up
gets a new id (no session fixation). A session ends after `idle` without a request, or
`absolute` after it began, whatever happens; signing out deletes it. Each session has its
own CSRF token, which every form carries back.

Re-authentication (password and code again) is noted with its time; an export or an
erasure needs one from the last five minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from trajectory.identity.users import User, UserStore
from trajectory.persistence.database import Database

Stage = Literal["password", "full"]
HALF_SESSION = timedelta(minutes=5)
REAUTH_FRESH = timedelta(minutes=5)
SESSION_COOKIE = "trj_session"


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    user: User
    stage: Stage
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    reauth_at: datetime | None
    pending_secret: str | None

    def reauthenticated(self, now: datetime) -> bool:
        return self.reauth_at is not None and now - self.reauth_at <= REAUTH_FRESH

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and secrets.compare_digest(token, self.csrf_token)


class SessionStore:
    def __init__(
        self,
        db: Database,
        users: UserStore,
        *,
        idle: timedelta = timedelta(minutes=15),
        absolute: timedelta = timedelta(hours=8),
    ):
        self.db = db
        self.users = users
        self.idle = idle
        self.absolute = absolute

    def start(
        self, user_id: str, stage: Stage, now: datetime, *, replacing: str | None = None,
        created_at: datetime | None = None,
    ) -> tuple[str, WebSession]:
        """A new session (and id); the one it replaces, if any, ends in the same
        transaction. The absolute time-out counts from `created_at` (the first step)."""
        session_id = secrets.token_urlsafe(32)
        id_hash = session_hash(session_id)
        csrf = secrets.token_urlsafe(32)
        began = created_at or now
        with self.db.transaction() as tx:
            if replacing is not None:
                tx.execute("DELETE FROM web_sessions WHERE session_hash = ?", [replacing])
            # Expired sessions of anyone are swept on the way (the table stays small).
            tx.execute(
                "DELETE FROM web_sessions WHERE last_seen_at < ? OR created_at < ?",
                [(now - self.idle).isoformat(), (now - self.absolute).isoformat()],
            )
            tx.execute(
                "INSERT INTO web_sessions (session_hash, user_id, stage, csrf_token,"
                " created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                [id_hash, user_id, stage, csrf, began.isoformat(), now.isoformat()],
            )
        user = self.users.by_id(user_id)
        assert user is not None
        return session_id, WebSession(id_hash, user, stage, csrf, began, now, None, None)

    def load(self, session_id: str | None, now: datetime) -> WebSession | None:
        """The live session with this id, touched; None when unknown, timed out, or its
        user was revoked (a timed-out session is deleted)."""
        if not session_id or len(session_id) > 100:
            return None
        id_hash = session_hash(session_id)
        row = self.db.fetchone("SELECT * FROM web_sessions WHERE session_hash = ?", [id_hash])
        if row is None:
            return None
        session = self._session(row)
        if session is None or self._expired(session, now):
            self.end_hash(id_hash)
            return None
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE web_sessions SET last_seen_at = ? WHERE session_hash = ?",
                [now.isoformat(), id_hash],
            )
        return session

    def _expired(self, s: WebSession, now: datetime) -> bool:
        if s.stage == "password":
            return now - s.created_at > HALF_SESSION
        return now - s.last_seen_at > self.idle or now - s.created_at > self.absolute

    def _session(self, row: dict[str, Any]) -> WebSession | None:
        user = self.users.by_id(str(row["user_id"]))
        if user is None or user.revoked:
            return None
        stage: Stage = "full" if row["stage"] == "full" else "password"
        reauth = row["reauth_at"]
        return WebSession(
            id_hash=str(row["session_hash"]),
            user=user,
            stage=stage,
            csrf_token=str(row["csrf_token"]),
            created_at=datetime.fromisoformat(str(row["created_at"])),
            last_seen_at=datetime.fromisoformat(str(row["last_seen_at"])),
            reauth_at=datetime.fromisoformat(str(reauth)) if reauth else None,
            pending_secret=str(row["pending_secret"]) if row["pending_secret"] else None,
        )

    def end_hash(self, id_hash: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE session_hash = ?", [id_hash])

    def of_user(self, user_id: str, now: datetime) -> list[WebSession]:
        """The user's live, signed-in sessions, the most recently used first: what her
        sessions page lists, so that she sees a session she did not start."""
        rows = self.db.fetchall(
            "SELECT * FROM web_sessions WHERE user_id = ? AND stage = 'full'"
            " ORDER BY last_seen_at DESC",
            [user_id],
        )
        found = [self._session(row) for row in rows]
        return [s for s in found if s is not None and not self._expired(s, now)]

    def end_of_user(self, user_id: str, id_hash: str) -> bool:
        """End one of the user's sessions; False if she has none with that hash (a
        session of someone else is never ended this way)."""
        with self.db.transaction() as tx:
            row = tx.fetchone(
                "SELECT 1 AS one FROM web_sessions WHERE session_hash = ? AND user_id = ?",
                [id_hash, user_id],
            )
            if row is None:
                return False
            tx.execute("DELETE FROM web_sessions WHERE session_hash = ?", [id_hash])
        return True

    def end_all_for(self, user_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE user_id = ?", [user_id])

    def mark_reauthenticated(self, id_hash: str, now: datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE web_sessions SET reauth_at = ? WHERE session_hash = ?",
                [now.isoformat(), id_hash],
            )

    def set_pending_secret(self, id_hash: str, wrapped: str | None) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE web_sessions SET pending_secret = ? WHERE session_hash = ?",
                [wrapped, id_hash],
            )

    def count(self) -> int:
        row = self.db.fetchone("SELECT COUNT(*) AS n FROM web_sessions")
        return int(row["n"]) if row else 0
