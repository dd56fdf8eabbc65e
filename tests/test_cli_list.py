"""`trajectory list --as USER` and `trajectory show ID [--as USER]` on a terminal: what she
sees, and every look in the access log (a list as one search naming each girl shown, a
read as a read; a refusal too), with `cli` as the client."""

from __future__ import annotations

import getpass

import pytest

from tests.builders import intake
from trajectory.access_log import AccessLog
from trajectory.application import Actor, TrajectoryApplication
from trajectory.cli import main
from trajectory.identity.users import UserStore

ORG = "Stichting Lijst"
OTHER = "Stichting Elders"


@pytest.fixture
def store(cli_store: TrajectoryApplication) -> TrajectoryApplication:
    """The command line's store, with coordinators of two organisations and a researcher."""
    application = cli_store
    users = UserStore(application.db)
    for name, org in (("anna", ORG), ("carla", OTHER)):
        users.add(name=name, role="coordinator", organisation=org, now=application.clock(),
                  user_id=name)
    users.add(name="rita", role="researcher", organisation=ORG, now=application.clock(),
              user_id="rita")
    return application


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # (what the test's own application logged before)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_list_shows_her_organisations_girls_and_is_logged_as_her_search(
    store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    # given two girls in her organisation and one in another
    anna = Actor(user_id="anna", role="coordinator", organisation=ORG)
    carla = Actor(user_id="carla", role="coordinator", organisation=OTHER)
    ours = [str(store.open_trajectory(intake(), anna).trajectory_id) for _ in range(2)]
    theirs = str(store.open_trajectory(intake(), carla).trajectory_id)
    # when she lists them on the terminal
    code, out, _ = run(capsys, "list", "--as", "anna")
    # then her two girls are listed by short id, phase and status, and no other
    assert code == 0
    for tid in ours:
        assert any(line.startswith(tid[:8]) and " 1  in_care" in line
                   for line in out.splitlines()), out
    assert theirs[:8] not in out
    assert "2 trajectories" in out
    assert "Meisje" not in out  # no names on the terminal
    # and the list is in the access log: one search by her, from the command line,
    # naming each girl shown, so that each girl's own log shows it too
    for tid in ours:
        entries = [e for e in AccessLog(store.db).for_trajectory(tid) if e["action"] == "search"]
        assert len(entries) == 1
        assert entries[0]["user_id"] == "anna"
        assert entries[0]["client"] == "cli"
        assert entries[0]["outcome"] == "ok"
        assert sorted(entries[0]["shown"]) == sorted(ours)
    assert not AccessLog(store.db).for_trajectory(theirs)


def test_a_list_needs_an_active_user_who_sees_trajectories(
    store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    # a name nobody has
    code, out, err = run(capsys, "list", "--as", "nobody")
    assert (code, out) == (2, "")
    assert "no active user 'nobody'" in err
    # a researcher sees no records
    code, out, err = run(capsys, "list", "--as", "rita")
    assert (code, out) == (2, "")
    assert "researcher sees no trajectories" in err


def test_show_is_access_logged_as_the_user_or_the_operator_and_a_refusal_too(
    store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a girl of anna's organisation
    anna = Actor(user_id="anna", role="coordinator", organisation=ORG)
    tid = str(store.open_trajectory(intake(), anna).trajectory_id)
    # when anna shows her file, the operator shows it, and carla (elsewhere) tries
    assert run(capsys, "show", tid, "--as", "anna")[0] == 0
    assert run(capsys, "show", tid)[0] == 0
    code, out, err = run(capsys, "show", tid, "--as", "carla")
    # then carla is told it does not exist, as to anyone who may not see it
    assert (code, out) == (1, "")
    assert err.strip() == f"trajectory: no trajectory with id {tid}"
    # and all three are in her access log, in order, from the command line
    reads = [(e["user_id"], e["outcome"], e["client"])
             for e in AccessLog(store.db).for_trajectory(tid) if e["action"] == "read"]
    assert reads == [
        ("anna", "ok", "cli"),
        (f"os:{getpass.getuser()}", "ok", "cli"),
        ("carla", "denied", "cli"),
    ]
