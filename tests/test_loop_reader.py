"""The token lookup on the event loop (SQLite): the same answer as the worker-thread path,
read only, and a fallback to the worker thread when SQLite cannot answer at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.conftest import MASTER_KEY, FakeClock
from trajectory.api.context import Services
from trajectory.api.security import _authenticate
from trajectory.application import TrajectoryApplication
from trajectory.composition.http import build_services
from trajectory.identity.users import User
from trajectory.persistence.database import LoopReader
from trajectory.settings import Settings


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[TrajectoryApplication]:
    application = TrajectoryApplication(
        Settings(database_url=f"sqlite:///{tmp_path / 'store.sqlite'}", master_key=MASTER_KEY),
        clock=FakeClock(),
    )
    try:
        yield application
    finally:
        application.close()


def _services_with_token(app: TrajectoryApplication) -> tuple[Services, str]:
    services = build_services(app)
    _, token = services.users.add(
        name="coord", role="coordinator", organisation="org-a", now=app.clock()
    )
    return services, token


async def _user_of(services: Services, token: str) -> User | None:
    """The token's user, looked up as the API's guard does."""
    bearer = await _authenticate(services, token)
    return bearer.user if bearer else None


def test_the_loop_reader_finds_the_same_user_and_sees_a_revocation_at_once(
    sqlite_app: TrajectoryApplication,
) -> None:
    # given an SQLite store with a user, and the API's services over it
    services, token = _services_with_token(sqlite_app)
    assert services.loop_reader is not None
    # when the token is looked up on the loop's reader and through the pool
    on_loop = anyio.run(_user_of, services, token)
    in_thread = services.users.authenticate(token)
    # then both find the same user
    assert on_loop == in_thread
    assert on_loop is not None
    assert on_loop.organisation == "org-a"
    # and a revocation counts on the very next lookup
    services.users.revoke("coord", now=sqlite_app.clock())
    assert anyio.run(_user_of, services, token) is None
    services.loop_reader.close()


def test_the_loop_reader_refuses_to_write(sqlite_app: TrajectoryApplication) -> None:
    # given the loop's reader on the store
    services, _ = _services_with_token(sqlite_app)
    reader = services.loop_reader
    assert reader is not None
    reader.fetchone("SELECT 1 AS one")
    # when something tries to write through it
    # then SQLite refuses: the connection is read only
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.fetchone("DELETE FROM users")
    assert services.users.all() != []
    reader.close()


def test_a_reader_that_cannot_answer_falls_back_to_the_worker_thread(
    sqlite_app: TrajectoryApplication, tmp_path: Path
) -> None:
    # given services whose loop reader points at a file SQLite cannot open
    services, token = _services_with_token(sqlite_app)
    broken = Services(
        **{
            **{f: getattr(services, f) for f in Services.__dataclass_fields__},
            "loop_reader": LoopReader(str(tmp_path / "missing-dir" / "no.sqlite")),
        }
    )
    # when the token is looked up
    user = anyio.run(_user_of, broken, token)
    # then the worker-thread path answered it
    assert user is not None
    assert user.name == "coord"
