"""What the API tests share: a small world of users and trajectories, bodies built from the
app's own OpenAPI document, and the checks that a refusal reveals nothing.

The world is made through the application service (fast); everything under test then goes
over real HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from tests.builders import intake
from tests.conftest import FakeClock, all_protocols
from tests.live import Live, live_server
from trajectory.aggregates.events.handover import HandoverPackage
from trajectory.aggregates.events.intake import Identity
from trajectory.api.throttle import FailureThrottle
from trajectory.application import Actor, TrajectoryApplication
from trajectory.commands import DecideComenshaRegistration, PrepareHandover, RegisterNetworkContact
from trajectory.identity.teams import Teams
from trajectory.settings import Settings

# Words that must never appear in an answer to someone who may not see the trajectory.
GIRL = "Noor Verborgen"
REGION = "Zeeuws-Vlaanderen"
ORG_A = "Stichting Zonnebloem"
ORG_B = "Jeugdzorg Noordkaap"
AFTERCARE_ORG = "Nazorg Westhoek"
INSPECTORATE = "Inspectie Gezondheidszorg en Jeugd"

INTAKE: dict[str, Any] = {
    "intake_date": "2026-02-02",
    "victim_status": "suspected",
    "risk_profiles": ["traumatised", "influenceable"],
    "setting": "residential",
    "referral_source": "police",
    "legal_framework": "ots",
    "identity": {"name": GIRL, "date_of_birth": "2010-05-05", "home_region": REGION},
}



def intake_named(name: str) -> dict[str, Any]:
    """The intake body for another girl: the same name and birth date in care twice is a
    possible duplicate (`trajectory.duplicates`), refused without a reason."""
    return {**INTAKE, "identity": {**INTAKE["identity"], "name": name}}


PACKAGE: dict[str, Any] = {
    "sexual_development": "age-appropriate, history of abuse",
    "loverboy_problem": "confirmed loverboy victim",
    "safety_plan": "no contact with the prohibited contacts",
    "agreements": "weekly contact",
    "aftercare_plan": "weekly visits for six months",
}

_LEAKS = re.compile(
    r"Traceback|File \"|line \d+, in|\bSELECT\b|\bINSERT\b|\bUPDATE\b|sqlite|psycopg|"
    r"postgres|eventsourcing|litestar|msgspec|uvicorn|\bstate\.|__\w+__|"
    r"\btrajectory\.(?:api|aggregates|application|persistence|commands|views|protocol|users"
    r"|access_log|idempotency)\b|[A-Z][a-z]+(?:Error|Exception)\b",
)


@dataclass(frozen=True)
class World:
    """Users of every kind, and one trajectory of org A handed over to `aftercare`."""

    live: Live
    tokens: dict[str, str]
    user_ids: dict[str, str]
    trajectory: UUID
    other_trajectory: UUID
    contact_id: str

    def client(self, who: str) -> httpx.Client:
        return self.live.client(self.tokens.get(who))


# who -> (role, organisation); the keys double as user names and user ids.
PEOPLE: dict[str, tuple[str, str]] = {
    "coordinator": ("coordinator", ORG_A),
    "coordinator-other-org": ("coordinator", ORG_B),
    "aftercare": ("aftercare", AFTERCARE_ORG),
    "aftercare-other": ("aftercare", AFTERCARE_ORG),
    "researcher": ("researcher", "Universiteit Onderzoek"),
    "admin": ("admin", ORG_A),
    "admin-other-org": ("admin", ORG_B),
    "quality": ("quality", ORG_A),
    "inspector": ("inspector", INSPECTORATE),
    # the relationship (issue 18): a coordinator of her organisation in another team than
    # the girl's, and the organisation's privacy officer
    "coordinator-other-team": ("coordinator", ORG_A),
    "privacy": ("privacy", ORG_A),
}
TEAM = "team-zon"
"""The girl's team, and the coordinator's (`coordinator-other-team` is in `OTHER_TEAM`)."""
OTHER_TEAM = "team-maan"


def make_world(live: Live) -> World:
    tokens = {who: live.token(who, role, org, user_id=who) for who, (role, org) in PEOPLE.items()}
    tokens["bad-token"] = "trj_" + "A" * 43
    app = live.services.application
    coordinator = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
    other = Actor(user_id="coordinator-other-org", role="coordinator", organisation=ORG_B)
    teams = Teams(app.db)
    for team_id, name, member in ((TEAM, "Groep Zon", "coordinator"),
                                  (OTHER_TEAM, "Groep Maan", "coordinator-other-team")):
        teams.create(ORG_A, name, by="admin", now=app.clock(), team_id=team_id)
        teams.add_member(team_id, member, by="admin", now=app.clock())
    identity = Identity(name=GIRL, date_of_birth=date(2010, 5, 5), home_region=REGION)
    tid = app.open_trajectory(intake(identity=identity, team=TEAM), coordinator).trajectory_id
    contact = app.execute(
        tid, RegisterNetworkContact(role="aunt", risk="safe"), coordinator
    ).created
    assert contact is not None
    app.execute(tid, DecideComenshaRegistration(decision="registered_by_name",
                                                consent_by="parent"), coordinator)
    app.execute(
        tid,
        PrepareHandover(
            receiving_organisation=AFTERCARE_ORG,
            receiving_worker="aftercare",
            package=HandoverPackage(**PACKAGE),
        ),
        coordinator,
    )
    other_tid = app.open_trajectory(intake(), other).trajectory_id
    return World(
        live=live,
        tokens=tokens,
        user_ids={who: who for who in PEOPLE},
        trajectory=tid,
        other_trajectory=other_tid,
        contact_id=contact,
    )


# -- bodies from the OpenAPI document -----------------------------------------------------
def resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def sample(schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """The smallest instance that the schema accepts: required fields only."""
    schema = resolve(schema, doc)
    for combinator in ("oneOf", "anyOf"):
        if combinator in schema:
            options = [resolve(s, doc) for s in schema[combinator]]
            chosen = next(s for s in options if s.get("type") != "null")
            return sample(chosen, doc)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return "2026-03-01"
        if fmt == "date-time":
            return "2026-03-01T10:00:00Z"
        if fmt == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        return "x" * max(int(schema.get("minLength", 1)), 1)
    if kind in ("integer", "number"):
        return int(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return [sample(schema.get("items", {}), doc) for _ in range(schema.get("minItems", 0))]
    properties = schema.get("properties", {})
    return {name: sample(properties[name], doc) for name in schema.get("required", [])}


def request_body(doc: dict[str, Any], path: str, method: str) -> Any | None:
    operation = doc["paths"].get(path, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return sample(content["application/json"]["schema"], doc)


def takes_header(doc: dict[str, Any], path: str, method: str, header: str) -> bool:
    operation = doc["paths"].get(path, {}).get(method.lower(), {})
    return any(
        p.get("in") == "header" and p.get("name", "").lower() == header.lower()
        for p in operation.get("parameters", [])
    )


def openapi_path(route_path: str) -> str:
    """`/x/{trajectory_id:str}` (Litestar) -> `/x/{trajectory_id}` (OpenAPI)."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", route_path)


