"""The access log and the erasure records are tamper-evident, not only append-only.

The triggers refuse UPDATE and DELETE; these tests play whoever gets past them (the owner
role, which can switch a trigger off; SQLite's INSERT OR REPLACE, which the triggers did
not see) and expect `trajectory verify` to name the first entry that was altered, removed
or inserted, or the store to refuse the act.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import structlog
from eventsourcing.persistence import IntegrityError

from tests.builders import open_trajectory
from trajectory.access_log import AccessEntry, AccessLog
from trajectory.application import Actor, TrajectoryApplication
from trajectory.cli import main
from trajectory.composition import build_application
from trajectory.erasure import erase
from trajectory.persistence.ledger import GENESIS, entry_hash
from trajectory.persistence.schema import create_schema
from trajectory.settings import Settings
from trajectory.verify import Report, verify_store

ADMIN = Actor(user_id="admin-1", role="admin", organisation="org-a")


def an_entry(n: int, trajectory_id: str | None = None) -> AccessEntry:
    return AccessEntry(
        at=datetime(2026, 11, 2, 9, 0, n % 60, tzinfo=UTC),
        user_id=f"user-{n}",
        on_behalf_of=None,
        role="coordinator",
        organisation="org-a",
        client="127.0.0.1",
        action="read",
        trajectory_id=trajectory_id,
        outcome="ok",
        request_id=f"req-{n}",
    )


@pytest.fixture
def logged(app: TrajectoryApplication) -> list[int]:
    """Five entries, and two erasures (their records and their entries); the entry ids."""
    log = AccessLog(app.db)
    for n in range(5):
        log.append(an_entry(n))
    for _ in range(2):
        erase(app, open_trajectory(app), by=ADMIN, reason="retention expired",
              legal_ground="retention-expired")
    return [int(r["entry_id"]) for r in app.db.fetchall(
        "SELECT entry_id FROM access_log ORDER BY entry_id")]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process; leave it as other tests expect it."""
    yield
    structlog.reset_defaults()


def behind_the_triggers(app: TrajectoryApplication, table: str, *statements: str) -> None:
    """What the owner role can do: switch the append-only trigger off, change, switch on."""
    with app.db.transaction() as tx:
        if app.dialect == "postgres":
            tx.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            tx.execute(f"DROP TRIGGER {table}_no_update")
            tx.execute(f"DROP TRIGGER {table}_no_delete")
        for statement in statements:
            tx.execute(statement)
    if app.dialect == "postgres":
        with app.db.transaction() as tx:
            tx.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def named(report: Report) -> list[tuple[str, str, str]]:
    return [(f.table, f.row, f.problem) for f in report.ledger_findings]


def test_an_intact_log_and_its_erasure_records_verify(
    app: TrajectoryApplication, logged: list[int]
) -> None:
    # given five entries and two erasures, each written in its own transaction
    # when the store is verified
    report = verify_store(app)
    # then both chains are whole, and each starts at the genesis and runs 1..n
    assert report.ok, named(report)
    heads = {h.table: (h.entries, h.seq) for h in report.ledger_heads}
    assert heads == {"access_log": (7, 7), "erasures": (2, 2)}
    first = app.db.fetchone("SELECT seq, prev_hash FROM access_log ORDER BY seq LIMIT 1")
    assert first == {"seq": 1, "prev_hash": GENESIS}


def test_an_altered_entry_is_named_by_verify(
    app: TrajectoryApplication, logged: list[int]
) -> None:
    # given the owner rewrote the outcome of the third entry behind the trigger
    third = logged[2]
    behind_the_triggers(
        app, "access_log", f"UPDATE access_log SET outcome = 'denied' WHERE entry_id = {third}"
    )
    # when the store is verified
    report = verify_store(app)
    # then that entry, and only that one, is named as altered
    assert not report.ok
    assert named(report) == [
        ("access_log", str(third), "altered after it was written (its hash does not match)")
    ]


def test_a_removed_entry_is_named_by_verify(
    app: TrajectoryApplication, logged: list[int]
) -> None:
    # given the owner deleted the second entry behind the trigger
    behind_the_triggers(app, "access_log", f"DELETE FROM access_log WHERE entry_id = {logged[1]}")
    # then verify names the entry after the gap, and the gap
    assert named(verify_store(app)) == [
        ("access_log", str(logged[2]), "entries 2..2 of the chain were removed")
    ]


