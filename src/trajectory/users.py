"""Users and their bearer tokens. Tokens are long random secrets, stored only as hashes.

A token has 256 bits of entropy, so a plain SHA-256 is a safe, fast lookup key: slow
password hashes protect guessable secrets, which these are not.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from trajectory.persistence.database import Database

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
        return _user(row) if row else None

    def by_id(self, user_id: str) -> User | None:
        row = self.db.fetchone(
            "SELECT user_id, name, role, organisation, revoked_at FROM users WHERE user_id = ?",
            [user_id],
        )
        return _user(row) if row else None

    def authenticate(self, token: str) -> User | None:
        """The active user holding this token, or None (unknown or revoked)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = self.db.fetchone(
            "SELECT user_id, name, role, organisation, revoked_at FROM users WHERE token_hash = ?",
            [token_hash(token)],
        )
        if row is None or row["revoked_at"] is not None:
            return None
        return _user(row)

    def all(self) -> list[User]:
        rows = self.db.fetchall(
            "SELECT user_id, name, role, organisation, revoked_at FROM users ORDER BY name"
        )
        return [_user(r) for r in rows]

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


def _user(row: dict[str, object]) -> User:
    return User(
        user_id=str(row["user_id"]),
        name=str(row["name"]),
        role=str(row["role"]),
        organisation=str(row["organisation"]),
        revoked=row["revoked_at"] is not None,
    )


def users_command(app: object, args: argparse.Namespace, out: TextIO) -> int:
    """`trajectory users add|list|revoke`; the token is printed once, as the last line."""
    from trajectory.application import TrajectoryApplication

    assert isinstance(app, TrajectoryApplication)
    store = UserStore(app.db)
    try:
        if args.users_command == "add":
            user, token = store.add(
                name=args.name, role=args.role, organisation=args.org, now=app.clock()
            )
            out.write(f"added {user.name} ({user.role}, {user.organisation}) id {user.user_id}\n")
            out.write("token (shown once, store it safely):\n")
            out.write(f"{token}\n")
            return 0
        if args.users_command == "list":
            for user in store.all():
                state = "revoked" if user.revoked else "active"
                out.write(
                    f"{user.name}\t{user.role}\t{user.organisation}\t{user.user_id}\t{state}\n"
                )
            return 0
        if args.users_command == "revoke":
            user = store.revoke(args.name, app.clock())
            out.write(f"revoked {user.name}\n")
            return 0
    except UserError as e:
        import sys

        print(f"trajectory: {e}", file=sys.stderr)
        return 2
    return 2
