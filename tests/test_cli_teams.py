"""`trajectory teams list|add|member add|remove`: the installation's operator manages an
organisation's teams by the same rules as its administrator (a member is an active
coordinator or aftercare worker of the team's organisation), each refusal naming its
option."""

from __future__ import annotations

import pytest

from tests.test_cli_users import run
from trajectory.application import TrajectoryApplication
from trajectory.identity.teams import Teams


def test_the_operator_adds_a_team_and_its_members_and_lists_them(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    # given two coordinators of org-a and one of org-b
    for name, org in (("anna", "org-a"), ("bea", "org-a"), ("otto", "org-b")):
        code, _, _ = run(capsys, "users", "add", "--name", name, "--role", "coordinator",
                         "--org", org)
        assert code == 0
    # when the operator adds a team to org-a
    code, out, _ = run(capsys, "teams", "add", "--org", "org-a", "--name", "Groepswonen De Linde")
    assert code == 0, out
    (team,) = Teams(cli_store.db).of_organisation("org-a")
    assert out == f"added team Groepswonen De Linde (org-a) id {team.team_id}\n"
    # and makes Anna and Bea its members, then Bea no longer
    for action, who in (("add", "anna"), ("add", "bea"), ("remove", "bea")):
        code, out, err = run(capsys, "teams", "member", action, "--team", team.team_id,
                             "--user", who)
        assert code == 0, err
    # then the list names the team with its one member
    code, out, _ = run(capsys, "teams", "list", "--org", "org-a")
    assert code == 0
    assert out == f"{team.team_id}\tGroepswonen De Linde\tanna (coordinator)\n"
    assert [m.user_id for m in Teams(cli_store.db).memberships("org-a")
            if m.removed_at is not None] == [cli_store.db.fetchone(
                "SELECT user_id FROM users WHERE name = 'bea'")["user_id"]]  # type: ignore[index]


def test_the_command_line_refuses_what_the_administrator_could_not_do(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "users", "add", "--name", "otto", "--role", "coordinator", "--org", "org-b")
    run(capsys, "users", "add", "--name", "rita", "--role", "researcher", "--org", "org-a")
    run(capsys, "teams", "add", "--org", "org-a", "--name", "Nachtdienst")
    (team,) = Teams(cli_store.db).of_organisation("org-a")
    # a second team by the same name, a member of another organisation or role, an
    # unknown team: each refused (exit 2), naming what is wrong, and nothing changes
    refusals = [
        (("teams", "add", "--org", "org-a", "--name", "nachtdienst"), "--name"),
        (("teams", "member", "add", "--team", team.team_id, "--user", "otto"), "--user"),
        (("teams", "member", "add", "--team", team.team_id, "--user", "rita"), "--user"),
        (("teams", "member", "add", "--team", "no-such-team", "--user", "otto"), "team"),
        (("teams", "member", "remove", "--team", team.team_id, "--user", "otto"), "--user"),
    ]
    for argv, named in refusals:
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert out == ""
        assert err.startswith("trajectory: "), err
        assert named in err, err
    assert len(Teams(cli_store.db).of_organisation("org-a")) == 1
    assert Teams(cli_store.db).members(team.team_id) == []
