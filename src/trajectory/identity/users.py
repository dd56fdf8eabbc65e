"""The user store: users and their bearer tokens. Tokens are long random secrets, stored
only as hashes.

A token has 256 bits of entropy, so a plain SHA-256 is a safe, fast lookup key: slow
password hashes protect guessable secrets, which these are not. People's web sign-in
(password, TOTP) is `identity.credentials`; the `trajectory users` command line is
`identity.cli`. This module imports nothing of the application: the API, the pages and
the command line all stand on it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from trajectory.persistence.database import Database, Reads

ROLES = ("coordinator", "aftercare", "researcher", "admin")
TOKEN_PREFIX = "trj_"


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    role: str
    organisation: str
    revoked: bool = False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    def __init__(self, db: Database):
        self.db = db

    def add(
        self,
        *,
        name: str,
        role: str,
        organisation: str,
        now: datetime,
        user_id: str | None = None,
    ) -> tuple[User, str]:
        name, organisation = name.strip(), organisation.strip()
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        if not name or not organisation:
            raise UserError("a user needs a name and an organisation")
        if self.find(name) is not None:
            raise UserError(f"a user named {name!r} already exists")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        user = User(user_id or uuid.uuid4().hex, name, role, organisation)
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO users (user_id, name, role, organisation, token_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [user.user_id, name, role, organisation, token_hash(token), now.isoformat()],
            )
        return user, token

    def find(self, name: str) -> User | None:
        row = self.db.fetchone(
            "SELECT user_id, name, role, organisation, revoked_at FROM users WHERE name = ?",
            [name],
        )
        return user_of_row(row) if row else None

    def by_id(self, user_id: str) -> User | None:
        row = self.db.fetchone(
            "SELECT user_id, name, role, organisation, revoked_at FROM users WHERE user_id = ?",
            [user_id],
        )
        return user_of_row(row) if row else None

    def authenticate(self, token: str, *, via: Reads | None = None) -> User | None:
        """The active user holding this token, or None (unknown or revoked). `via`: read
        with another reader of the same store (the event loop's own, `LoopReader`)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = (via or self.db).fetchone(
            "SELECT user_id, name, role, organisation, revoked_at FROM users WHERE token_hash = ?",
            [token_hash(token)],
        )
        if row is None or row["revoked_at"] is not None:
            return None
        return user_of_row(row)

    def all(self) -> list[User]:
        rows = self.db.fetchall(
            "SELECT user_id, name, role, organisation, revoked_at FROM users ORDER BY name"
        )
        return [user_of_row(r) for r in rows]

    def reissue(self, name: str) -> str:
        """A new token for an existing user; the old one stops working at once."""
        user = self.find(name)
        if user is None:
            raise UserError(f"no user named {name!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE users SET token_hash = ?, revoked_at = NULL WHERE user_id = ?",
                [token_hash(token), user.user_id],
            )
        return token

    def revoke(self, name: str, now: datetime) -> User:
        user = self.find(name)
        if user is None:
            raise UserError(f"no user named {name!r}")
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE users SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [now.isoformat(), user.user_id],
            )
        return User(user.user_id, user.name, user.role, user.organisation, revoked=True)


def user_of_row(row: dict[str, object]) -> User:
    return User(
        user_id=str(row["user_id"]),
        name=str(row["name"]),
        role=str(row["role"]),
        organisation=str(row["organisation"]),
        revoked=row["revoked_at"] is not None,
    )