def test_an_entry_inserted_beside_the_chain_is_named_by_verify(
    app: TrajectoryApplication, logged: list[int]
) -> None:
    # given someone inserted an entry by hand, without its link to the chain
    with app.db.transaction() as tx:
        tx.execute(
            "INSERT INTO access_log (at, action, outcome, user_id)"
            " VALUES ('2026-11-02T09:00:00+00:00', 'read', 'ok', 'someone-else')"
        )
    inserted = app.db.fetchone("SELECT MAX(entry_id) AS n FROM access_log")
    assert inserted is not None
    # then verify names it
    assert named(verify_store(app)) == [
        ("access_log", str(inserted["n"]), "inserted beside the chain (no seq, no hash)")
    ]


def test_a_rewritten_entry_with_a_recomputed_hash_is_found_at_the_next_link(
    app: TrajectoryApplication, logged: list[int]
) -> None:
    # given the owner rewrote the second entry and gave it a correct hash of its own
    row = app.db.fetchone("SELECT * FROM access_log WHERE seq = 2")
    assert row is not None
    values = {k: v for k, v in row.items() if k not in ("entry_id", "entry_hash")}
    values["user_id"] = "someone-else"
    digest = entry_hash("access_log", 2, str(row["prev_hash"]), values)
    behind_the_triggers(
        app,
        "access_log",
        f"UPDATE access_log SET user_id = 'someone-else', entry_hash = '{digest}'"
        f" WHERE entry_id = {row['entry_id']}",
    )
    # then the next entry no longer links to it: verify names the place
    assert named(verify_store(app)) == [
        ("access_log", str(logged[2]),
         "does not link to the entry before it (that one was altered or replaced)")
    ]


