"""The HTTP semantics every client relies on: versions, retries, races, errors, hygiene.

Decision recorded here: an `occurred_on` that does not read as a date or time is a 422
naming `occurred_on` (the shape is wrong); one in the future is a 409 with the rule
`occurred-in-future` (the shape is right, but the rules refuse it: "the future" depends
on today, which no schema knows).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api_support import INTAKE, PACKAGE, assert_problem
from tests.live import Live, live_server
from trajectory.api.throttle import FailureThrottle
from trajectory.application import TrajectoryApplication

SIGNAL = {"kind": "loverboy", "note": "seen near the school"}


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


@pytest.fixture
def http(live: Live) -> Iterator[httpx.Client]:
    with live.client(live.token("coord", "coordinator", "org-a")) as client:
        yield client


@pytest.fixture
def tid(http: httpx.Client) -> str:
    created = http.post("/trajectories", json=INTAKE)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def history(http: httpx.Client, tid: str) -> list[dict[str, Any]]:
    events = http.get(f"/trajectories/{tid}/events")
    assert events.status_code == 200
    result: list[dict[str, Any]] = events.json()
    return result


def field_of(response: httpx.Response) -> list[str]:
    body = assert_problem(response, 422)
    return [e["field"] for e in body["errors"]]


# -- versions ----------------------------------------------------------------------------
def test_a_stale_if_match_is_refused_and_records_nothing(http: httpx.Client, tid: str) -> None:
    assert http.post(f"/trajectories/{tid}/signals", json=SIGNAL).status_code == 201
    stale = http.post(f"/trajectories/{tid}/signals", json=SIGNAL, headers={"If-Match": '"1"'})
    body = assert_problem(stale, 412)
    assert body["rule"] == "version-mismatch"
    assert len(history(http, tid)) == 2
    current = http.get(f"/trajectories/{tid}").headers["etag"]
    assert current == '"2"'
    fresh = http.post(f"/trajectories/{tid}/signals", json=SIGNAL, headers={"If-Match": current})
    assert fresh.status_code == 201
    assert fresh.headers["etag"] == '"3"'


MALFORMED_ETAGS = ["7", "'1'", '"one"', '"1", "2"', "*x", '"' + "9" * 30 + '"']


def test_a_malformed_if_match_is_a_422_naming_it(http: httpx.Client, tid: str) -> None:
    for value in MALFORMED_ETAGS:
        answer = http.post(
            f"/trajectories/{tid}/signals", json=SIGNAL, headers={"If-Match": value}
        )
        assert field_of(answer) == ["If-Match"], value
    assert len(history(http, tid)) == 1


def test_every_trajectory_answer_carries_its_version_as_etag(
    live: Live, http: httpx.Client, tid: str
) -> None:
    written = http.post(f"/trajectories/{tid}/signals", json=SIGNAL)
    assert written.headers["etag"] == '"2"'
    for path in ("", "/events", "/handover"):
        answer = http.get(f"/trajectories/{tid}{path}")
        assert answer.status_code == 200
        assert answer.headers["etag"] == '"2"', path


def test_creation_answers_201_with_location_and_version(http: httpx.Client) -> None:
    created = http.post("/trajectories", json=INTAKE)
    assert created.status_code == 201
    body = created.json()
    assert body["version"] == 1
    assert created.headers["location"] == f"/trajectories/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert http.get(created.headers["location"]).status_code == 200


# -- idempotency ---------------------------------------------------------------------------
def test_a_retry_with_the_same_key_returns_the_first_answer_and_records_once(
    http: httpx.Client, tid: str
) -> None:
    key = {"Idempotency-Key": "signal-2026-03-02-a"}
    first = http.post(f"/trajectories/{tid}/signals", json=SIGNAL, headers=key)
    again = http.post(f"/trajectories/{tid}/signals", json=SIGNAL, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    for header in ("content-type", "location", "etag"):
        assert first.headers[header] == again.headers[header], header
    assert [e["type"] for e in history(http, tid)] == ["TrajectoryOpened", "SignalRecorded"]


def test_a_retried_intake_opens_one_trajectory(http: httpx.Client) -> None:
    key = {"Idempotency-Key": "intake-1"}
    first = http.post("/trajectories", json=INTAKE, headers=key)
    again = http.post("/trajectories", json=INTAKE, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert first.headers["location"] == again.headers["location"]
    assert http.get("/trajectories").json()["total"] == 1


def test_the_same_key_with_another_body_is_refused(http: httpx.Client, tid: str) -> None:
    key = {"Idempotency-Key": "k-1"}
    assert http.post(f"/trajectories/{tid}/signals", json=SIGNAL, headers=key).status_code == 201
    other = http.post(
        f"/trajectories/{tid}/signals", json={**SIGNAL, "note": "another"}, headers=key
    )
    assert field_of(other) == ["Idempotency-Key"]
    assert assert_problem(other)["rule"] == "idempotency-key-reused"
    elsewhere = http.post(f"/trajectories/{tid}/interventions", json={
        "kind": "resilience_training", "provider": "x"}, headers=key)
    assert field_of(elsewhere) == ["Idempotency-Key"]
    assert len(history(http, tid)) == 2


def test_a_key_belongs_to_the_user_who_sent_it(live: Live, http: httpx.Client, tid: str) -> None:
    key = {"Idempotency-Key": "shared-key"}
    assert http.post(f"/trajectories/{tid}/signals", json=SIGNAL, headers=key).status_code == 201
    with live.client(live.token("coord-2", "coordinator", "org-a")) as colleague:
        theirs = colleague.post(f"/trajectories/{tid}/signals", json=SIGNAL, headers=key)
    assert theirs.status_code == 201
    assert len(history(http, tid)) == 3


# -- races ---------------------------------------------------------------------------------
def race(live: Live, token: str, calls: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[
    httpx.Response
]:
    """Send the calls at the same moment, one client and one thread each."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def send(i: int) -> None:
        path, body, headers = calls[i]
        with live.client(token) as client:
            barrier.wait()
            answers[i] = client.post(path, json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def test_of_concurrent_writers_at_one_version_exactly_one_wins(live: Live, tid: str) -> None:
    token = live.token("racer", "coordinator", "org-a")
    calls = [
        (f"/trajectories/{tid}/signals", {**SIGNAL, "note": f"writer {i}"}, {"If-Match": '"1"'})
        for i in range(6)
    ]
    answers = race(live, token, calls)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [412] * 5, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 412:
            assert_problem(answer)
    with live.client(token) as http:
        events = history(http, tid)
    assert [e["type"] for e in events] == ["TrajectoryOpened", "SignalRecorded"]
    winner = next(a for a in answers if a.status_code == 201)
    assert events[1]["data"]["note"] == next(
        c[1]["note"] for c, a in zip(calls, answers, strict=True) if a is winner
    )


def test_concurrent_writers_without_if_match_lose_nothing(live: Live, tid: str) -> None:
    token = live.token("racer", "coordinator", "org-a")
    calls: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (f"/trajectories/{tid}/signals", {**SIGNAL, "note": f"writer {i}"}, {}) for i in range(6)
    ]
    answers = race(live, token, calls)
    # A writer that lost the race to the next version may be told so (412) and retry;
    # none may fail, and what was answered 201 is recorded exactly once.
    assert all(a.status_code in (201, 412) for a in answers), [a.text for a in answers]
    with live.client(token) as http:
        events = history(http, tid)
    won = sorted(a.json()["positions"][0] for a in answers if a.status_code == 201)
    assert won == [e["position"] for e in events[1:]]
    assert len({e["data"]["note"] for e in events[1:]}) == len(won)


