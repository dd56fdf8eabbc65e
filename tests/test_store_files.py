"""The store's files are the service's alone: the SQLite file and its write-ahead files,
research exports and the master key. A key file others can read is refused at start-up,
and `trajectory keys new` makes a proper one."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import open_trajectory
from tests.conftest import FakeClock, all_protocols
from tests.test_research_export import RESEARCHER, consent, export
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.crypto import MasterKey, MasterKeyUnavailable, write_key_file
from trajectory.settings import Settings

REPOSITORY = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask of a careless service account: everything readable by everyone."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.usefixtures("loose_umask")
def test_a_new_sqlite_store_and_its_wal_and_shm_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    # given a fresh SQLite store under a umask that leaves files readable by all
    store = tmp_path / "store.sqlite"
    app = TrajectoryApplication(Settings(database_url=f"sqlite:///{store}"), clock=FakeClock())
    try:
        # when a girl is taken in (the write-ahead log and shared memory exist now)
        open_trajectory(app)
        files = [store, Path(f"{store}-wal"), Path(f"{store}-shm"), Path(f"{store}.key")]
        # then the store, its WAL, its SHM and the generated key are 0600
        assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    finally:
        app.close()


def test_an_existing_world_readable_store_is_tightened_when_opened(tmp_path: Path) -> None:
    # given a store made by an earlier version, readable by everyone
    store = tmp_path / "store.sqlite"
    settings = Settings(database_url=f"sqlite:///{store}")
    TrajectoryApplication(settings, clock=FakeClock()).close()
    store.chmod(0o644)
    # when it is opened again
    TrajectoryApplication(settings, clock=FakeClock()).close()
    # then only its owner may read it
    assert mode(store) == 0o600


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604])
def test_a_master_key_file_others_can_read_is_refused_at_start_up(
    database_url: str, tmp_path: Path, loose: int
) -> None:
    # given a master key file that its group or everyone can read
    key_file = tmp_path / "master.key"
    write_key_file(key_file, MasterKey.generate())
    key_file.chmod(loose)
    settings = Settings(database_url=database_url, master_key_file=str(key_file))
    # when a process starts with it
    with pytest.raises(MasterKeyUnavailable) as refused:
        TrajectoryApplication(settings, clock=FakeClock())
    # then it is refused, and the message says what to run
    assert f"chmod 600 {key_file}" in str(refused.value)


def test_the_command_line_refuses_a_readable_key_file_with_the_chmod_to_run(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a world-readable key file configured for the store
    key_file = tmp_path / "master.key"
    write_key_file(key_file, MasterKey.generate())
    key_file.chmod(0o644)
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY_FILE", str(key_file))
    # when a command starts
    code = main(["verify"])
    # then it stops before touching the store and names the fix
    assert code != 0
    assert f"chmod 600 {key_file}" in capsys.readouterr().err


def test_keys_new_writes_an_owner_only_key_file_that_opens_a_store(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # given no key file yet
    key_file = tmp_path / "master.key"
    # when the operator asks for one
    code = main(["keys", "new", "--out", str(key_file)])
    # then it exists, readable by its owner only, and a store opens and keeps data with it
    assert code == 0, capsys.readouterr().err
    assert mode(key_file) == 0o600
    settings = Settings(database_url=database_url, master_key_file=str(key_file))
    app = TrajectoryApplication(settings, clock=FakeClock(), protocols=all_protocols())
    try:
        tid = open_trajectory(app)
        assert app.get(tid).version == 1
    finally:
        app.close()
    # and asking again never overwrites it
    before = key_file.read_bytes()
    assert main(["keys", "new", "--out", str(key_file)]) == 2
    assert key_file.read_bytes() == before


@pytest.mark.usefixtures("loose_umask")
def test_research_export_files_are_readable_by_their_owner_only(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # given a consenting girl
    tid = open_trajectory(app)
    consent(app, tid)
    # when a researcher's export is written
    out = tmp_path / "export"
    export(app, out)
    # then the folder and every file in it are the owner's alone
    assert mode(out) == 0o700
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    assert {p.name: oct(mode(p)) for p in files} == {p.name: "0o600" for p in files}
    assert RESEARCHER.role == "researcher"


def test_git_ignores_key_files_and_exports() -> None:
    # given the names the application writes beside an SQLite store
    names = ["trajectory.sqlite.key", "master.key", "trajectory.sqlite.exports/x/manifest.json"]
    # when git is asked whether it would track them
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *names],
        cwd=REPOSITORY, capture_output=True, text=True, check=False,
    ).stdout.split()
    # then it ignores every one
    assert ignored == names