# -- what a refusal may say ----------------------------------------------------------------
def assert_problem(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """An RFC 9457 problem, with the answer's own status."""
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), (
        response.headers.get("content-type"),
        response.text,
    )
    body = response.json()
    assert isinstance(body, dict)
    assert body["status"] == response.status_code
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["type"], str)
    return body


def leaks(text: str, *secrets: str) -> list[str]:
    """What an answer reveals that it must not: secrets, traces, SQL, internal names."""
    found = [s for s in secrets if s and s.lower() in text.lower()]
    found += [m.group(0) for m in _LEAKS.finditer(text)]
    return found


def assert_reveals_nothing(response: httpx.Response, *secrets: str) -> None:
    assert_problem(response)
    text = response.text + " ".join(
        f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "date"
    )
    assert not leaks(text, *secrets), (leaks(text, *secrets), response.text)


@contextmanager
def live_world(store: Path) -> Iterator[World]:
    """A real server on a fresh SQLite file at `store`, with every person of `PEOPLE` and
    a throttle that never trips: for tests that fire thousands of requests (schemathesis,
    fuzzing) from one client address."""
    application = TrajectoryApplication(
        Settings(database_url=f"sqlite:///{store}"), clock=FakeClock(), protocols=all_protocols()
    )
    try:
        with live_server(application, throttle=FailureThrottle(limit=100_000)) as live:
            yield make_world(live)
    finally:
        application.close()