def test_concurrent_retries_with_one_key_record_once(live: Live, tid: str) -> None:
    token = live.token("racer", "coordinator", "org-a")
    calls: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (f"/trajectories/{tid}/signals", SIGNAL, {"Idempotency-Key": "same"})
    ] * 5
    answers = race(live, token, calls)
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    with live.client(token) as http:
        assert len(history(http, tid)) == 2


# -- input that does not fit -----------------------------------------------------------------
# Per sub-resource: a body that does not fit, and the field the 422 must name.
BAD_FACTS: list[tuple[str, dict[str, Any], str]] = [
    ("signals", {"kind": 7}, "kind"),
    ("signals", {"kind": "gossip"}, "kind"),
    ("signals", {"kind": "loverboy", "colour": "red"}, "colour"),
    ("signals", {"note": "no kind"}, "kind"),
    ("signals", {"kind": "loverboy", "note": "x" * 10_001}, "note"),
    ("signals", {"kind": "loverboy", "occurred_on": "2026-13-45"}, "occurred_on"),
    ("signals", {"kind": "loverboy", "occurred_on": "last tuesday"}, "occurred_on"),
    ("signals", {"kind": "loverboy", "occurred_on": "2026-03-01T10:00:00"}, "occurred_on"),
    ("signals", {"kind": "loverboy", "occurred_on": 20260301}, "occurred_on"),
    ("signals", {"kind": "loverboy", "occurred_on": "x" * 41}, "occurred_on"),
    ("phase-transitions", {"to_phase": "two"}, "to_phase"),
    ("phase-transitions", {"to_phase": 0}, "to_phase"),
    ("phase-transitions", {"to_phase": 2, "waivers": [{"criterion": "x"}]},
     "waivers[0].justification"),
    ("handover", {"receiving_organisation": "n", "receiving_worker": "w",
                  "package": {**PACKAGE, "safety_plan": "x" * 20_000}}, "package.safety_plan"),
    ("handover", {"receiving_organisation": "n", "receiving_worker": "w",
                  "package": {**PACKAGE, "extra": "x"}}, "package.extra"),
    ("placements", {"kind": "homogeneous_group", "region": ""}, "region"),
    ("network-contacts", {"role": "r" * 201, "risk": "safe"}, "role"),
]
# For the intake: a change to a good intake, and the field the 422 must name.
BAD_INTAKES: list[tuple[dict[str, Any], str]] = [
    ({"victim_status": "maybe"}, "victim_status"),
    ({"risk_profiles": ["unlucky"]}, "risk_profiles[0]"),
    ({"intake_date": "yesterday"}, "intake_date"),
    ({"identity": {**INTAKE["identity"], "name": "N" * 100_000}}, "identity.name"),
    ({"identity": {"name": "N", "date_of_birth": "2010-01-01"}}, "identity.home_region"),
    ({"organisation": "org-b"}, "organisation"),
    ({"setting": None}, "setting"),
]


