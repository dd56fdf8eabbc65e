"""Who may do what: every route of the app, every kind of caller, the expected answer.

The routes come from the app itself (`create_app(...).routes`), so a new route is tested
the day it is added: unless this file's policy says otherwise, a route under
`/trajectories/{id}` is for the coordinators of the owning organisation only. The
irreversible acts (export, erasure) need a step-up token: the long-lived token of a role
that may do them gets 403, and a step-up token may do those acts and nothing else. Refusals
must be problem+json and reveal nothing: not the girl's name, not the organisation that
holds the trajectory, no trace, no SQL, no internal names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from tests.api_support import (
    GIRL,
    ORG_A,
    REGION,
    World,
    assert_reveals_nothing,
    make_world,
    openapi_path,
    request_body,
    takes_header,
)
from tests.conftest import MASTER_KEY, FakeClock
from tests.live import live_server
from tests.project_support import approved_project
from trajectory.api.app import create_app
from trajectory.api.throttle import FailureThrottle
from trajectory.application import Actor, TrajectoryApplication
from trajectory.emergency import EmergencyAccesses
from trajectory.erasure_proposals import propose
from trajectory.identity.teams import Teams
from trajectory.organisation.facts import ORGANISATION_FACTS
from trajectory.settings import Settings
from trajectory.visibility import break_the_glass

# The callers. "coordinator", "aftercare", "admin" and "privacy" belong with the trajectory
# (its organisation and team, or it was handed over to her); the others do not: a
# coordinator of another team of her organisation finds her as little as one of another
# organisation.
CALLERS = (
    "coordinator",
    "coordinator-other-org",
    "aftercare",
    "aftercare-other",
    "researcher",
    "admin",
    "admin-other-org",
    "quality",
    "inspector",
    "privacy",
    "researcher-stepped-up",
    "admin-stepped-up",
    "no-token",
    "bad-token",
    # the relationship (issue 18): her organisation, another team
    "coordinator-other-team",
)
ROLE = {
    "coordinator": "coordinator",
    "coordinator-other-org": "coordinator",
    "aftercare": "aftercare",
    "aftercare-other": "aftercare",
    "researcher": "researcher",
    "admin": "admin",
    "admin-other-org": "admin",
    "quality": "quality",
    "inspector": "inspector",
    "privacy": "privacy",
    "researcher-stepped-up": "researcher",
    "admin-stepped-up": "admin",
    "coordinator-other-team": "coordinator",
}
SEES_TRAJECTORY = {"coordinator", "aftercare", "admin", "admin-stepped-up", "privacy"}
# (method, path) -> the step-up scope it needs; a step-up token carries only its role's.
STEP_UP = {
    ("POST", "/trajectories/{trajectory_id:str}/erasure"): "erase",
    ("POST", "/admin/erasures"): "erase",
    ("POST", "/admin/erasures/{proposal_id:str}/confirmation"): "erase",
    ("POST", "/research/exports"): "export",
}
STEPPED_UP = {"researcher-stepped-up": "export", "admin-stepped-up": "erase"}
# What an allowed caller gets for the smallest body, when that cannot succeed: the world's
# people have no password and TOTP to step up with.
SAMPLE_ANSWER = {
    ("POST", "/auth/step-up"): 403,
    # the smallest body's months ("x") are no months
    ("POST", "/organisation/facts/signal-analyses"): 422,
}

# Routes that anyone may use: no care data behind them.
PUBLIC = {
    "/",  # the index: a browser to /app/, an API client to the links
    "/health",
    "/schema",
    "/schema/openapi.json",
    "/schema/swagger",
    "/schema/oauth2-redirect.html",
    "/schema/{path:str}",
    "/statistics/signing-key",  # a public key, published on purpose
}
# Routes for the operators' tools, not for users: no care data behind them, and no user's
# token opens them. Off unless the installation set their own token (the matrix sets none):
# then they answer every caller as a path that does not exist (tests/test_metrics.py).
OPERATORS = {"/metrics"}
# (method, path) -> roles allowed; anything under /trajectories not listed: coordinators.
POLICY: dict[tuple[str, str], set[str]] = {
    ("GET", "/trajectories"): {"coordinator", "aftercare"},
    ("POST", "/trajectories"): {"coordinator"},
    ("GET", "/trajectories/{trajectory_id:str}/handover"): {"coordinator", "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/handover/acceptance"): {"coordinator",
                                                                          "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/runaways"): {"coordinator", "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/runaways/return"): {"coordinator", "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/aftercare"): {"coordinator", "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/aftercare-contacts"): {"coordinator", "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/aftercare/end"): {"coordinator", "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/aftercare/contact-details"): {"coordinator",
                                                                               "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/continuation-after-18"): {"coordinator",
                                                                           "aftercare"},
    ("GET", "/trajectories/{trajectory_id:str}/handover.pdf"): {"coordinator", "aftercare"},
    # Her record in FHIR: whoever may read her file, as the handover view (issue 19).
    ("GET", "/trajectories/{trajectory_id:str}/fhir"): {"coordinator", "aftercare"},
    # Outcomes: whoever holds her, in care, in aftercare and after closure.
    ("POST", "/trajectories/{trajectory_id:str}/revictimisations"): {"coordinator", "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/follow-ups"): {"coordinator", "aftercare"},
    ("POST", "/trajectories/{trajectory_id:str}/follow-ups/not-possible"): {"coordinator",
                                                                           "aftercare"},
    ("GET", "/aftercare-workers"): {"coordinator"},
    ("GET", "/audit/access"): {"admin", "privacy"},
    ("GET", "/audit/access.fhir"): {"admin", "privacy"},
    ("GET", "/audit/anomalies"): {"admin", "privacy"},
    ("POST", "/trajectories/{trajectory_id:str}/erasure"): {"admin"},
    ("GET", "/admin/erasures"): {"admin"},
    ("POST", "/admin/erasures"): {"admin"},
    ("POST", "/admin/erasures/{proposal_id:str}/confirmation"): {"admin"},
    ("GET", "/retention"): {"admin"},
    ("GET", "/quality/core-elements"): {"coordinator", "admin", "quality"},
    ("GET", "/quality/signals"): {"coordinator", "admin", "quality"},
    ("GET", "/quality/outcomes"): {"coordinator", "admin", "quality"},
    ("GET", "/quality/outcomes.csv"): {"coordinator", "admin", "quality"},
    ("GET", "/quality/out-of-view"): {"coordinator", "admin", "quality"},
    # The organisation's own duties: its quality officer and admin; every organisation's
    # figures: the inspector. Neither ever reaches a girl's record (403 above).
    ("GET", "/organisation/facts"): {"quality", "admin"},
    **{
        ("POST", f"/organisation/facts/{fact.path}"): {"quality", "admin"}
        for fact in ORGANISATION_FACTS
    },
    ("GET", "/inspection/organisations"): {"inspector"},
    ("GET", "/out-of-view"): {"coordinator", "aftercare"},
    ("GET", "/statistics/victims"): {"researcher", "admin", "inspector"},
    ("POST", "/research/exports"): {"researcher"},
    ("GET", "/research/projects"): {"researcher", "admin"},
    ("POST", "/research/projects"): {"researcher"},
    ("GET", "/research/projects/{name:str}"): {"researcher", "admin"},
    ("POST", "/research/projects/{name:str}/approvals"): {"admin"},
    ("POST", "/research/projects/{name:str}/members"): {"admin"},
    ("POST", "/auth/step-up"): {"researcher", "admin"},
    # Emergency access (break the glass): asked for and ended by a coordinator (the
    # default of a route under /trajectories); reviewed by the organisation's privacy
    # officer, whose settings its admin may change too.
    ("GET", "/audit/emergency-accesses"): {"privacy"},
    ("POST", "/audit/emergency-accesses/{access_id:str}/review"): {"privacy"},
    ("GET", "/audit/access-settings"): {"privacy", "admin"},
    ("PUT", "/audit/access-settings"): {"privacy", "admin"},
    # The organisation's teams: its admin manages them; its coordinators choose from them.
    ("GET", "/teams"): {"admin", "coordinator"},
    ("POST", "/teams"): {"admin"},
    ("POST", "/teams/{team_id:str}/members"): {"admin"},
    ("DELETE", "/teams/{team_id:str}/members/{user_id:str}"): {"admin"},
    ("POST", "/teams/{team_id:str}/retirement"): {"admin"},
}
# Methods Litestar answers itself, with no guard and no data: CORS preflight.
UNGUARDED_METHODS = {"OPTIONS", "HEAD"}
PROJECT = "matrix-study"
MATRIX_TEAM = "matrix-team"
"""A team of the trajectory's organisation, with its coordinator as a member."""


