"""The user store: users and their bearer tokens. Tokens are long random secrets, stored
only as hashes.

A user's token expires (`token_days` after it was issued, 90 by default), is replaced by
`rotate` (the old one ends at once) and carries scopes: what it may do (`read`, `write`).
The irreversible acts (`export`, `erase`) are in no long-lived token: they need a step-up
token, issued for a few minutes after the person proved herself again with her password
and a TOTP code (`identity.step_up`), so that a leaked bearer token alone cannot erase or
export. A token issued before tokens had lifetimes (no expiry stored) expires
`token_days` after the user was created.

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
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from trajectory.persistence.database import Database, Reads

ROLES = ("coordinator", "aftercare", "researcher", "admin", "quality", "inspector", "privacy")
"""`quality`: an organisation's quality officer (its own duties, its matrix and signals,
never a girl's name); `inspector`: installation-wide figures of every organisation,
small cells suppressed, never a record; `privacy`: an organisation's privacy officer
(who looked at which file: the access log, the review of emergency accesses, the
anomaly signals; never a record)."""
TOKEN_PREFIX = "trj_"
STEP_UP_PREFIX = "trjs_"
"""Step-up tokens look different, so that the lookup knows where to look (and people too)."""
DEFAULT_TOKEN_DAYS = 90
STEP_UP_MINUTES = 5

ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "coordinator": ("read", "write"),
    "aftercare": ("read", "write"),
    "researcher": ("read",),
    "admin": ("read", "write"),
    "quality": ("read", "write"),
    "inspector": ("read",),
    "privacy": ("read", "write"),
}
"""What a long-lived token of each role carries: never a sensitive act."""
STEP_UP_SCOPES: dict[str, tuple[str, ...]] = {"researcher": ("export",), "admin": ("erase",)}
"""What a step-up token of each role carries: only the sensitive acts of that role."""
SENSITIVE_SCOPES = frozenset({"export", "erase"})


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class User:
    """`name` is what she signs in with; `display_name` is how pages name her to others
    ("Anna de Vries"): the login name is a credential's half and the id a key, and a care
    record names people as people. Users made before display names read as their login
    name until an administrator gives one."""

    user_id: str
    name: str
    role: str
    organisation: str
    revoked: bool = False
    display_name: str = ""

    @property
    def shown_name(self) -> str:
        """How every page names her: her display name, else her login name."""
        return self.display_name or self.name


@dataclass(frozen=True)
class Bearer:
    """Who holds a token, what it may do and until when."""

    user: User
    scopes: frozenset[str]
    expires_at: datetime
    step_up: bool = False


@dataclass(frozen=True)
class TokenInfo:
    """What `users list` shows of a user's token: never the token."""

    user: User
    scopes: tuple[str, ...]
    expires_at: datetime


class TokenExpired(Exception):
    """A genuine token past its lifetime (told apart from an unknown one, so that its
    holder learns to ask for a new one rather than to check what she typed)."""

    def __init__(self, expires_at: datetime, step_up: bool):
        super().__init__(f"the token expired at {expires_at.isoformat()}")
        self.expires_at = expires_at
        self.step_up = step_up


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_USER = "user_id, name, role, organisation, revoked_at, display_name"
_TOKEN_COLUMNS = f"{_USER}, created_at, token_expires_at, token_scopes"