def test_input_that_does_not_fit_is_a_422_naming_the_field(
    http: httpx.Client, tid: str
) -> None:
    wrong = []
    for path, body, field in BAD_FACTS:
        answer = http.post(f"/trajectories/{tid}/{path}", json=body)
        if answer.status_code != 422 or field not in field_of(answer):
            wrong.append(f"{path} {field}: {answer.status_code} {answer.text[:300]}")
    assert not wrong, "\n".join(wrong)
    assert len(history(http, tid)) == 1


def test_an_intake_that_does_not_fit_is_a_422_naming_the_field(http: httpx.Client) -> None:
    wrong = []
    for change, field in BAD_INTAKES:
        answer = http.post("/trajectories", json={**INTAKE, **change})
        if answer.status_code != 422 or field not in field_of(answer):
            wrong.append(f"{field}: {answer.status_code} {answer.text[:300]}")
    assert not wrong, "\n".join(wrong)
    assert http.get("/trajectories").json()["total"] == 0


def test_an_occurred_on_in_the_future_is_refused_by_the_rules(
    http: httpx.Client, tid: str
) -> None:
    answer = http.post(f"/trajectories/{tid}/signals",
                       json={**SIGNAL, "occurred_on": "2026-03-03"})
    assert assert_problem(answer, 409)["rule"] == "occurred-in-future"
    past = http.post(f"/trajectories/{tid}/signals",
                     json={**SIGNAL, "occurred_on": "2026-03-01T23:30:00+01:00"})
    assert past.status_code == 201
    assert history(http, tid)[-1]["occurred_on"] == "2026-03-01"


def test_malformed_json_is_a_problem(http: httpx.Client, tid: str) -> None:
    answer = http.post(f"/trajectories/{tid}/signals", content=b"{not json",
                       headers={"content-type": "application/json"})
    assert_problem(answer, 400)


def test_a_body_over_the_limit_is_a_413_problem(
    live: Live, http: httpx.Client, tid: str
) -> None:
    limit = live.services.max_body_bytes
    big = b'{"kind": "loverboy", "note": "' + b"x" * limit + b'"}'
    answer = http.post(f"/trajectories/{tid}/signals", content=big,
                       headers={"content-type": "application/json"})
    assert_problem(answer, 413)
    assert len(history(http, tid)) == 1


# -- paths, methods and ids -----------------------------------------------------------------
def test_unknown_paths_and_wrong_methods_are_problems(http: httpx.Client, tid: str) -> None:
    assert_problem(http.get("/nothing-here"), 404)
    assert_problem(http.get(f"/trajectories/{tid}/nothing-here"), 404)
    wrong = http.delete(f"/trajectories/{tid}")
    assert_problem(wrong, 405)
    assert "GET" in wrong.headers.get("allow", "GET")
    assert_problem(http.patch(f"/trajectories/{tid}/signals", json=SIGNAL), 405)


