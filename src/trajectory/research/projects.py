"""Research projects and their pseudonyms.

Each research project has its own 32-byte secret, made at its first export and stored
wrapped by the master key (a stolen database does not reveal it). Pseudonyms are
HMAC-SHA-256 of a trajectory id (or an organisation) under that secret: the same girl
always gets the same pseudonym within a project, and two projects cannot link their data
without both secrets. The secret never leaves the store; a researcher cannot recompute a
pseudonym from an id, nor an id from a pseudonym.

What must not change: the message layout of `Pseudonyms` (domain tag, NUL, value) and the
lengths, or every published data set loses its link to the next export of its project.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from trajectory.crypto import KeyRing, MasterKey
from trajectory.persistence.database import Database, RowWrite, Transaction

PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""Project names: letters, digits, dot, dash, underscore; at most 64; no spaces or paths."""

_TABLE = """CREATE TABLE IF NOT EXISTS research_projects (
    name TEXT PRIMARY KEY,
    wrapped_secret TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    created_at TEXT NOT NULL
)"""


class ProjectError(ValueError):
    """A research project that cannot be used: a bad name, or unknown where it must exist."""


def _purpose(name: str) -> bytes:
    return b"research-project-secret:" + name.encode()


def check_project_name(name: str) -> str:
    if not PROJECT_NAME.match(name):
        raise ProjectError(
            f"{name!r} is not a project name: use 1 to 64 letters, digits, '.', '-' or '_',"
            " starting with a letter or digit"
        )
    return name


def create_table(db: Database) -> None:
    with db.transaction() as tx:
        tx.execute(_TABLE)


def project_secret(keys: KeyRing, db: Database, name: str, now: datetime, *,
                   create: bool) -> tuple[bytes, bool]:
    """The project's secret, made (and stored wrapped) when `create` and it is new.

    Returns the secret and whether it was made now. Two processes making the same new
    project at once agree on one secret: the first insert wins, the other reads it.
    """
    check_project_name(name)
    create_table(db)
    row = db.fetchone("SELECT wrapped_secret FROM research_projects WHERE name = ?", [name])
    if row is not None:
        return keys.master.unwrap(_purpose(name), str(row["wrapped_secret"])), False
    if not create:
        raise ProjectError(f"there is no research project {name!r} in this store")
    secret = secrets.token_bytes(32)
    with db.transaction() as tx:
        tx.write(
            RowWrite(
                "research_projects",
                {
                    "name": name,
                    "wrapped_secret": keys.master.wrap(_purpose(name), secret),
                    "master_key_id": keys.master.key_id,
                    "created_at": now.isoformat(),
                },
                ignore_on=("name",),
            )
        )
    stored, _ = project_secret(keys, db, name, now, create=False)
    return stored, stored == secret


def rewrap_project_secrets(tx: Transaction, old: MasterKey, new: MasterKey) -> int:
    """Re-wrap every project secret under a new master key, in the rotation's transaction.

    Without this a key rotation would lose every project's secret, and with it the link
    between a project's data sets. Called by `KeyRing.rotate`.
    """
    tx.execute(_TABLE)
    rows = tx.fetchall("SELECT name, wrapped_secret FROM research_projects")
    for row in rows:
        name = str(row["name"])
        secret = old.unwrap(_purpose(name), str(row["wrapped_secret"]))
        tx.execute(
            "UPDATE research_projects SET wrapped_secret = ?, master_key_id = ? WHERE name = ?",
            [new.wrap(_purpose(name), secret), new.key_id, name],
        )
    return len(rows)


@dataclass(frozen=True)
class Pseudonyms:
    """Keyed pseudonyms of one project: `G` + 16 hex digits for a girl (64 bits: no
    collision to expect below billions of trajectories), `O` + 10 for an organisation."""

    secret: bytes

    def _mac(self, tag: bytes, value: bytes) -> str:
        return hmac.new(self.secret, tag + b"\x00" + value, hashlib.sha256).hexdigest().upper()

    def girl(self, trajectory_id: UUID) -> str:
        return "G" + self._mac(b"trajectory", trajectory_id.bytes)[:16]

    def organisation(self, organisation: str) -> str:
        return "O" + self._mac(b"organisation", organisation.encode())[:10]

    def head(self, head_hash: str) -> str:
        """A trajectory's chain head as the manifest publishes it: keyed, so that it cannot
        be matched with the hashes users of the store see (`GET .../events`), which would
        link a pseudonym to a trajectory id. The store recomputes it to verify."""
        return self._mac(b"head", head_hash.encode()).lower()
