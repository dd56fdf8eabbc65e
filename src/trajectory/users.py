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
        return _user(row) if row else None

    def by_id(self, user_id: str) -> User | None:
        row = self.db.fetchone(
            "SELECT user_id, name, role, organisation, revoked_at FROM users WHERE user_id = ?",
            [user_id],
        )
        return _user(row) if row else None

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
            password = read_password(args)
            if password is not None:
                from trajectory.web.credentials import check_password_policy

                check_password_policy(password)
            user, token = store.add(
                name=args.name, role=args.role, organisation=args.org, now=app.clock()
            )
            out.write(f"added {user.name} ({user.role}, {user.organisation}) id {user.user_id}\n")
            set_sign_in(app, user, args, out, password)
            out.write("token (shown once, store it safely):\n")
            out.write(f"{token}\n")
            return 0
        if args.users_command == "sign-in":
            found = store.find(args.name)
            if found is None:
                raise UserError(f"no user named {args.name!r}")
            if not (args.password or args.password_stdin or args.enrol_totp):
                raise UserError("give --password, --password-stdin and/or --enrol-totp")
            set_sign_in(app, found, args, out, read_password(args))
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


# -- web sign-in: password and TOTP (see trajectory.web.credentials) ---------------------------


def read_password(args: argparse.Namespace) -> str | None:
    """The password from standard input (`--password-stdin`, first line) or a prompt
    (`--password`, asked twice); None when neither was asked for."""
    import sys

    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    if getattr(args, "password", False):
        import getpass

        first = getpass.getpass("password: ")
        if getpass.getpass("password again: ") != first:
            raise UserError("the passwords differ")
        return first
    return None


def set_sign_in(
    app: object, user: User, args: argparse.Namespace, out: TextIO, password: str | None
) -> None:
    """Set the password and/or enrol TOTP as the options ask; print the enrolment (the
    otpauth URI, a terminal QR code and the secret) for the user's authenticator app."""
    import io

    import segno

    from trajectory.application import TrajectoryApplication
    from trajectory.web.credentials import Credentials, new_totp_secret, provisioning_uri

    assert isinstance(app, TrajectoryApplication)
    credentials = Credentials(app.db, app.keys)
    if password is not None:
        credentials.set_password(user.user_id, password)
        out.write("password set\n")
    if getattr(args, "enrol_totp", False):
        secret = new_totp_secret()
        credentials.save_totp(user.user_id, secret)
        uri = provisioning_uri(secret, user.name)
        qr = io.StringIO()
        segno.make(uri, error="m").terminal(out=qr, compact=True)
        out.write("TOTP enrolled: scan this code with an authenticator app (shown once)\n")
        out.write(qr.getvalue())
        out.write(f"{uri}\nsecret: {secret}\n")