class UserStore:
    def __init__(self, db: Database, *, token_days: int = DEFAULT_TOKEN_DAYS):
        self.db = db
        self.token_lifetime = timedelta(days=token_days)

    def add(
        self,
        *,
        name: str,
        role: str,
        organisation: str,
        now: datetime,
        user_id: str | None = None,
        display_name: str = "",
    ) -> tuple[User, str]:
        name, organisation = name.strip(), organisation.strip()
        display_name = " ".join(display_name.split())
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        if not name or not organisation:
            raise UserError("a user needs a name and an organisation")
        if self.find(name) is not None:
            raise UserError(f"a user named {name!r} already exists")
        token = new_token()
        user = User(user_id or uuid.uuid4().hex, name, role, organisation,
                    display_name=display_name)
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO users (user_id, name, role, organisation, token_hash, created_at,"
                " token_expires_at, token_scopes, display_name)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    user.user_id, name, role, organisation, token_hash(token), now.isoformat(),
                    (now + self.token_lifetime).isoformat(), " ".join(ROLE_SCOPES[role]),
                    display_name or None,
                ],
            )
        return user, token

    def find(self, name: str) -> User | None:
        row = self.db.fetchone(
            f"SELECT {_USER} FROM users WHERE name = ?",
            [name],
        )
        return user_of_row(row) if row else None

    def by_id(self, user_id: str) -> User | None:
        row = self.db.fetchone(
            f"SELECT {_USER} FROM users WHERE user_id = ?",
            [user_id],
        )
        return user_of_row(row) if row else None

    def authenticate(
        self, token: str, *, now: datetime | None = None, via: Reads | None = None
    ) -> User | None:
        """The active user holding this token, or None (unknown, revoked or, when `now` is
        given, expired)."""
        try:
            bearer = self.check_token(token, now=now, via=via)
        except TokenExpired:
            return None
        return bearer.user if bearer else None

    def check_token(
        self, token: str, *, now: datetime | None, via: Reads | None = None
    ) -> Bearer | None:
        """The bearer of an active token, or None (unknown, malformed, revoked); raises
        TokenExpired for a genuine one past its lifetime (`now` None: lifetimes are not
        checked). `via`: read with another reader of the same store (the event loop's own,
        `LoopReader`)."""
        if len(token) > 200:
            return None
        reads = via or self.db
        if token.startswith(STEP_UP_PREFIX):
            row = reads.fetchone(
                "SELECT u.user_id, u.name, u.role, u.organisation, u.revoked_at,"
                " u.display_name, s.scopes, s.expires_at FROM step_up_tokens s JOIN users u"
                " ON u.user_id = s.user_id WHERE s.token_hash = ?",
                [token_hash(token)],
            )
            if row is None or row["revoked_at"] is not None:
                return None
            bearer = Bearer(
                user_of_row(row),
                frozenset(str(row["scopes"]).split()),
                datetime.fromisoformat(str(row["expires_at"])),
                step_up=True,
            )
        elif token.startswith(TOKEN_PREFIX):
            row = reads.fetchone(
                f"SELECT {_TOKEN_COLUMNS} FROM users WHERE token_hash = ?", [token_hash(token)]
            )
            if row is None or row["revoked_at"] is not None:
                return None
            info = self._token_info(row)
            # never a sensitive act, whatever the row says: those need the person
            scopes = frozenset(info.scopes) - SENSITIVE_SCOPES
            bearer = Bearer(info.user, scopes, info.expires_at)
        else:
            return None
        if now is not None and now >= bearer.expires_at:
            raise TokenExpired(bearer.expires_at, bearer.step_up)
        return bearer

    def _token_info(self, row: dict[str, object]) -> TokenInfo:
        user = user_of_row(row)
        stored_expiry, stored_scopes = row["token_expires_at"], row["token_scopes"]
        if stored_expiry is None:  # issued before tokens had lifetimes
            expires_at = datetime.fromisoformat(str(row["created_at"])) + self.token_lifetime
        else:
            expires_at = datetime.fromisoformat(str(stored_expiry))
        if stored_scopes is None:  # the same: the role's scopes
            scopes = ROLE_SCOPES.get(user.role, ())
        else:
            scopes = tuple(str(stored_scopes).split())
        return TokenInfo(user, scopes, expires_at)

    def tokens(self) -> list[TokenInfo]:
        """Every user's token: its scopes and expiry (`users list`)."""
        rows = self.db.fetchall(f"SELECT {_TOKEN_COLUMNS} FROM users ORDER BY name")
        return [self._token_info(r) for r in rows]

    def issue_step_up(self, user: User, now: datetime) -> tuple[str, Bearer]:
        """A step-up token for `user`, good for STEP_UP_MINUTES and only for the sensitive
        acts of her role. The caller has checked her password and TOTP code
        (`identity.step_up`). Expired step-up tokens are cleared on the way."""
        scopes = STEP_UP_SCOPES.get(user.role, ())
        if not scopes:
            raise UserError(f"the role {user.role} has no acts that need a step-up")
        token = new_token(STEP_UP_PREFIX)
        expires_at = now + timedelta(minutes=STEP_UP_MINUTES)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM step_up_tokens WHERE expires_at < ?", [now.isoformat()])
            tx.execute(
                "INSERT INTO step_up_tokens (token_hash, user_id, scopes, issued_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [token_hash(token), user.user_id, " ".join(scopes), now.isoformat(),
                 expires_at.isoformat()],
            )
        return token, Bearer(user, frozenset(scopes), expires_at, step_up=True)

    def all(self) -> list[User]:
        rows = self.db.fetchall(f"SELECT {_USER} FROM users ORDER BY name")
        return [user_of_row(r) for r in rows]

    def rotate(self, name: str, now: datetime) -> tuple[TokenInfo, str]:
        """A new token for an active user, with a new lifetime and the same scopes; the old
        token and her step-up tokens stop working at once. A revoked user gets none (that
        would undo the revocation): add her again under another name."""
        user = self.find(name)
        if user is None:
            raise UserError(f"no user named {name!r}")
        if user.revoked:
            raise UserError(f"{name!r} is revoked; a revoked user gets no new token")
        return self._reissue(user, now, unrevoke=False)

    def reissue(self, name: str, now: datetime) -> str:
        """A new token for an existing user, revoked or not (the demo's users at each
        start); the old one stops working at once."""
        user = self.find(name)
        if user is None:
            raise UserError(f"no user named {name!r}")
        return self._reissue(user, now, unrevoke=True)[1]

    def _reissue(self, user: User, now: datetime, *, unrevoke: bool) -> tuple[TokenInfo, str]:
        row = self.db.fetchone(f"SELECT {_TOKEN_COLUMNS} FROM users WHERE user_id = ?",
                               [user.user_id])
        assert row is not None
        scopes = self._token_info(row).scopes
        token = new_token()
        expires_at = now + self.token_lifetime
        revoked = "revoked_at = NULL, " if unrevoke else ""
        with self.db.transaction() as tx:
            tx.execute(
                f"UPDATE users SET {revoked}token_hash = ?, token_expires_at = ?,"
                " token_scopes = ? WHERE user_id = ?",
                [token_hash(token), expires_at.isoformat(), " ".join(scopes), user.user_id],
            )
            tx.execute("DELETE FROM step_up_tokens WHERE user_id = ?", [user.user_id])
        active = replace(user, revoked=user.revoked and not unrevoke)
        return TokenInfo(active, scopes, expires_at), token

    def set_display_name(self, user_id: str, display_name: str) -> None:
        """How the pages name her from now on (empty: by her login name again). Stored
        facts keep her user id, so every page, old entries too, shows the new name."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE users SET display_name = ? WHERE user_id = ?",
                       [" ".join(display_name.split()) or None, user_id])

    def revoke(self, name: str, now: datetime) -> User:
        user = self.find(name)
        if user is None:
            raise UserError(f"no user named {name!r}")
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE users SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [now.isoformat(), user.user_id],
            )
            tx.execute("DELETE FROM step_up_tokens WHERE user_id = ?", [user.user_id])
        return replace(user, revoked=True)


def user_of_row(row: dict[str, object]) -> User:
    return User(
        user_id=str(row["user_id"]),
        name=str(row["name"]),
        role=str(row["role"]),
        organisation=str(row["organisation"]),
        revoked=row["revoked_at"] is not None,
        display_name=str(row.get("display_name") or ""),
    )


def names_of(users: UserStore) -> Callable[[str], str]:
    """How every page and answer names a person, by her user id: her display name (the
    same in the history, the access log, the handover and the admin's pages), each looked
    up once. An id no user has (a user from another installation) stays itself."""
    known: dict[str, str] = {}

    def name(user_id: str) -> str:
        if user_id not in known:
            found = users.by_id(user_id)
            known[user_id] = found.shown_name if found is not None else user_id
        return known[user_id]

    return name