def test_an_altered_erasure_record_is_named_by_verify(
    app: TrajectoryApplication, logged: list[int]
) -> None:
    # given the owner rewrote who erased a trajectory
    first = app.db.fetchone("SELECT trajectory_id FROM erasures WHERE seq = 1")
    assert first is not None
    behind_the_triggers(
        app, "erasures",
        f"UPDATE erasures SET erased_by = 'someone-else'"
        f" WHERE trajectory_id = '{first['trajectory_id']}'",
    )
    # then verify names that record
    assert named(verify_store(app)) == [
        ("erasures", str(first["trajectory_id"]),
         "altered after it was written (its hash does not match)")
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's REPLACE
def test_insert_or_replace_of_an_entry_or_an_erasure_record_is_refused_on_sqlite(
    app: TrajectoryApplication, logged: list[int]
) -> None:
    before = app.db.fetchall("SELECT * FROM access_log ORDER BY entry_id")
    erasures = app.db.fetchall("SELECT * FROM erasures ORDER BY seq")
    # when someone replaces an entry (the review's probe) or every erasure record
    for statement in (
        f"INSERT OR REPLACE INTO access_log (entry_id, at, action, outcome)"
        f" VALUES ({logged[2]}, 'x', 'read', 'ok')",
        "REPLACE INTO erasures SELECT * FROM erasures",
    ):
        with pytest.raises(IntegrityError, match="append-only"), \
                app.db.transaction() as tx:
            tx.execute(statement)
    # then nothing changed, and the chains verify
    assert app.db.fetchall("SELECT * FROM access_log ORDER BY entry_id") == before
    assert app.db.fetchall("SELECT * FROM erasures ORDER BY seq") == erasures
    assert verify_store(app).ok


def test_entries_written_by_concurrent_requests_form_one_chain(
    app: TrajectoryApplication,
) -> None:
    # given eight threads appending 25 entries each at the same time
    log = AccessLog(app.db)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(25):
                log.append(an_entry(n, trajectory_id=f"t-{worker}"))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every entry was written, in one chain without a fork or a gap
    assert errors == []
    report = verify_store(app)
    assert report.ok, named(report)
    assert {h.table: h.seq for h in report.ledger_heads}["access_log"] == 200


def test_verify_on_the_command_line_names_the_altered_entry_and_fails(
    app: TrajectoryApplication,
    settings: Settings,
    logged: list[int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    restore_logging: None,
) -> None:
    behind_the_triggers(
        app, "access_log", f"UPDATE access_log SET action = 'login' WHERE entry_id = {logged[0]}"
    )
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", str(settings.master_key))
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert f"TAMPERED access_log entry_id {logged[0]} (seq 1): altered" in out


def test_a_store_from_before_the_chain_is_chained_once_when_it_is_migrated(
    app: TrajectoryApplication,
) -> None:
    # given a store whose entries and erasure records were written before the chain
    log = AccessLog(app.db)
    for n in range(3):
        log.append(an_entry(n))
    erase(app, open_trajectory(app), by=ADMIN, reason="old", legal_ground="other")
    for table in ("access_log", "erasures"):
        behind_the_triggers(
            app, table, f"UPDATE {table} SET seq = NULL, prev_hash = NULL, entry_hash = NULL"
        )
    assert not verify_store(app).ok
    # when the schema is brought up to date (`trajectory init`, the owner role)
    create_schema(app.db)
    # then the earlier rows are chained in the order they were written, and new ones follow
    log.append(an_entry(9))
    report = verify_store(app)
    assert report.ok, named(report)
    assert {h.table: h.seq for h in report.ledger_heads} == {"access_log": 5, "erasures": 1}
    # and a second migration leaves a row inserted by hand afterwards unchained (named)
    with app.db.transaction() as tx:
        tx.execute("INSERT INTO access_log (at, action, outcome) VALUES ('x', 'read', 'ok')")
    create_schema(app.db)
    assert [f.problem for f in verify_store(app).ledger_findings] == [
        "inserted beside the chain (no seq, no hash)"
    ]


# -- PostgreSQL: the runtime role -------------------------------------------------------------

ON_POSTGRES = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def runtime_url(app: TrajectoryApplication, settings: Settings) -> Iterator[str]:
    """A throwaway login role of this test's own, on the test's database."""
    assert app.dialect == "postgres", "roles are PostgreSQL's: mark the test ON_POSTGRES"
    role = f"trajectory_runtime_{os.getpid()}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN")
    parts = urlsplit(settings.database_url)
    yield urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET outcome = 'ok'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
        "ALTER TABLE access_log DISABLE TRIGGER access_log_append_only",
        "ALTER TABLE access_log DROP COLUMN entry_hash",
        "DROP TRIGGER access_log_append_only ON access_log",
        "UPDATE erasures SET erased_by = 'someone-else'",
        "DELETE FROM erasures",
        "TRUNCATE erasures",
        "ALTER TABLE erasures DISABLE TRIGGER erasures_append_only",
        "DROP TABLE access_log",
        "UPDATE organisation_events SET payload = '{}'",
        "DELETE FROM organisation_events",
        "TRUNCATE organisation_events",
    ],
)
@ON_POSTGRES
def test_the_runtime_role_may_only_insert_and_select_the_log(
    app: TrajectoryApplication,
    settings: Settings,
    logged: list[int],
    runtime_url: str,
    monkeypatch: pytest.MonkeyPatch,
    restore_logging: None,
    statement: str,
) -> None:
    # given the owner ran `trajectory init --runtime-role NAME`
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", str(settings.master_key))
    assert main(["init", "--runtime-role", str(urlsplit(runtime_url).username)]) == 0
    before = app.db.fetchall("SELECT * FROM access_log ORDER BY entry_id")
    # when the runtime role tries to change the log behind the application's back
    with psycopg.connect(runtime_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        # then it is refused, while reading and appending are allowed
        assert conn.execute("SELECT COUNT(*) FROM access_log").fetchone() == (len(before),)
    assert app.db.fetchall("SELECT * FROM access_log ORDER BY entry_id") == before


@ON_POSTGRES
def test_the_application_runs_under_the_runtime_role_and_its_entries_chain_on(
    app: TrajectoryApplication,
    settings: Settings,
    logged: list[int],
    runtime_url: str,
    monkeypatch: pytest.MonkeyPatch,
    restore_logging: None,
) -> None:
    # given the owner made the tables and granted the runtime role its rights
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", str(settings.master_key))
    assert main(["init", "--runtime-role", str(urlsplit(runtime_url).username)]) == 0
    # when the application starts as the runtime role (no DDL: the owner migrates) and acts
    runtime = build_application(
        Settings(database_url=runtime_url, master_key=settings.master_key), clock=app.clock
    )
    try:
        AccessLog(runtime.db).append(an_entry(42))
        erase(runtime, open_trajectory(runtime), by=ADMIN, reason="retention expired",
              legal_ground="retention-expired")
        # then its entries and erasure records continue both chains
        report = verify_store(runtime)
    finally:
        runtime.close()
    assert report.ok, named(report)
    assert {h.table: h.seq for h in report.ledger_heads} == {"access_log": 9, "erasures": 3}


def test_init_refuses_a_runtime_role_that_does_not_exist_or_on_sqlite(
    app: TrajectoryApplication,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", str(settings.master_key))
    assert main(["init", "--runtime-role", "no_such_role_anywhere"]) == 2
    err = capsys.readouterr().err
    assert ("there is no role" if app.dialect == "postgres" else "SQLite store has none") in err
