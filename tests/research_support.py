"""The 300-girl demo store the research tests share (`trajectory demo --count 300`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MASTER_KEY, FakeClock, all_protocols, wipe_postgres
from trajectory.application import TrajectoryApplication
from trajectory.demo import run_demo
from trajectory.settings import Settings

DEMO_GIRLS = 300


@pytest.fixture(scope="session")
def sqlite_demo_300() -> Iterator[Path]:
    """The 300-girl demo store as an SQLite file, made once per run (in memory-backed
    storage where the machine has it: the demo commits every fact with a full sync)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    folder = Path(tempfile.mkdtemp(prefix="trajectory-demo300-", dir=base))
    settings = Settings(database_url=f"sqlite:///{folder / 'trajectory.sqlite'}",
                        snapshot_interval=10, master_key=MASTER_KEY)
    app = TrajectoryApplication(settings, clock=FakeClock(), protocols=all_protocols())
    try:
        run_demo(app, count=DEMO_GIRLS, progress=lambda done, total: None)
    finally:
        app.close()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def demo_300(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrajectoryApplication]:
    """The 300-girl demo store (`trajectory demo --count 300`; four in five consent), on
    SQLite (a copy of the file made once, in the quick suite) and on PostgreSQL (made for
    the test: three minutes of demo, so with the slow tests)."""
    database_url = ""
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_url")
        wipe_postgres(database_url)
    else:
        template = request.getfixturevalue("sqlite_demo_300")
        for source in template.iterdir():
            shutil.copy(source, tmp_path / source.name)
        database_url = f"sqlite:///{tmp_path / 'trajectory.sqlite'}"
    settings = Settings(database_url=database_url, snapshot_interval=10,
                        master_key=MASTER_KEY)
    app = TrajectoryApplication(settings, clock=FakeClock(), protocols=all_protocols())
    try:
        if not database_url.startswith("sqlite"):
            run_demo(app, count=DEMO_GIRLS, progress=lambda done, total: None)
        yield app
    finally:
        app.close()
