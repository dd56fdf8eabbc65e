"""Research projects and their pseudonyms.

Each research project has its own 32-byte secret, made at its first export and stored
wrapped by the master key (a stolen database does not reveal it). Pseudonyms are
HMAC-SHA-256 of a trajectory id (or an organisation) under that secret: the same girl
always gets the same pseudonym within a project, and two projects cannot link their data
without both secrets. The secret never leaves the store; a researcher cannot recompute a
pseudonym from an id, nor an id from a pseudonym.

A project also declares what it needs (data minimisation): the files and the variables
(`table.column`) it may receive, fixed at its first export (`Declaration`); its exports
hold those and nothing else. A project made before declarations existed receives every
file and variable, as it did.

What must not change: the message layout of `Pseudonyms` (domain tag, NUL, value) and the
lengths, or every published data set loses its link to the next export of its project.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Sequence
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
_DECLARATION_COLUMNS = (("files", "TEXT"), ("variables", "TEXT"))
"""Added later: JSON lists; NULL for a project made before declarations (everything)."""

FILES = ("trajectories", "events", "sequences", "spells", "follow_ups", "scores")
"""The tables a project can declare."""

ALWAYS = {
    "trajectories": frozenset({"pseudonym"}),
    "events": frozenset({"pseudonym", "seq", "event", "day", "in_error"}),
}
"""Columns a declared file always holds (its key and, for events, what and when). The
sequences and spells files are whole: their columns are the timeline itself; so are the
follow-ups and their scores (each row is one measurement, whole)."""

WHOLE_FILES = frozenset({"sequences", "spells", "follow_ups", "scores"})


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
    from trajectory.persistence.schema import _add_columns

    with db.transaction() as tx:
        tx.execute(_TABLE)
        _add_columns(tx, db.dialect, "research_projects", _DECLARATION_COLUMNS)


@dataclass(frozen=True)
class Declaration:
    """What a project may receive: files, and variables as `table.column` (None: every
    column of its files)."""

    files: tuple[str, ...] = FILES
    variables: tuple[str, ...] | None = None

    @classmethod
    def of(cls, files: Iterable[str] | None, variables: Iterable[str] | None) -> Declaration:
        chosen = tuple(f for f in FILES if f in set(files)) if files is not None else FILES
        wrong = sorted(set(files or ()) - set(FILES))
        if wrong:
            raise DeclarationError("files", f"no such file: {', '.join(wrong)} (files are"
                                   f" {', '.join(FILES)})")
        if not chosen:
            raise DeclarationError("files", "declare at least one file")
        if variables is None:
            return cls(chosen, None)
        listed = sorted(set(variables))
        for v in listed:
            table, _, column = v.partition(".")
            if table not in chosen or not column:
                raise DeclarationError(
                    "variables", f"{v!r}: a variable is file.column, of a declared file")
        return cls(chosen, tuple(listed))

    @property
    def everything(self) -> bool:
        return self.files == FILES and self.variables is None

    def keeps(self, table: str, column: str) -> bool:
        if table not in self.files:
            return False
        if table in WHOLE_FILES or self.variables is None:
            return True
        return column in ALWAYS.get(table, frozenset()) or f"{table}.{column}" in set(
            self.variables)

    def check_columns(self, known: dict[str, Sequence[str]]) -> None:
        """Every declared variable must be a column of its file (`known`)."""
        for v in self.variables or ():
            table, _, column = v.partition(".")
            if column not in known.get(table, ()):
                raise DeclarationError("variables", f"{v!r}: {table}.csv has no column"
                                       f" {column!r}")

    def to_json(self) -> tuple[str, str | None]:
        return json.dumps(list(self.files)), (
            None if self.variables is None else json.dumps(list(self.variables)))

    @classmethod
    def from_row(cls, files: object, variables: object) -> Declaration:
        if files is None:
            return cls()
        return cls(tuple(json.loads(str(files))), None if variables is None else tuple(
            json.loads(str(variables))))


class DeclarationError(ProjectError):
    """A declaration that cannot be: `field` names the part (files or variables)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def declaration_of(db: Database, name: str) -> Declaration | None:
    """The project's declaration (None when there is no such project)."""
    create_table(db)
    row = db.fetchone("SELECT files, variables FROM research_projects WHERE name = ?", [name])
    return None if row is None else Declaration.from_row(row["files"], row["variables"])


def declare(db: Database, name: str, wanted: Declaration | None) -> Declaration:
    """Fix a new project's declaration, or check a later export's against it. A later
    export may leave it out (it gets what the project declared), not change it."""
    stored = declaration_of(db, name)
    if stored is None:
        raise ProjectError(f"there is no research project {name!r} in this store")
    row = db.fetchone("SELECT files FROM research_projects WHERE name = ?", [name])
    assert row is not None
    if row["files"] is None and wanted is not None and not wanted.everything:
        files, variables = wanted.to_json()
        with db.transaction() as tx:
            tx.execute("UPDATE research_projects SET files = ?, variables = ? WHERE name = ?"
                       " AND files IS NULL", [files, variables, name])
        stored = declaration_of(db, name)
        assert stored is not None
    if wanted is not None and wanted != stored:
        raise DeclarationError(
            "variables" if wanted.files == stored.files else "files",
            f"project {name!r} declared {_said(stored)}; an export cannot ask for other"
            " data (propose a new project)")
    return stored


def _said(d: Declaration) -> str:
    files = ", ".join(d.files)
    return f"files {files} and " + ("every variable" if d.variables is None else
                                    "variables " + ", ".join(d.variables))


def other_declarations(db: Database, name: str) -> list[tuple[str, Declaration]]:
    """Every other project's declaration, by name (the linkage check compares them)."""
    create_table(db)
    rows = db.fetchall("SELECT name, files, variables FROM research_projects"
                       " WHERE name <> ? ORDER BY name", [name])
    return [(str(r["name"]), Declaration.from_row(r["files"], r["variables"])) for r in rows]


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
