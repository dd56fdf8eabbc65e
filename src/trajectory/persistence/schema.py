"""Our own tables beside the event store. Created once, by an explicit step (`init`).

Times are stored as ISO 8601 text in UTC in both dialects, so that they sort and compare
the same everywhere. The access log is append-only: triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

from trajectory.persistence.database import Database, Dialect, Transaction

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
)


def _add_user_columns(tx: Transaction, dialect: Dialect) -> None:
    if dialect == "postgres":
        for name, kind in _USER_COLUMNS:
            tx.execute(f"ALTER TABLE users ADD COLUMN IF NOT EXISTS {name} {kind}")
        return
    have = {str(r["name"]) for r in tx.fetchall("PRAGMA table_info(users)")}
    for name, kind in _USER_COLUMNS:
        if name not in have:
            tx.execute(f"ALTER TABLE users ADD COLUMN {name} {kind}")


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


def create_schema(db: Database) -> None:
    """Create our tables if they do not exist yet (idempotent)."""
    with db.transaction() as tx:
        lock_schema(tx)
        statements = [
            *_COMMON,
            *_ACCESS_LOG[db.dialect],
            *_append_only(db.dialect, "erasures"),
            *_TAIL,
            *_WEB,
            *_ERASURE_PROPOSALS,
        ]
        for statement in statements:
            tx.execute(statement)
        _add_user_columns(tx, db.dialect)
