"""Personal sign-in credentials: a password (argon2id) and a TOTP second factor.

Bearer tokens (`identity.users`) are for programs; people sign in to the web pages with both
factors, never one. The password is stored only as an argon2id hash; the TOTP secret is
stored wrapped by the master key (like the data keys), so a stolen database reveals
neither. A TOTP code is accepted once: the time step it matched is remembered, and a code
of that step or an earlier one is refused afterwards (no replay of an observed code).

A new password or a new second factor ends the user's web sessions (all, or all but the
one that made the change) in the same transaction: whoever held a session before the
change, perhaps with the old credential, must sign in again with the new one. Every way
of changing them (the account page, `trajectory users sign-in`) goes through here.

What must not change: the wrapping purpose (`_purpose`), or stored secrets stop opening.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from trajectory.crypto import KeyRing, MasterKey
from trajectory.identity.users import User, UserError, user_of_row
from trajectory.persistence.database import Database, Transaction

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
ISSUER = "trajectory"
_HASHER = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile
# Verified against when the name is unknown, so that both answers take the same time.
# A constant made once with the hasher's parameters (hashing it at import cost every
# process start 0.1-0.4 s); `test_dummy_hash_has_the_hashers_parameters` keeps them equal.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$TJV2wtSBI1OjzoY70sIe6A$K683u6OdwvGvwwKoaVzHZaT1DvZfJtEllPjTJ4e6v5k"
)


def _purpose(user_id: str) -> bytes:
    return b"trajectory-totp-secret:" + user_id.encode()


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"a password has at most {MAX_PASSWORD} characters")


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, name: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is (now, or one step either side), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return step + offset
    return None


@dataclass(frozen=True)
class Enrolment:
    """A new TOTP secret for a user's authenticator app, shown once: the otpauth URI (for
    a QR code) and the secret itself (to type in)."""

    uri: str
    secret: str


def enrol_totp(credentials: Credentials, user: User) -> Enrolment:
    """Enrol a new TOTP secret for `user` (the old one stops working, her sessions end):
    what `trajectory users add|sign-in --enrol-totp` and the admin's users page both do."""
    secret = new_totp_secret()
    credentials.save_totp(user.user_id, secret)
    return Enrolment(provisioning_uri(secret, user.name), secret)


@dataclass(frozen=True)
class SignInUser:
    user: User
    has_totp: bool


class Credentials:
    """Passwords and TOTP secrets of the users table. The master key is read from the key
    ring at each use, so a rotation in this process is followed at once."""

    def __init__(self, db: Database, keys: KeyRing | None):
        self.db = db
        self.keys = keys

    def _master(self) -> MasterKey:
        if self.keys is None:
            raise UserError("TOTP secrets need an encrypted store (a master key)")
        return self.keys.master

    # -- passwords --------------------------------------------------------------------
    def set_password(self, user_id: str, password: str, *, keeping: str | None = None) -> None:
        """A new password; every web session of the user ends, but the one whose id hash
        is `keeping` (the session that changed it)."""
        check_password_policy(password)
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE users SET password_hash = ? WHERE user_id = ?",
                [_HASHER.hash(password), user_id],
            )
            _end_other_sessions(tx, user_id, keeping)

    def _rehash(self, user_id: str, password: str) -> None:
        """The same password under the hasher's current parameters (not a change)."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE users SET password_hash = ? WHERE user_id = ?",
                [_HASHER.hash(password), user_id],
            )

    def check_password(self, name: str, password: str) -> SignInUser | None:
        """The active user with this name and password, or None. Takes as long for an
        unknown name as for a wrong password."""
        row = self.db.fetchone(
            "SELECT user_id, name, role, organisation, revoked_at, display_name, password_hash,"
            " totp_secret FROM users WHERE name = ?",
            [name[:200]],
        )
        stored = str(row["password_hash"]) if row and row["password_hash"] else None
        try:
            _HASHER.verify(stored or _DUMMY_HASH, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        if row is None or stored is None or row["revoked_at"] is not None:
            return None
        if _HASHER.check_needs_rehash(stored):
            self._rehash(str(row["user_id"]), password)
        return SignInUser(user_of_row(row), has_totp=row["totp_secret"] is not None)

    # -- TOTP -------------------------------------------------------------------------
    def wrap_secret(self, user_id: str, secret: str) -> str:
        return self._master().wrap(_purpose(user_id), secret.encode())

    def unwrap_secret(self, user_id: str, wrapped: str) -> str:
        return self._master().unwrap(_purpose(user_id), wrapped).decode()

    def save_totp(
        self, user_id: str, secret: str, *, step: int | None = None, keeping: str | None = None
    ) -> None:
        """Enrol (or replace) the user's TOTP secret; `step`: the step just used to
        confirm it, which may not be used again. Every web session of the user ends, but
        the one whose id hash is `keeping`."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE user_id = ?",
                [self.wrap_secret(user_id, secret), step, user_id],
            )
            _end_other_sessions(tx, user_id, keeping)

    def has_totp(self, user_id: str) -> bool:
        row = self.db.fetchone("SELECT totp_secret FROM users WHERE user_id = ?", [user_id])
        return bool(row and row["totp_secret"])

    def verify_totp(self, user_id: str, code: str, now: datetime) -> bool:
        """Whether `code` is the user's current TOTP code, not used before. A match is
        remembered in the same transaction that reads the last step (no double use)."""
        with self.db.transaction() as tx:
            row = _lock_user(tx, self.db.dialect, user_id)
            if row is None or not row["totp_secret"] or row["revoked_at"] is not None:
                return False
            secret = self.unwrap_secret(user_id, str(row["totp_secret"]))
            step = matching_step(secret, code, now)
            last = row["totp_last_step"]
            if step is None or (last is not None and step <= int(str(last))):
                return False
            tx.execute(
                "UPDATE users SET totp_last_step = ? WHERE user_id = ?", [step, user_id]
            )
            return True


def _end_other_sessions(tx: Transaction, user_id: str, keeping: str | None) -> None:
    tx.execute(
        "DELETE FROM web_sessions WHERE user_id = ? AND session_hash <> ?",
        [user_id, keeping or ""],
    )


def _lock_user(tx: Transaction, dialect: str, user_id: str) -> dict[str, object] | None:
    lock = " FOR UPDATE" if dialect == "postgres" else ""
    return tx.fetchone(
        "SELECT user_id, revoked_at, totp_secret, totp_last_step FROM users"
        f" WHERE user_id = ?{lock}",
        [user_id],
    )


def rewrap_totp_secrets(tx: Transaction, old: MasterKey, new: MasterKey) -> int:
    """Re-wrap every TOTP secret under a new master key (part of `keys rotate`; the
    composition root registers it with the key ring)."""
    rows = tx.fetchall("SELECT user_id, totp_secret FROM users WHERE totp_secret IS NOT NULL")
    for row in rows:
        user_id = str(row["user_id"])
        secret = old.unwrap(_purpose(user_id), str(row["totp_secret"]))
        tx.execute(
            "UPDATE users SET totp_secret = ? WHERE user_id = ?",
            [new.wrap(_purpose(user_id), secret), user_id],
        )
    return len(rows)