MALFORMED_IDS = ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000", "%00", "..%2F..%2Fetc"]


def test_malformed_trajectory_ids_are_404(http: httpx.Client) -> None:
    for bad_id in MALFORMED_IDS:
        for answer in (
            http.get(f"/trajectories/{bad_id}"),
            http.get(f"/trajectories/{bad_id}/events"),
            http.post(f"/trajectories/{bad_id}/signals", json=SIGNAL),
            http.put(f"/trajectories/{bad_id}/permissions/phone", json={"level": "none"}),
        ):
            assert_problem(answer, 404)


def test_an_unknown_id_answers_exactly_like_another_organisations_id(
    live: Live, http: httpx.Client, tid: str
) -> None:
    unknown = "0b7e6a7c-1111-4222-8333-444455556666"
    with live.client(live.token("other", "coordinator", "org-b")) as other:
        for method, suffix, body in (
            ("GET", "", None),
            ("GET", "/events", None),
            ("GET", "/handover", None),
            ("POST", "/signals", SIGNAL),
        ):
            theirs = other.request(method, f"/trajectories/{tid}{suffix}", json=body)
            missing = other.request(method, f"/trajectories/{unknown}{suffix}", json=body)
            assert theirs.status_code == missing.status_code == 404
            a, b = theirs.json(), missing.json()
            for volatile in ("instance", "request_id"):
                a.pop(volatile)
                b.pop(volatile)
            assert a == b
            assert set(theirs.headers) == set(missing.headers)


# -- hygiene ------------------------------------------------------------------------------
def test_every_answer_carries_the_security_headers_and_no_server_banner(
    live: Live, http: httpx.Client, tid: str
) -> None:
    answers = [
        http.get(f"/trajectories/{tid}"),
        http.post(f"/trajectories/{tid}/signals", json=SIGNAL),
        http.get("/nothing-here"),
        http.post(f"/trajectories/{tid}/signals", json={}),
        httpx.get(f"{live.base_url}/trajectories"),
        http.get("/health"),
    ]
    for answer in answers:
        h = answer.headers
        assert h["cache-control"] == "no-store", answer.request.url
        assert h["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in h["content-security-policy"]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "server" not in h
        assert h["x-request-id"]


def test_health_reports_the_store(live: Live) -> None:
    with live.client() as anyone:
        answer = anyone.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["store"] == "reachable"


def test_health_answers_503_when_the_store_does_not(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(live.services.application.db, "fetchone", down)
    with live.client() as anyone:
        answer = anyone.get("/health")
    assert_problem(answer, 503)
    assert "database went away" not in answer.text


# -- authentication ------------------------------------------------------------------------
def test_repeated_bad_tokens_from_one_client_are_throttled(app: TrajectoryApplication) -> None:
    with live_server(app, throttle=FailureThrottle(limit=3, window=60)) as live:
        good = live.token("coord", "coordinator", "org-a")
        with live.client("trj_guess") as guesser:
            answers = [guesser.get("/trajectories") for _ in range(3)]
            assert [a.status_code for a in answers] == [401, 401, 401]
            blocked = guesser.get("/trajectories")
        body = assert_problem(blocked, 429)
        assert int(blocked.headers["retry-after"]) >= 1
        assert body["title"] == "Too many requests"
        assert "trj_guess" not in blocked.text
        # Blocked means blocked: from that client, even a good token waits.
        with live.client(good) as same_client:
            assert same_client.get("/trajectories").status_code == 429


def test_a_missing_or_malformed_authorization_is_401(live: Live) -> None:
    for header in ("", "Bearer", "Basic dXNlcjpwYXNz", "trj_x", "Bearer  trj_x"):
        with live.client() as client:
            answer = client.get("/trajectories", headers={"Authorization": header})
        assert_problem(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_revocation_takes_effect_on_the_next_request(live: Live) -> None:
    token = live.token("leaver", "coordinator", "org-a")
    with live.client(token) as http:
        assert http.get("/trajectories").status_code == 200
        live.services.users.revoke("leaver", live.services.application.clock())
        assert_problem(http.get("/trajectories"), 401)


def test_a_repeated_query_parameter_is_a_422_naming_it(http: httpx.Client, tid: str) -> None:
    answer = http.get("/trajectories", params=[("status", "in_care"), ("status", "closed")])
    assert field_of(answer) == ["status"]
    answer = http.get(f"/trajectories/{tid}", params=[("as_of", "2026-03-01T00:00:00Z")] * 2)
    assert field_of(answer) == ["as_of"]
