"""Durability settings: a store configured to lose acknowledged writes is refused at
start-up, with a typed error and a one-line message on the command line, unless it is
declared a throwaway test store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import structlog
from structlog.testing import capture_logs

from tests.conftest import MASTER_KEY
from tests.reliability_support import scratch_database, server_env
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.persistence.durability import (
    StoreNotDurable,
    postgres_problems,
    require_full_sync,
)
from trajectory.settings import Settings


@pytest.fixture
def lossy_postgres(postgres_url: str) -> Iterator[str]:
    """A scratch database of our own whose sessions commit without waiting for the disk."""
    with scratch_database(postgres_url, "lossy") as url:
        name = url.rsplit("/", 1)[-1]
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
        yield url


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_settings_name_the_throwaway_store_explicitly() -> None:
    assert Settings.from_env({}).throwaway_store is False
    assert Settings.from_env({"TRAJECTORY_THROWAWAY_STORE": "1"}).throwaway_store is True
    assert Settings.from_env({"TRAJECTORY_THROWAWAY_STORE": "0"}).throwaway_store is False


@pytest.mark.postgres
def test_postgres_with_synchronous_commit_off_is_refused_at_start_up(lossy_postgres: str) -> None:
    with pytest.raises(StoreNotDurable) as refused:
        TrajectoryApplication(Settings(database_url=lossy_postgres, master_key=MASTER_KEY))
    assert refused.value.problems == ("synchronous_commit is off",)
    message = str(refused.value)
    assert "synchronous_commit is off" in message
    assert "TRAJECTORY_THROWAWAY_STORE=1" in message


@pytest.mark.postgres
def test_a_throwaway_store_starts_with_a_warning(lossy_postgres: str) -> None:
    settings = Settings(database_url=lossy_postgres, master_key=MASTER_KEY, throwaway_store=True)
    with capture_logs() as logs:
        app = TrajectoryApplication(settings)
    app.close()
    warnings = [e for e in logs if e["event"] == "store_not_durable"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["problems"] == ["synchronous_commit is off"]


@pytest.mark.postgres
@pytest.mark.usefixtures("restore_logging")
def test_the_command_line_refuses_with_one_clear_line(
    lossy_postgres: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", lossy_postgres)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", MASTER_KEY)
    monkeypatch.delenv("TRAJECTORY_THROWAWAY_STORE", raising=False)
    assert main(["init"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("trajectory: refusing to run: the PostgreSQL store could lose")
    assert "Traceback" not in err
    monkeypatch.setenv("TRAJECTORY_THROWAWAY_STORE", "1")
    assert main(["init"]) == 0


@pytest.mark.postgres
def test_serve_exits_before_listening_on_a_lossy_store(lossy_postgres: str) -> None:
    env = server_env(lossy_postgres, port=1)  # never reached: it refuses before listening
    done = subprocess.run(
        [sys.executable, "-m", "trajectory", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "refusing to run" in done.stderr
    assert "synchronous_commit is off" in done.stderr
    assert "Traceback" not in done.stderr


def test_fsync_off_and_synchronous_commit_off_are_problems_the_others_not() -> None:
    assert postgres_problems("off", "on") == ["fsync is off"]
    assert postgres_problems("on", "off") == ["synchronous_commit is off"]
    assert postgres_problems("off", "off") == ["fsync is off", "synchronous_commit is off"]
    for durable in ("on", "local", "remote_write", "remote_apply"):
        assert postgres_problems("on", durable) == []


def test_an_sqlite_connection_without_full_sync_is_refused(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "lossy.sqlite")
    try:
        connection.execute("PRAGMA synchronous=NORMAL")
        with pytest.raises(StoreNotDurable, match="synchronous is 1, not FULL"):
            require_full_sync(connection)
        connection.execute("PRAGMA synchronous=FULL")
        require_full_sync(connection)
    finally:
        connection.close()


def test_the_sqlite_store_commits_with_full_sync(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'store.sqlite'}")
    app = TrajectoryApplication(settings)
    try:
        row = app.db.fetchone("PRAGMA synchronous")
        assert row is not None
        assert list(row.values()) == [2]
    finally:
        app.close()
