"""The composition root: every process's application is put together in one place, which
registers what low modules must call in higher ones, and owns what runs for a lifetime.
"""

from __future__ import annotations

import ast
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

import trajectory
from tests.builders import open_trajectory
from tests.conftest import FakeClock, all_protocols
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.composition import REWRAPPERS, build_application
from trajectory.composition.http import build_api, build_services
from trajectory.crypto import MasterKey, RewrappersMissing
from trajectory.identity.credentials import Credentials, new_totp_secret
from trajectory.identity.users import UserStore
from trajectory.research.projects import project_secret
from trajectory.settings import Settings


def test_a_key_ring_put_together_elsewhere_refuses_to_rotate_and_changes_nothing(
    settings: Settings, clock: FakeClock
) -> None:
    # Given an application built by hand, whose key ring knows no other wrapped secrets
    bare = TrajectoryApplication(settings, clock=clock)
    try:
        assert bare.keys is not None
        open_trajectory(bare)
        before = bare.db.fetchall("SELECT trajectory_id, wrapped_key FROM data_keys")
        old = bare.keys.master

        # When a rotation is asked of it, then it is refused
        with pytest.raises(RewrappersMissing):
            bare.keys.rotate(MasterKey.generate(), clock())

        # and the data keys and the master key are as they were
        assert bare.db.fetchall("SELECT trajectory_id, wrapped_key FROM data_keys") == before
        assert bare.keys.master == old
    finally:
        bare.close()


def test_a_rotation_rewraps_every_secret_the_master_key_wraps(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # Given a store with a research project's secret and a user's TOTP secret
    assert app.keys is not None
    assert set(app.keys.rewrappers) == set(REWRAPPERS)
    project, _ = project_secret(app.keys, app.db, "study-a", clock(), create=True)
    user, _ = UserStore(app.db).add(
        name="anna", role="coordinator", organisation="o", now=clock()
    )
    totp = new_totp_secret()
    Credentials(app.db, app.keys).save_totp(user.user_id, totp)

    # When the master key is rotated
    app.keys.rotate(MasterKey.generate(), clock())

    # Then both open under the new key, unchanged
    again, made = project_secret(app.keys, app.db, "study-a", clock(), create=False)
    assert (again, made) == (project, False)
    row = app.db.fetchone("SELECT totp_secret FROM users WHERE user_id = ?", [user.user_id])
    assert row is not None
    assert Credentials(app.db, app.keys).unwrap_secret(user.user_id, str(row["totp_secret"])) == (
        totp
    )


def test_keys_rotate_on_the_command_line_keeps_projects_and_second_factors(
    settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a store with a research project's secret and a user's TOTP secret
    before = build_application(settings, clock=clock)
    try:
        assert before.keys is not None
        project, _ = project_secret(before.keys, before.db, "study-a", clock(), create=True)
        user, _ = UserStore(before.db).add(
            name="anna", role="coordinator", organisation="o", now=clock()
        )
        totp = new_totp_secret()
        Credentials(before.db, before.keys).save_totp(user.user_id, totp)
    finally:
        before.close()

    # When `trajectory keys rotate` puts a new master key in a file of its own
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", str(settings.master_key))
    new_key = tmp_path / "new.key"
    assert main(["keys", "rotate", "--new-key-file", str(new_key)]) == 0
    assert "re-wrapped" in capsys.readouterr().out

    # Then under the new key the project keeps its secret and the user her second factor
    after = build_application(
        Settings(database_url=settings.database_url, master_key_file=str(new_key)), clock=clock
    )
    try:
        assert after.keys is not None
        assert project_secret(after.keys, after.db, "study-a", clock(), create=False) == (
            project,
            False,
        )
        row = after.db.fetchone("SELECT totp_secret FROM users WHERE user_id = ?", [user.user_id])
        assert row is not None
        credentials = Credentials(after.db, after.keys)
        assert credentials.unwrap_secret(user.user_id, str(row["totp_secret"])) == totp
    finally:
        after.close()


def test_each_application_keeps_the_clock_it_was_given(settings: Settings) -> None:
    # Given two applications on one store, each with a clock of its own (the demo's, the
    # server's)
    first = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    second = FakeClock(datetime(2027, 6, 1, 9, 0, tzinfo=UTC))
    one = build_application(settings, clock=first, protocols=all_protocols())
    other = build_application(settings, clock=second, protocols=all_protocols())
    try:
        # When one clock moves
        first.advance(days=3)

        # Then each application reads its own, and nothing else moved
        assert one.clock() == datetime(2026, 1, 8, 9, 0, tzinfo=UTC)
        assert other.clock() == datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    finally:
        one.close()
        other.close()


def test_the_apps_threads_start_with_it_and_stop_with_it(
    app: TrajectoryApplication,
) -> None:
    # Given an API app whose read models are kept in this process
    services = build_services(app)
    api = build_api(services, run_projections=True)

    # When it starts and stops
    with TestClient(api) as client:
        assert client.get("/health").status_code == 200
        running = {t.name for t in threading.enumerate()}

    # Then its runner ran while it was up and is gone after, and its access-log writers
    # take no more work
    assert "projection-runner" in running
    assert "projection-runner" not in {t.name for t in threading.enumerate()}
    with pytest.raises(RuntimeError):
        services.access_writers.submit(print)


def test_no_module_starts_a_thread_pool_when_imported() -> None:
    # Given every module of the package
    source = Path(trajectory.__file__).parent
    found = []
    for path in sorted(source.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # When its module-level statements are read (not its functions' or classes')
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Call) and _called(node) in (
                    "ThreadPoolExecutor",
                    "ProcessPoolExecutor",
                ):
                    found.append(f"{path.relative_to(source.parent)}:{node.lineno}")
    # Then none makes a pool: pools belong to the app that starts and stops them
    assert not found


def _called(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""
