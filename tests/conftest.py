"""Shared fixtures: a real SQLite file and a real PostgreSQL database for every store test.

PostgreSQL comes from TRAJECTORY_TEST_POSTGRES_URL (default: the local server's `test`
database). When TRAJECTORY_REQUIRE_POSTGRES=1 (as in CI) an unreachable server fails the
run instead of skipping the PostgreSQL half.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from trajectory.application import TrajectoryApplication
from trajectory.composition import build_application
from trajectory.crypto import MasterKey
from trajectory.protocol import (
    ProtocolRegistry,
    ambulatory_protocol,
    default_protocol,
    load_protocol,
)
from trajectory.settings import Settings

if TYPE_CHECKING:
    from tests.web_support import World

POSTGRES_URL = os.environ.get(
    "TRAJECTORY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("TRAJECTORY_REQUIRE_POSTGRES") == "1"
PROTOCOLS = Path(__file__).parent / "protocols"



class FakeClock:
    """A clock the test moves by hand; starts at a fixed, ordinary weekday."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return str(e).strip()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own, made on the server, dropped at the end.

    Runs in parallel (two engineers, or CI beside a developer) never wipe each other.
    """
    problem = _postgres_reachable()
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable at {POSTGRES_URL}: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"trajectory_test_{os.getpid()}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(POSTGRES_URL)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def wipe_postgres(url: str) -> None:
    """Empty every table of this run's database: each test starts from nothing."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trajectory.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    wipe_postgres(url)
    return url


MASTER_KEY = MasterKey.generate().to_text()
"""One master key for the whole run: PostgreSQL stores need one supplied."""


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, snapshot_interval=10, master_key=MASTER_KEY)


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[TrajectoryApplication]:
    """The application as every process builds it (the composition root), on the test's
    clock and with the test protocols known."""
    application = build_application(settings, clock=clock, protocols=all_protocols())
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def cli_store(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[TrajectoryApplication]:
    """The command line's environment (its database and master key, a working directory of
    its own), and an application on the same database, for giving and checking."""
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", MASTER_KEY)
    monkeypatch.chdir(tmp_path)
    application = TrajectoryApplication(
        Settings(database_url=database_url, master_key=MASTER_KEY),
        clock=FakeClock(), protocols=all_protocols())
    try:
        yield application
    finally:
        application.close()


def all_protocols() -> ProtocolRegistry:
    """The default protocol as current (for every setting), and the test protocols and the
    shipped ambulatory one as known ones (a store written by `trajectory demo` holds girls
    opened under it)."""
    others = [load_protocol(p) for p in sorted(PROTOCOLS.glob("*.toml"))]
    return ProtocolRegistry(default_protocol(), *others, ambulatory_protocol())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures the reliability tests measured (acknowledged vs present, throughput)."""
    from tests.reliability_support import FIGURES

    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture
def world(
    app: TrajectoryApplication,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> World:
    """The web pages' world (tests.web_support): people, girls and a browser-like client
    on the `app` store. Modules that need another kind of world define their own."""
    from tests.web_support import make_world  # imports this module: not at the top

    return make_world(app, clock, monkeypatch, tmp_path / "exports")