def expected(method: str, path: str, caller: str) -> int | str:
    """The status a caller must get, or "allowed"."""
    if path in PUBLIC:
        return "allowed"
    if path in OPERATORS:
        return 404
    if caller in ("no-token", "bad-token"):
        return 401
    if (method, path) in POLICY:
        roles = POLICY[(method, path)]
    elif path.startswith("/trajectories"):
        roles = {"coordinator"}
    else:  # a new top-level route: this test must be told who may use it
        raise AssertionError(f"no access policy for {method} {path}: add it to POLICY")
    if ROLE[caller] not in roles:
        return 403
    # a long-lived token may not do an irreversible act; a step-up token nothing else
    if STEP_UP.get((method, path)) != STEPPED_UP.get(caller):
        return 403
    about_one = (
        "{trajectory_id" in path
        or "{proposal_id" in path
        or path in ("/audit/access", "/audit/access.fhir")
        or (method, path) == ("POST", "/admin/erasures")  # her id is in the body
        or "{team_id" in path  # a team of her organisation's
    )
    # Emergency access is for a coordinator of her organisation outside her relationships:
    # to her the girl's file exists only for asking (and ending) it.
    if "/emergency-access" in path and caller == "coordinator-other-team":
        return "allowed"
    if about_one and caller not in SEES_TRAJECTORY:
        return 404
    # a research project's organisations decide on it, and bind its researchers
    if "{name" in path and method == "POST" and caller == "admin-other-org":
        return 403
    return "allowed"


