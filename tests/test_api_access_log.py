"""The access log misses nothing: one entry per request on a trajectory, whatever the
answer; it is append-only in the database; and when it cannot be written, the act fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.api_support import GIRL, INTAKE, assert_problem, intake_named, leaks
from tests.live import Live, live_server
from trajectory.application import TrajectoryApplication

SIGNAL = {"kind": "loverboy"}
FIELDS = ("at", "user_id", "role", "organisation", "client", "action", "trajectory_id",
          "outcome", "request_id")


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


@pytest.fixture
def tid(live: Live) -> str:
    with live.client(live.token("coord", "coordinator", "org-a", user_id="coord-1")) as http:
        created = http.post("/trajectories", json=INTAKE)
    assert created.status_code == 201
    return str(created.json()["id"])


def entries(live: Live, tid: str) -> list[dict[str, Any]]:
    return live.services.access.for_trajectory(tid)


def test_every_request_on_a_trajectory_leaves_exactly_one_complete_entry(
    live: Live, tid: str
) -> None:
    coord = live.client(live.services.users.reissue("coord", live.services.application.clock()))
    other = live.client(live.token("other", "coordinator", "org-b", user_id="coord-b"))
    admin = live.client(live.token("admin", "admin", "org-a", user_id="admin-a"))
    base = f"/trajectories/{tid}"
    # (client, method, path, body, headers, status, action, outcome)
    cases: list[tuple[httpx.Client, str, str, Any, dict[str, str], int, str, str]] = [
        (coord, "GET", base, None, {}, 200, "read", "ok"),
        (coord, "GET", f"{base}/events", None, {}, 200, "read", "ok"),
        (coord, "GET", f"{base}/events/1", None, {}, 200, "read", "ok"),
        (coord, "GET", f"{base}/handover", None, {}, 200, "read", "ok"),
        (coord, "POST", f"{base}/signals", SIGNAL, {}, 201, "write", "ok"),
        (coord, "POST", f"{base}/signals", SIGNAL, {"Idempotency-Key": "a"}, 201, "write", "ok"),
        (coord, "POST", f"{base}/signals", SIGNAL, {"Idempotency-Key": "a"}, 201, "write",
         "replayed"),
        (coord, "PUT", f"{base}/permissions/internet", {"level": "free"}, {}, 409, "write",
         "refused"),
        (coord, "POST", f"{base}/signals", SIGNAL, {"If-Match": '"1"'}, 412, "write",
         "rejected"),
        (coord, "POST", f"{base}/signals", {"kind": "gossip"}, {}, 422, "write", "rejected"),
        (coord, "GET", base, None, {}, 200, "read", "ok"),
        (coord, "GET", f"{base}?as_of=yesterday", None, {}, 422, "read", "rejected"),
        (other, "GET", base, None, {}, 404, "read", "denied"),
        (other, "POST", f"{base}/signals", SIGNAL, {}, 404, "write", "denied"),
        (admin, "GET", base, None, {}, 403, "read", "denied"),
        (admin, "POST", f"{base}/signals", SIGNAL, {}, 403, "write", "denied"),
    ]
    try:
        for client, method, path, body, headers, status, action, outcome in cases:
            before = entries(live, tid)
            answer = client.request(method, path, json=body, headers=headers)
            assert answer.status_code == status, (method, path, answer.text)
            after = entries(live, tid)
            new = after[len(before):]
            assert len(new) == 1, (method, path, status, new)
            entry = new[0]
            assert (entry["action"], entry["outcome"]) == (action, outcome), (path, entry)
            for field in FIELDS:
                assert entry[field], (field, path, entry)
            assert entry["request_id"] == answer.headers["x-request-id"]
            assert entry["trajectory_id"] == tid
            assert entry["client"] == "127.0.0.1"
        by = {e["user_id"]: (e["role"], e["organisation"]) for e in entries(live, tid)}
        assert by["coord-1"] == ("coordinator", "org-a")
        assert by["coord-b"] == ("coordinator", "org-b")
        assert by["admin-a"] == ("admin", "org-a")
    finally:
        for client in (coord, other, admin):
            client.close()


def test_attempts_without_a_valid_token_are_logged_too(live: Live, tid: str) -> None:
    for token in (None, "trj_not-a-real-token"):
        before = len(entries(live, tid))
        with live.client(token) as anonymous:
            answer = anonymous.get(f"/trajectories/{tid}")
        assert answer.status_code == 401
        new = entries(live, tid)[before:]
        assert len(new) == 1
        assert new[0]["outcome"] == "denied"
        assert new[0]["user_id"] is None
        assert new[0]["request_id"] == answer.headers["x-request-id"]


def test_an_admin_reads_the_log_in_time_order_and_the_reading_is_logged(
    live: Live, tid: str
) -> None:
    token = live.services.users.reissue("coord", live.services.application.clock())
    with live.client(token) as coord:
        coord.get(f"/trajectories/{tid}")
        coord.post(f"/trajectories/{tid}/signals", json=SIGNAL)
    with live.client(live.token("admin", "admin", "org-a", user_id="admin-a")) as admin:
        answer = admin.get("/audit/access", params={"trajectory": tid})
        again = admin.get("/audit/access", params={"trajectory": tid})
    assert answer.status_code == 200, answer.text
    log = answer.json()
    assert [e["entry_id"] for e in log] == sorted(e["entry_id"] for e in log)
    assert [e["at"] for e in log] == sorted(e["at"] for e in log)
    assert [(e["action"], e["outcome"]) for e in log] == [
        ("write", "ok"), ("read", "ok"), ("write", "ok"), ("audit-read", "ok")
    ]
    assert log[-1]["user_id"] == "admin-a"
    assert log[-1]["request_id"] == answer.headers["x-request-id"]
    assert len(again.json()) == len(log) + 1
    assert GIRL not in answer.text


def test_an_admin_of_another_organisation_gets_404_and_is_logged(
    live: Live, tid: str
) -> None:
    with live.client(live.token("admin-b", "admin", "org-b", user_id="admin-b")) as admin:
        answer = admin.get("/audit/access", params={"trajectory": tid})
    assert_problem(answer, 404)
    last = entries(live, tid)[-1]
    assert (last["user_id"], last["action"], last["outcome"]) == ("admin-b", "audit-read",
                                                                  "denied")


@pytest.mark.parametrize(
    "statement",
    ["UPDATE access_log SET outcome = 'ok'", "DELETE FROM access_log"],
)
def test_the_database_refuses_to_change_or_delete_the_log(
    live: Live, tid: str, statement: str
) -> None:
    before = entries(live, tid)
    db = live.services.application.db
    with pytest.raises(Exception, match="append-only"), db.transaction() as tx:
        tx.execute(statement)
    assert entries(live, tid) == before


def make_log_unwritable(app: TrajectoryApplication) -> None:
    with app.db.transaction() as tx:
        if app.dialect == "sqlite":
            tx.execute(
                "CREATE TRIGGER access_log_broken BEFORE INSERT ON access_log"
                " BEGIN SELECT RAISE(ABORT, 'x'); END"
            )
        else:
            tx.execute(
                "CREATE OR REPLACE FUNCTION access_log_broken() RETURNS trigger AS $$"
                " BEGIN RAISE EXCEPTION 'x'; END; $$ LANGUAGE plpgsql"
            )
            tx.execute(
                "CREATE TRIGGER access_log_broken BEFORE INSERT ON access_log"
                " FOR EACH ROW EXECUTE FUNCTION access_log_broken()"
            )


def repair_log(app: TrajectoryApplication) -> None:
    with app.db.transaction() as tx:
        tx.execute(
            "DROP TRIGGER access_log_broken"
            if app.dialect == "sqlite"
            else "DROP TRIGGER access_log_broken ON access_log"
        )


def assert_failed_closed(answer: httpx.Response) -> None:
    assert answer.status_code in (500, 503), answer.text
    assert_problem(answer)
    assert not leaks(answer.text), answer.text


def test_when_the_log_cannot_be_written_the_act_fails(
    live: Live, app: TrajectoryApplication, tid: str
) -> None:
    token = live.services.users.reissue("coord", live.services.application.clock())
    version = app.current_version(UUID(tid))
    make_log_unwritable(app)
    try:
        with live.client(token) as http:
            write = http.post(f"/trajectories/{tid}/signals", json=SIGNAL)
            keyed = http.post(f"/trajectories/{tid}/signals", json=SIGNAL,
                              headers={"Idempotency-Key": "k"})
            opened = http.post("/trajectories", json=intake_named("Lotte Tweede"))
            read = http.get(f"/trajectories/{tid}")
            history = http.get(f"/trajectories/{tid}/events")
            caseload = http.get("/trajectories")
        for answer in (write, keyed, opened, read, history, caseload):
            assert_failed_closed(answer)
    finally:
        repair_log(app)
    # Nothing was recorded, not even the idempotency record of the failed write.
    assert app.current_version(tid) == version  # type: ignore[arg-type]
    assert len(app.index()) == 1
    with live.client(token) as http:
        retry = http.post(f"/trajectories/{tid}/signals", json=SIGNAL,
                          headers={"Idempotency-Key": "k"})
        assert retry.status_code == 201
        assert retry.json()["version"] == version + 1


def test_the_api_caseload_names_every_girl_it_returned_in_one_entry(
    live: Live, tid: str
) -> None:
    # given a second girl in the organisation
    with live.client(live.token("coord-2", "coordinator", "org-a", user_id="coord-2")) as http:
        other = str(http.post("/trajectories", json=intake_named("Lotte Ander")).json()["id"])
        before = len(live.services.access.for_trajectory(tid))
        # when a coordinator lists her caseload over the API
        listed = http.get("/trajectories")
    assert listed.status_code == 200
    returned = {item["id"] for item in listed.json()["items"]}
    assert returned == {tid, other}
    # then one entry names both girls, and each girl's own log shows that listing
    mine = entries(live, tid)
    assert len(mine) == before + 1
    listing = mine[-1]
    assert (listing["action"], listing["outcome"], listing["trajectory_id"]) == (
        "search", "ok", None)
    assert set(listing["shown"]) == returned
    assert entries(live, other)[-1]["entry_id"] == listing["entry_id"]
