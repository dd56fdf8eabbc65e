"""Our own tables beside the event store. Created once, by an explicit step (`init`).

Times are stored as ISO 8601 text in UTC in both dialects, so that they sort and compare
the same everywhere. The access log and the erasure records are append-only (triggers
refuse UPDATE and DELETE, and on SQLite an INSERT OR REPLACE of an existing row) and
hash-chained (`persistence.ledger`).
"""

from __future__ import annotations

from trajectory.persistence.database import Database, Dialect, Transaction
from trajectory.persistence.ledger import CHAINED_TABLES, entry_hash, ledger_rows_sql

_COMMON = [
    """CREATE TABLE IF NOT EXISTS trajectory_index (
        trajectory_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL,
        coordinator TEXT NOT NULL,
        receiving_worker TEXT,
        status TEXT NOT NULL,
        phase INTEGER NOT NULL,
        version INTEGER NOT NULL,
        head_hash TEXT NOT NULL,
        intake_date TEXT NOT NULL,
        closed_on TEXT,
        destruction_requested_on TEXT,
        destruction_status TEXT,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS trajectory_index_org ON trajectory_index (organisation, status)",
    """CREATE TABLE IF NOT EXISTS users (
        user_id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        organisation TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS data_keys (
        trajectory_id TEXT PRIMARY KEY,
        wrapped_key TEXT NOT NULL,
        master_key_id TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS key_check (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        master_key_id TEXT NOT NULL,
        check_value TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS erasures (
        trajectory_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL,
        receiving_worker TEXT,
        erased_at TEXT NOT NULL,
        erased_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        legal_ground TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS idempotency (
        user_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        trajectory_id TEXT,
        status_code INTEGER NOT NULL,
        body TEXT NOT NULL,
        location TEXT,
        etag TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, idem_key)
    )""",
]

_ACCESS_LOG: dict[Dialect, list[str]] = {
    "sqlite": [
        """CREATE TABLE IF NOT EXISTS access_log (
            entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            user_id TEXT,
            on_behalf_of TEXT,
            role TEXT,
            organisation TEXT,
            client TEXT,
            action TEXT NOT NULL,
            trajectory_id TEXT,
            outcome TEXT NOT NULL,
            request_id TEXT
        )""",
        """CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
           BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
           BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END""",
    ],
    "postgres": [
        """CREATE TABLE IF NOT EXISTS access_log (
            entry_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at TEXT NOT NULL,
            user_id TEXT,
            on_behalf_of TEXT,
            role TEXT,
            organisation TEXT,
            client TEXT,
            action TEXT NOT NULL,
            trajectory_id TEXT,
            outcome TEXT NOT NULL,
            request_id TEXT
        )""",
        """CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'the access log is append-only'; END; $$ LANGUAGE plpgsql""",
        "DROP TRIGGER IF EXISTS access_log_append_only ON access_log",
        """CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
           FOR EACH ROW EXECUTE FUNCTION access_log_append_only()""",
    ],
}

def _append_only(dialect: Dialect, table: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
               BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only'); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
               BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only'); END""",
        ]
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'the {table} table is append-only'; END; $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
           FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
    ]


_TAIL = [
    "CREATE INDEX IF NOT EXISTS access_log_trajectory ON access_log (trajectory_id, entry_id)",
]

# -- four-eyes erasure (trajectory.erasure_proposals) --------------------------------------
# One admin proposes, a second of the same organisation approves; the row keeps both names.
_ERASURE_PROPOSALS = [
    """CREATE TABLE IF NOT EXISTS erasure_proposals (
        proposal_id TEXT PRIMARY KEY,
        trajectory_id TEXT NOT NULL,
        organisation TEXT NOT NULL,
        proposed_by TEXT NOT NULL,
        proposed_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        legal_ground TEXT NOT NULL,
        court_reference TEXT,
        approved_by TEXT,
        approved_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS erasure_proposals_organisation"
    " ON erasure_proposals (organisation, approved_at)",
]

# -- approved research projects (trajectory.research.approvals) ------------------------------
# A proposal is a row; each organisation's decision and each binding of a researcher is a
# row of its own (the latest decision is in force). All three are append-only.


def _research_projects(dialect: Dialect) -> list[str]:
    seq = ("seq INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite"
           else "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
    return [
        """CREATE TABLE IF NOT EXISTS research_project_proposals (
            name TEXT PRIMARY KEY,
            purpose TEXT NOT NULL,
            ethics_reference TEXT NOT NULL,
            files TEXT NOT NULL,
            variables TEXT,
            period_from TEXT NOT NULL,
            period_to TEXT NOT NULL,
            organisations TEXT NOT NULL,
            expires_on TEXT NOT NULL,
            proposed_by TEXT NOT NULL,
            proposed_at TEXT NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS research_project_decisions (
            {seq},
            decision_id TEXT NOT NULL UNIQUE,
            project TEXT NOT NULL,
            organisation TEXT NOT NULL,
            decision TEXT NOT NULL,
            decided_by TEXT NOT NULL,
            decided_at TEXT NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS research_project_members (
            {seq},
            member_id TEXT NOT NULL UNIQUE,
            project TEXT NOT NULL,
            researcher TEXT NOT NULL,
            bound_by TEXT NOT NULL,
            bound_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS research_project_decisions_project"
        " ON research_project_decisions (project, seq)",
        "CREATE INDEX IF NOT EXISTS research_project_members_project"
        " ON research_project_members (project, seq)",
        *(statement for table in ("research_project_proposals", "research_project_decisions",
                                  "research_project_members")
          for statement in _append_only(dialect, table)),
    ]


# -- the web pages' sign-in (trajectory.web) -------------------------------------------------
# Sessions are kept server-side; only a hash of the session id is stored. The users table
# gains the password (argon2id hash) and the TOTP secret (wrapped by the master key), and
# the last TOTP time step used, so that a code is accepted once.
_WEB = [
    """CREATE TABLE IF NOT EXISTS web_sessions (
        session_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        reauth_at TEXT,
        pending_secret TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions (user_id)",
]
_USER_COLUMNS = (
    ("password_hash", "TEXT"),
    ("totp_secret", "TEXT"),
    ("totp_last_step", "BIGINT"),
    # the bearer token's lifetime and scopes (identity.users); empty for a token issued
    # before they existed, which then has its role's scopes and expires from created_at
    ("token_expires_at", "TEXT"),
    ("token_scopes", "TEXT"),
    # how pages name her to others (identity.users.User.display_name); empty: her login name
    ("display_name", "TEXT"),
)
# -- step-up tokens (identity.step_up): a few minutes for the irreversible acts ---------------
_STEP_UP = [
    """CREATE TABLE IF NOT EXISTS step_up_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        scopes TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS step_up_tokens_user ON step_up_tokens (user_id)",
]

# -- organisation streams (trajectory.organisation.store) -------------------------------------
# Each organisation's own duties (core elements 1 and 9), beside the trajectory log: events
# append-only, one index row per stream written in the events' transaction.
_ORGANISATION = [
    """CREATE TABLE IF NOT EXISTS organisation_events (
        organisation_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (organisation_id, position)
    )""",
    """CREATE TABLE IF NOT EXISTS organisation_index (
        organisation_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        head_hash TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
]


# The index gains the day aftercare ended: the aftercare worker's access ends after it
# (trajectory.visibility). In a store of an earlier version the application fills it in
# when the column is added.
_INDEX_COLUMNS = (
    ("aftercare_ended_on", "TEXT"),
    # her team (`TeamAssigned`): the coordinators of the team see her (trajectory.visibility);
    # empty for a girl not yet assigned to one
    ("team", "TEXT"),
)
# The access log names the emergency access an act was done under (trajectory.emergency).
_ACCESS_LOG_COLUMNS = (("emergency_access", "TEXT"),)


def _add_user_columns(tx: Transaction, dialect: Dialect) -> set[str]:
    """Add the columns later versions need; returns those added now, as `table.column`."""
    return (
        _add_columns(tx, dialect, "users", _USER_COLUMNS)
        | _add_columns(tx, dialect, "trajectory_index", _INDEX_COLUMNS)
        | _add_columns(tx, dialect, "access_log", _ACCESS_LOG_COLUMNS)
    )


def _add_columns(
    tx: Transaction, dialect: Dialect, table: str, columns: tuple[tuple[str, str], ...]
) -> set[str]:
    if dialect == "postgres":
        rows = tx.fetchall(
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?",
            [table],
        )
    else:
        rows = tx.fetchall(f"PRAGMA table_info({table})")
    have = {str(r["name"]) for r in rows}
    added = set()
    for name, kind in columns:
        if name not in have:
            tx.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            added.add(f"{table}.{name}")
    return added


SCHEMA_LOCK = 7_240_613
"""The PostgreSQL advisory lock every process takes before it creates or alters tables."""


def lock_schema(tx: Transaction) -> None:
    """Serialise schema changes between processes for the rest of the transaction.

    Several processes starting at once (API workers, the projection runner) each make
    sure the tables exist; on PostgreSQL two concurrent `CREATE OR REPLACE FUNCTION` of the
    same function fail with "tuple concurrently updated" and the process exits. SQLite
    serialises writers already."""
    if tx.dialect == "postgres":
        tx.execute("SELECT pg_advisory_xact_lock(?)", [SCHEMA_LOCK])


def _no_replace(table: str) -> str:
    """SQLite's INSERT OR REPLACE deletes the row it conflicts with without firing the
    delete trigger (recursive_triggers is off); a BEFORE INSERT trigger still sees that
    row, so it refuses an insert that would replace one."""
    key = CHAINED_TABLES[table]
    return f"""CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table}
        WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key} OR seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only'); END"""


def _add_chain(tx: Transaction, dialect: Dialect) -> None:
    """The chain's columns, on a new store and on one made before the chain existed (and
    the access log's `shown`: the girls a list showed, in its one entry)."""
    if dialect == "postgres":
        tx.execute("ALTER TABLE access_log ADD COLUMN IF NOT EXISTS shown TEXT")
    elif "shown" not in {str(r["name"]) for r in tx.fetchall("PRAGMA table_info(access_log)")}:
        tx.execute("ALTER TABLE access_log ADD COLUMN shown TEXT")
    for table in CHAINED_TABLES:
        if dialect == "postgres":
            tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS seq BIGINT")
            tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS prev_hash TEXT")
            tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS entry_hash TEXT")
        else:
            have = {str(r["name"]) for r in tx.fetchall(f"PRAGMA table_info({table})")}
            for name, kind in (("seq", "INTEGER"), ("prev_hash", "TEXT"), ("entry_hash", "TEXT")):
                if name not in have:
                    tx.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        tx.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_seq ON {table} (seq)")
        _chain_earlier_rows(tx, dialect, table)
        if dialect == "sqlite":
            tx.execute(_no_replace(table))


def _chain_earlier_rows(tx: Transaction, dialect: Dialect, table: str) -> None:
    """Rows written before the chain existed are chained once, by the migration (the
    owner role), in the order they were written. Never again afterwards: a row without
    a link in a chained table is then a row inserted beside it, which `verify` names."""
    if tx.fetchone(f"SELECT seq FROM {table} WHERE seq IS NOT NULL LIMIT 1") is not None:
        return
    rows = tx.fetchall(ledger_rows_sql(table))
    if not rows:
        return
    key = CHAINED_TABLES[table]
    if dialect == "postgres":
        tx.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    else:
        tx.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
    previous = "0" * 64
    for seq, row in enumerate(rows, start=1):
        values = {k: v for k, v in row.items() if not (table == "access_log" and k == key)}
        digest = entry_hash(table, seq, previous, values)
        tx.execute(
            f"UPDATE {table} SET seq = ?, prev_hash = ?, entry_hash = ? WHERE {key} = ?",
            [seq, previous, digest, row[key]],
        )
        previous = digest
    if dialect == "postgres":
        tx.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
    else:  # the statement that made it (in _ACCESS_LOG or _append_only) makes it again
        message = "the access log is append-only" if table == "access_log" else (
            f"the {table} table is append-only"
        )
        tx.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


OWNED_BY_ANOTHER_ROLE = """SELECT 1 FROM pg_tables WHERE schemaname = current_schema()
    AND tablename = 'access_log' AND NOT pg_has_role(current_user, tableowner, 'USAGE')"""
"""On PostgreSQL: the tables exist and belong to a role we are not. The server then runs
under the runtime role (docs/operations.md), which may not alter them: the owner role
migrates (`trajectory init`), the runtime role only uses them."""


def schema_is_someone_elses(tx: Transaction) -> bool:
    return tx.dialect == "postgres" and tx.fetchone(OWNED_BY_ANOTHER_ROLE) is not None


# Keyed hashes of an intake's normalised name and birth date (`trajectory.duplicates`):
# never a name; deleted with the trajectory at erasure.
_INTAKE_FINGERPRINTS = [
    """CREATE TABLE IF NOT EXISTS intake_fingerprints (
        trajectory_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL,
        fingerprint TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS intake_fingerprints_match"
    " ON intake_fingerprints (organisation, fingerprint)",
]


# Agenda feeds (trajectory.calendar_feeds): a secret address per user for her agenda app;
# only the hash of its secret is kept, and a revoked one stays, revoked.
_CALENDAR_FEEDS = [
    """CREATE TABLE IF NOT EXISTS calendar_feeds (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS calendar_feeds_user ON calendar_feeds (user_id)",
]


# Teams (trajectory.identity.teams): an organisation's groups of professionals, and who
# belongs to which, from when until when (a membership ended keeps its row).
_TEAMS = [
    """CREATE TABLE IF NOT EXISTS teams (
        team_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        retired_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS teams_organisation ON teams (organisation)",
    """CREATE TABLE IF NOT EXISTS team_members (
        team_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        added_at TEXT NOT NULL,
        added_by TEXT NOT NULL,
        removed_at TEXT,
        removed_by TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS team_members_user ON team_members (user_id, removed_at)",
    "CREATE INDEX IF NOT EXISTS team_members_team ON team_members (team_id, removed_at)",
]


# The municipalities of the Netherlands as CBS lists them (trajectory.bij.municipalities):
# loaded from CBS's yearly list by an admin; a municipality merged away keeps its row.
_MUNICIPALITIES = [
    """CREATE TABLE IF NOT EXISTS municipalities (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        loaded_at TEXT NOT NULL,
        loaded_by TEXT NOT NULL
    )""",
]


# Emergency access (trajectory.emergency): a coordinator opens a girl's file outside her
# relationships, for a reason and a limited time; the review is a row of its own.
_EMERGENCY = [
    """CREATE TABLE IF NOT EXISTS emergency_accesses (
        access_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL,
        user_id TEXT NOT NULL,
        trajectory_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        explanation TEXT NOT NULL,
        may_write INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        ended_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS emergency_accesses_user"
    " ON emergency_accesses (user_id, trajectory_id, ends_at)",
    "CREATE INDEX IF NOT EXISTS emergency_accesses_organisation"
    " ON emergency_accesses (organisation, started_at)",
    """CREATE TABLE IF NOT EXISTS emergency_access_reviews (
        access_id TEXT PRIMARY KEY,
        outcome TEXT NOT NULL,
        note TEXT NOT NULL,
        reviewed_by TEXT NOT NULL,
        reviewed_at TEXT NOT NULL
    )""",
    # per organisation: whether emergency access may write, how long it lasts, and the
    # privacy officer's thresholds for the anomaly signals
    """CREATE TABLE IF NOT EXISTS access_settings (
        organisation TEXT PRIMARY KEY,
        emergency_may_write INTEGER NOT NULL,
        emergency_hours INTEGER NOT NULL,
        outside_team_threshold INTEGER NOT NULL,
        emergency_threshold INTEGER NOT NULL,
        night_threshold INTEGER NOT NULL,
        night_starts INTEGER NOT NULL,
        night_ends INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    )""",
]


def create_schema(db: Database) -> set[str]:
    """Create our tables if they do not exist yet (idempotent). Returns the columns added
    to tables of an earlier version (`table.column`), for the caller to fill in."""
    with db.transaction() as tx:
        lock_schema(tx)
        if schema_is_someone_elses(tx):
            return set()
        statements = [
            *_COMMON,
            *_ACCESS_LOG[db.dialect],
            *_append_only(db.dialect, "erasures"),
            *_TAIL,
            *_WEB,
            *_STEP_UP,
            *_ERASURE_PROPOSALS,
            *_ORGANISATION,
            *_append_only(db.dialect, "organisation_events"),
            *_research_projects(db.dialect),
            *_INTAKE_FINGERPRINTS,
            *_CALENDAR_FEEDS,
            *_TEAMS,
            *_MUNICIPALITIES,
            *_EMERGENCY,
            *_append_only(db.dialect, "emergency_access_reviews"),
        ]
        for statement in statements:
            tx.execute(statement)
        added = _add_user_columns(tx, db.dialect)
        _add_chain(tx, db.dialect)
        return added
