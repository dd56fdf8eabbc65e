"""PostgreSQL roles: the owner migrates, the runtime role only uses the tables.

Triggers keep the access log and the erasure records append-only only against a role that
cannot switch them off: the owner of a table can `TRUNCATE` it (no row trigger fires) or
`ALTER TABLE ... DISABLE TRIGGER`. So the servers and the projection runner run under a
runtime role that owns nothing: it may read and write what the application needs, only
INSERT and SELECT the access log, the erasure records and the organisation streams'
events, and never TRUNCATE or ALTER anything. The owner role runs `trajectory init` (and
`--runtime-role NAME` grants the runtime role its rights, again after every upgrade: new
tables need their grants).
"""

from __future__ import annotations

from trajectory.persistence.database import Database
from trajectory.persistence.ledger import CHAINED_TABLES


class RuntimeRoleError(Exception):
    """The runtime role cannot be granted its rights (no such role, or not PostgreSQL)."""


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def runtime_grants(role: str, schema: str) -> list[str]:
    r, s = quoted(role), quoted(schema)
    # The organisation streams' events are append-only too (trajectory.organisation.store).
    chained = ", ".join([*CHAINED_TABLES, "organisation_events"])
    return [
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        # TRUNCATE, REFERENCES and TRIGGER are left out on purpose.
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {chained} FROM {r}",
    ]


def grant_runtime_role(db: Database, role: str) -> list[str]:
    """Give an existing role the runtime role's rights on this store's tables; the
    statements run, for the record. Run as the owner role, after the tables exist."""
    if db.dialect != "postgres":
        raise RuntimeRoleError("roles are PostgreSQL's: a SQLite store has none")
    with db.transaction() as tx:
        if tx.fetchone("SELECT 1 FROM pg_roles WHERE rolname = ?", [role]) is None:
            raise RuntimeRoleError(
                f"there is no role {role!r}; create it first, e.g."
                f" CREATE ROLE {quoted(role)} LOGIN PASSWORD '...'"
            )
        owner = tx.fetchone(
            "SELECT pg_has_role(?, tableowner, 'USAGE') AS owns FROM pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'access_log'",
            [role],
        )
        if owner is not None and owner["owns"]:
            raise RuntimeRoleError(
                f"{role!r} owns the tables (or is a member of their owner): a runtime role"
                " must be another role, or it could switch the triggers off"
            )
        schema = tx.fetchone("SELECT current_schema() AS s")
        assert schema is not None
        statements = runtime_grants(role, str(schema["s"]))
        for statement in statements:
            tx.execute(statement)
    return statements