def operations(application: TrajectoryApplication) -> Iterator[tuple[str, str]]:
    from trajectory.composition.http import build_services

    for route in create_app(build_services(application)).routes:
        assert isinstance(route, HTTPRoute)
        if route.path == "/app" or route.path.startswith("/app/"):
            continue  # the web pages: signed-in sessions, not tokens (tests/test_web_*.py)
        for method in sorted(route.methods - UNGUARDED_METHODS):
            yield method, route.path


def fill(path: str, world: World, proposal_id: str = "", access_id: str = "") -> str:
    values = {
        "access_id": access_id,
        "trajectory_id": str(world.trajectory),
        "contact_id": world.contact_id,
        "kind": "internet",
        "position": "1",
        "path": "swagger",
        "proposal_id": proposal_id,
        "name": PROJECT,
        "team_id": MATRIX_TEAM,
        "user_id": "coordinator",
    }
    for name, value in values.items():
        path = path.replace(f"{{{name}:str}}", value).replace(f"{{{name}:int}}", value)
    assert "{" not in path, f"the matrix cannot fill the parameters of {path}"
    if path in ("/audit/access", "/audit/access.fhir"):
        path += f"?trajectory={world.trajectory}"
    queries = {
        "/quality/signals": "?from=2026-01&to=2026-12",
        "/quality/outcomes": "?from=2026-01&to=2026-12",
        "/quality/outcomes.csv": "?from=2026-01&to=2026-12",
        "/statistics/victims": "?from=2025&to=2026",
    }
    path += queries.get(path, "")
    return path


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Every route there can be, the interactive API docs too (off by default:
    tests/test_api_docs.py)."""
    return Settings(
        database_url=database_url, snapshot_interval=10, master_key=MASTER_KEY, api_docs="on"
    )


@pytest.fixture
def world(app: TrajectoryApplication) -> Iterator[World]:
    # Bad tokens are part of the matrix: the throttle must not turn them into 429s here.
    with live_server(app, throttle=FailureThrottle(limit=100_000)) as live:
        world = make_world(live)
        for who in STEPPED_UP:
            user = live.services.users.find(who.removesuffix("-stepped-up"))
            assert user is not None
            world.tokens[who], _ = live.services.users.issue_step_up(user, app.clock())
        yield world


def test_the_matrix_covers_the_routes_of_the_design(app: TrajectoryApplication) -> None:
    paths = {path for _, path in operations(app)}
    for sub in (
        "safety-analyses",
        "phase-transitions",
        "permissions/{kind:str}",
        "closure",
        "handover",
        "events",
        "aftercare-contacts",
        "corrections",
        "revictimisations",
        "follow-ups",
        "follow-ups/not-possible",
    ):
        assert f"/trajectories/{{trajectory_id:str}}/{sub}" in paths
    assert {"/trajectories", "/audit/access", "/health", "/metrics"} <= paths


def test_every_route_answers_every_caller_as_the_policy_says(
    world: World, app: TrajectoryApplication
) -> None:
    with world.live.client() as http:
        doc: dict[str, Any] = http.get("/schema/openapi.json").json()
    version_before = app.current_version(world.trajectory)
    # An erasure proposal of her organisation's admin: the approval route has one to
    # refuse (the proposer cannot approve it; another organisation does not find it).
    proposal = propose(app, world.trajectory, by=Actor(user_id="admin", role="admin",
                       organisation=ORG_A), reason="matrix", legal_ground="court-order",
                       court_reference="matrix-1")
    # A research project of her organisation: its admin decides on it and binds, and the
    # researcher (bound) exports it.
    approved_project(app, PROJECT, researcher="researcher", organisations=[ORG_A])
    # An emergency access of her organisation, for its privacy officer to review.
    access = EmergencyAccesses(app.db).grant(
        organisation=ORG_A, user_id="coordinator", trajectory_id=str(world.trajectory),
        reason="crisis", explanation="", write=False, now=app.clock())
    # A team of her organisation's, its coordinator a member (the admin removes her).
    teams = Teams(app.db)
    teams.create(ORG_A, "Matrixteam", by="admin", now=app.clock(), team_id=MATRIX_TEAM)
    teams.add_member(MATRIX_TEAM, "coordinator", by="admin", now=app.clock())
    bodies: dict[tuple[str, str], Any] = {("POST", "/research/exports"): {"project": PROJECT}}
    # Proposing names her in the body; without the order's reference it records nothing.
    bodies |= {("POST", "/admin/erasures"): {
        "trajectory_id": str(world.trajectory), "reason": "matrix", "legal_ground": "court-order"}}
    # Placing her with a team, or making a coordinator responsible, names one that exists.
    bodies |= {
        ("POST", "/trajectories/{trajectory_id:str}/team-assignments"): {"team": MATRIX_TEAM},
        ("POST", "/trajectories/{trajectory_id:str}/coordinator-assignments"): {
            "coordinator": "coordinator"},
    }
    wrong: list[str] = []
    checked = 0
    clients = {who: world.client(who) for who in CALLERS if who != "no-token"}
    clients["no-token"] = world.live.client()
    try:
        for method, path in operations(app):
            url = fill(path, world, proposal.proposal_id, access.access_id)
            body = bodies.get((method, path), request_body(doc, openapi_path(path), method))
            headers = {}
            # A stale If-Match lets an allowed write pass every check and record nothing.
            if takes_header(doc, openapi_path(path), method, "If-Match"):
                headers["If-Match"] = '"999"'
            for caller in CALLERS:
                want = expected(method, path, caller)
                if want == "allowed" and (method, path) in SAMPLE_ANSWER:
                    want = SAMPLE_ANSWER[(method, path)]
                response = clients[caller].request(method, url, json=body, headers=headers)
                checked += 1
                got = response.status_code
                if want == "allowed":
                    if method == "GET" and path != "/schema/{path:str}" and got != 200:
                        wrong.append(f"{caller} {method} {path}: {got}, want 200")
                    elif "If-Match" in headers and got != 412:
                        wrong.append(f"{caller} {method} {path}: {got}, want 412 (stale)")
                    elif got in (401, 403, 404) or got >= 500:
                        wrong.append(f"{caller} {method} {path}: {got}, want success")
                    continue
                if got != want:
                    wrong.append(f"{caller} {method} {path}: {got}, want {want}")
                    continue
                try:
                    assert_reveals_nothing(response, GIRL, REGION, ORG_A)
                except AssertionError as e:
                    wrong.append(f"{caller} {method} {path}: reveals {e}")
                if (
                    got == 401
                    and "bearer" not in response.headers.get("www-authenticate", "").lower()
                ):
                    wrong.append(f"{caller} {method} {path}: 401 without a Bearer challenge")
    finally:
        for client in clients.values():
            client.close()
    assert not wrong, "\n".join(wrong)
    assert checked > 300
    # Nothing that was refused, nor any stale write, recorded a thing.
    assert app.current_version(world.trajectory) == version_before


def test_another_organisations_id_answers_like_an_unknown_one(world: World) -> None:
    unknown = "7f1c2a9e-0000-4000-8000-000000000001"
    with world.client("coordinator-other-org") as http:
        theirs = http.get(f"/trajectories/{world.trajectory}")
        missing = http.get(f"/trajectories/{unknown}")
        malformed = http.get("/trajectories/not-an-id")
    bodies = [r.json() for r in (theirs, missing, malformed)]
    assert [r.status_code for r in (theirs, missing, malformed)] == [404, 404, 404]
    for body in bodies:
        body.pop("instance")
        body.pop("request_id")
    assert bodies[0] == bodies[1] == bodies[2]


def test_an_admin_reads_the_access_log_of_her_own_organisation_only(world: World) -> None:
    with world.client("admin") as mine, world.client("admin-other-org") as theirs:
        assert mine.get("/audit/access", params={"trajectory": str(world.trajectory)}).is_success
        refused = theirs.get("/audit/access", params={"trajectory": str(world.trajectory)})
        assert refused.status_code == 404
        assert_reveals_nothing(refused, GIRL, ORG_A)
        # and the ids in a query are checked like the ids in a path
        other = mine.get("/audit/access", params={"trajectory": str(world.other_trajectory)})
        assert other.status_code == 404


def _about_her(app: TrajectoryApplication) -> Iterator[tuple[str, str]]:
    """The routes about one girl a coordinator may use (but asking and ending emergency
    access itself: the other test's)."""
    for method, path in operations(app):
        if "/emergency-access" in path:
            continue
        if "{trajectory_id" in path and "coordinator" in POLICY.get((method, path),
                                                                    {"coordinator"}):
            yield method, path


def test_a_coordinator_of_another_team_reads_by_emergency_access_and_records_nothing(
    world: World, app: TrajectoryApplication, clock: FakeClock
) -> None:
    """Given a coordinator of the girl's organisation in another team, who gets 404 on her;
    when she opens the file by emergency access (to read: the organisation's default);
    then every read about her answers, every write is refused as read-only, and nothing is
    recorded; and when its hours are over, she gets 404 again."""
    with world.live.client() as http:
        doc: dict[str, Any] = http.get("/schema/openapi.json").json()
    with world.client("coordinator-other-team") as http:
        assert http.get(f"/trajectories/{world.trajectory}").status_code == 404
    who = Actor(user_id="coordinator-other-team", role="coordinator", organisation=ORG_A)
    break_the_glass(app.db, who, world.trajectory, reason="crisis", explanation="",
                    write=False, now=app.clock())
    version_before = app.current_version(world.trajectory)
    wrong: list[str] = []
    with world.client("coordinator-other-team") as http:
        for method, path in _about_her(app):
            url = fill(path, world)
            response = http.request(method, url,
                                    json=request_body(doc, openapi_path(path), method))
            if method == "GET":
                if response.status_code != 200:
                    wrong.append(f"{method} {path}: {response.status_code}, want 200")
                continue
            rule = (response.json().get("rule") if response.headers.get(
                "content-type", "").startswith("application/problem+json") else None)
            if (response.status_code, rule) != (409, "emergency-access-read-only"):
                wrong.append(f"{method} {path}: {response.status_code} {rule},"
                             " want 409 emergency-access-read-only")
    assert not wrong, "\n".join(wrong)
    assert app.current_version(world.trajectory) == version_before
    # and every one of those acts is marked in her access log as done by emergency access
    marked = [e for e in app.db.fetchall(
        "SELECT emergency_access, outcome FROM access_log WHERE user_id = ?"
        " AND trajectory_id = ?", ["coordinator-other-team", str(world.trajectory)])]
    assert marked
    assert all(e["emergency_access"] for e in marked[1:]), marked
    # and when its hours are over, the file is closed to her again
    clock.advance(hours=8)
    with world.client("coordinator-other-team") as http:
        assert http.get(f"/trajectories/{world.trajectory}").status_code == 404
