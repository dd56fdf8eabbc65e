"""`trajectory users add|list|rotate-token|revoke`: the token is printed once, as the last
line, stored only as a hash; it expires (shown by `list`), and a rotation or a revocation
takes effect on the very next request."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.live import live_server
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.identity.users import UserStore


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def add(capsys: pytest.CaptureFixture[str], name: str, role: str = "coordinator") -> str:
    code, out, _ = run(capsys, "users", "add", "--name", name, "--role", role, "--org", "org-a")
    assert code == 0
    return out.rstrip("\n").splitlines()[-1]


def test_adding_a_user_prints_the_token_last_and_stores_only_its_hash(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    token = add(capsys, "anna")
    assert token.startswith("trj_")
    assert len(token) >= 40
    rows = cli_store.db.fetchall("SELECT * FROM users")
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    assert token not in stored
    assert token.removeprefix("trj_") not in stored
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for file in path.parent.glob(path.name + "*"):
            assert token.encode() not in file.read_bytes(), file.name
    # Every token is new: a second user gets another one.
    assert add(capsys, "bert") != token


def test_the_list_shows_users_and_their_state_but_never_a_token(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    token = add(capsys, "anna")
    add(capsys, "carla", role="aftercare")
    assert run(capsys, "users", "revoke", "carla")[0] == 0
    code, out, _ = run(capsys, "users", "list")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    anna, carla = (line.split("\t") for line in lines)
    assert (anna[0], anna[1], anna[2], anna[-1]) == ("anna", "coordinator", "org-a", "active")
    assert (carla[0], carla[1], carla[-1]) == ("carla", "aftercare", "revoked")
    assert token not in out
    assert "trj_" not in out


def test_a_revoked_token_is_refused_on_the_next_request(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    token = add(capsys, "anna")
    with live_server(cli_store) as live, live.client(token) as http:
        assert http.get("/trajectories").status_code == 200
        code, out, _ = run(capsys, "users", "revoke", "anna")
        assert code == 0
        assert "anna" in out
        refused = http.get("/trajectories")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_mistakes_are_told_and_print_no_token(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    add(capsys, "anna")
    code, out, err = run(capsys, "users", "add", "--name", "anna", "--role", "admin",
                         "--org", "org-a")
    assert code != 0
    assert "trj_" not in out
    assert "anna" in err
    code, out, err = run(capsys, "users", "revoke", "nobody")
    assert code != 0
    assert "nobody" in err
    with pytest.raises(SystemExit):
        main(["users", "add", "--name", "x", "--role", "superuser", "--org", "o"])
    assert len(cli_store.db.fetchall("SELECT user_id FROM users")) == 1


def test_the_list_shows_each_tokens_expiry_and_scopes(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    add(capsys, "anna")
    add(capsys, "rosa", role="researcher")
    code, out, _ = run(capsys, "users", "list")
    assert code == 0
    anna, rosa = (line.split("\t") for line in out.splitlines())
    # a new token expires in 90 days (the default lifetime), with its role's scopes
    expires = datetime.fromisoformat(anna[4].removeprefix("token expires "))
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    assert anna[5] == "scopes read,write"
    assert rosa[5] == "scopes read"


def test_token_lifetime_is_a_setting(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRAJECTORY_TOKEN_DAYS", "7")
    add(capsys, "anna")
    out = run(capsys, "users", "list")[1]
    expires = datetime.fromisoformat(out.split("\t")[4].removeprefix("token expires "))
    assert timedelta(days=6) < expires - datetime.now(UTC) <= timedelta(days=7)


def test_rotating_a_token_ends_the_old_one_and_prints_the_new_one_last(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    old = add(capsys, "anna")
    with live_server(cli_store) as live, live.client(old) as before:
        assert before.get("/trajectories").status_code == 200
        # when the token is rotated
        code, out, _ = run(capsys, "users", "rotate-token", "anna")
        assert code == 0
        new = out.rstrip("\n").splitlines()[-1]
        assert new.startswith("trj_")
        assert new != old
        # then the old token is refused at once, and the new one works
        assert before.get("/trajectories").status_code == 401
        with live.client(new) as after:
            assert after.get("/trajectories").status_code == 200
    # a revoked user gets no new token (that would undo the revocation), nor an unknown one
    run(capsys, "users", "revoke", "anna")
    code, out, err = run(capsys, "users", "rotate-token", "anna")
    assert code != 0
    assert "trj_" not in out
    assert "revoked" in err
    code, out, err = run(capsys, "users", "rotate-token", "nobody")
    assert code != 0
    assert "nobody" in err


def test_a_quality_officer_and_an_inspector_are_added_with_their_scopes(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(capsys, "kwaliteit", role="quality").startswith("trj_")
    assert add(capsys, "inspecteur", role="inspector").startswith("trj_")
    rows = {r["name"]: r for r in
            cli_store.db.fetchall("SELECT name, role, token_scopes FROM users")}
    assert (rows["kwaliteit"]["role"], rows["kwaliteit"]["token_scopes"]) == (
        "quality", "read write")
    assert (rows["inspecteur"]["role"], rows["inspecteur"]["token_scopes"]) == (
        "inspector", "read")


def test_a_user_is_added_with_the_name_colleagues_read(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given `users add --display-name`; when the user is read back; then the pages name
    her by it, while she signs in with her login name (issue 17: one name per person)."""
    code, _, _ = run(capsys, "users", "add", "--name", "anna", "--role", "coordinator",
                     "--org", "org-a", "--display-name", "Anna  de Vries")
    assert code == 0
    found = UserStore(cli_store.db).find("anna")
    assert found is not None
    assert (found.name, found.shown_name) == ("anna", "Anna de Vries")
