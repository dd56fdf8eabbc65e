"""Bad input: whatever arrives, the answer is never a 5xx and a refusal records nothing.

Fuzzed with hypothesis (derandomised, so CI sees the same examples every run): the
protocol loader with TOML-ish documents, and the body of every write route in the app's
own route table with random and half-valid JSON. Then the classics one by one: oversized
bodies, 10,000 nested arrays, invalid UTF-8, dates in the future and before 1900, and ids
of another organisation. SQLite only: the HTTP layer and the loader are the same on both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.routes import HTTPRoute

from tests.api_support import (
    GIRL,
    INTAKE,
    ORG_A,
    REGION,
    World,
    assert_problem,
    assert_reveals_nothing,
    live_world,
    request_body,
)
from tests.builders import intake
from tests.conftest import FakeClock
from tests.step_up_support import enrol, stepped_up
from trajectory.aggregates.vocabulary import PERMISSION_KINDS
from trajectory.api.app import create_app
from trajectory.application import Actor
from trajectory.commands import RegisterNetworkContact
from trajectory.protocol import Protocol, ProtocolError
from trajectory.protocol.loader import parse_protocol

pytestmark = pytest.mark.slow

DEFAULT_TOML = (
    Path(__file__).parents[1] / "src" / "trajectory" / "protocol" / "default.toml"
).read_text()
FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


# -- the protocol loader ------------------------------------------------------------------
KEYS = [
    "protocol", "name", "version", "description", "phase", "number", "label", "caps",
    "network", "entry_criteria", "min_days_in_previous_phase", "aftercare", "attention",
    "retention", "years_after_care", "internet", "social_media", "phone", "leave",
    "contact_with_boys", "safe", "unknown", "risky", "prohibited", "safety_analysis_within_days",
]
WORDS = ["none", "supervised", "limited", "free", "accompanied", "unaccompanied",
         "unsupervised", "safety-analysis", "min-days-in-phase", "default", "2026.1", ""]

scalars = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(WORDS),
    st.text(max_size=12),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=12,
)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value > 0 else "-inf") if abs(
            value
        ) == float("inf") else repr(value)
    if isinstance(value, (int, date)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    """Tables and arrays of tables with protocol-like keys and any values."""
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        header = draw(st.sampled_from(["[protocol]", "[[phase]]", "[attention]", "[aftercare]",
                                       "[retention]", "[network]", "[[protocol]]"]))
        lines.append(header)
        fields = draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=6))
        lines += [f"{k} = {toml_value(v)}" for k, v in fields.items()]
    return "\n".join(lines)


@st.composite
def mutated_default(draw: st.DrawFn) -> str:
    """The default protocol with lines dropped, doubled or changed, or text spliced in."""
    lines = DEFAULT_TOML.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "double", "value", "splice", "truncate"]))
        if action == "drop":
            del lines[at]
        elif action == "double":
            lines.insert(at, lines[at])
        elif action == "value" and "=" in lines[at]:
            key = lines[at].split("=", 1)[0]
            lines[at] = f"{key}= {toml_value(draw(values))}"
        elif action == "splice":
            lines[at] = lines[at] + draw(st.text(max_size=8))
        else:
            lines = lines[:at]
    return "\n".join(lines)


@settings(FUZZ, max_examples=400)
@given(document=st.one_of(toml_documents(), mutated_default(), st.text(max_size=200)))
def test_the_protocol_loader_answers_a_protocol_or_a_protocol_error(document: str) -> None:
    try:
        protocol: Protocol | None = parse_protocol(document, "fuzz.toml")
    except ProtocolError as e:
        protocol, refusal = None, str(e)
    if protocol is None:
        assert refusal.startswith("fuzz.toml: ")  # names the file, then the key
    else:
        assert isinstance(protocol, Protocol)
        assert protocol.phase


# -- request bodies -----------------------------------------------------------------------
@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with live_world(tmp_path / "trajectory.sqlite") as w:
        yield w


def write_routes(world: World) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, roles) of every API route that takes a body, from the app's route
    table (the web pages' form posts have tests of their own)."""
    app = create_app(world.live.services)
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/app"):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods & {"POST", "PUT", "PATCH"}):
                found.append((method, route.path, tuple(handler.opt.get("roles", ()))))
    return sorted(set(found))


OCCURRED = ["2026-03-02", "2026-03-03", "2025-12-31", "2026-01-04", "1900-01-01", "1899-12-31",
            "2026-03-02T23:59:59+01:00", "2026-03-02T12:00:00", "2026-02-30", "not a date"]


def json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**64), 2**64),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
        st.sampled_from(["2026-03-01", "1899-12-31", "2999-01-01", "0001-01-01", "", "free",
                         "none", "loverboy", str(UUID(int=0))]),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=10,
    )


@st.composite
def bodies(draw: st.DrawFn, valid: Any) -> Any:
    """Any JSON, or a valid body with one field changed, dropped or added."""
    if not isinstance(valid, dict) or draw(st.booleans()):
        return draw(json_values())
    body = dict(valid)
    keys = sorted(body)
    action = draw(st.sampled_from(["keep", "when", "change", "change", "drop", "add"]))
    if action == "keep":
        return body
    if action == "when":  # valid, on an interesting day
        body["occurred_on"] = draw(st.sampled_from(OCCURRED))
        return body
    if action == "change" and keys:
        body[draw(st.sampled_from(keys))] = draw(json_values())
    elif action == "drop" and keys:
        del body[draw(st.sampled_from(keys))]
    else:
        body[draw(st.text(min_size=1, max_size=12))] = draw(json_values())
    return body


def version_of(world: World, trajectory: UUID) -> int:
    return world.live.services.application.current_version(trajectory)


def test_no_request_body_of_any_route_gets_a_5xx_or_records_on_refusal(world: World) -> None:
    with world.client("coordinator") as client:
        doc = client.get("/schema/openapi.json").json()
    routes = write_routes(world)
    assert len(routes) >= 40, routes
    people = ("coordinator", "aftercare", "admin", "researcher")
    clients = {who: world.client(who) for who in people}
    seen: dict[int, int] = {}
    try:
        for method, path, roles in routes:
            fuzz_route(world, clients, doc, method, path, roles, seen)
    finally:
        for client in clients.values():
            client.close()
    # Not vacuous: bodies were accepted, refused by the rules, and rejected as input.
    assert {201, 409, 422} <= set(seen), seen


def fuzz_route(
    world: World,
    clients: dict[str, httpx.Client],
    doc: dict[str, Any],
    method: str,
    path: str,
    roles: tuple[str, ...],
    seen: dict[int, int],
) -> None:
    app = world.live.services.application
    coordinator = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
    role = roles[0] if roles else "coordinator"
    if role == "aftercare":
        trajectory, contact = world.trajectory, world.contact_id
    else:  # a trajectory of its own: one route's accepted writes do not close another's
        trajectory = app.open_trajectory(intake(), coordinator).trajectory_id
        contact = app.execute(
            trajectory, RegisterNetworkContact(role="aunt", risk="safe"), coordinator
        ).created or ""
    url = re.sub(r"\{trajectory_id:str\}", str(trajectory), path)
    url = re.sub(r"\{contact_id:str\}", contact, url)
    openapi = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
    valid = request_body(doc, openapi, method)
    client = clients.get(role, clients["coordinator"])

    @settings(FUZZ, max_examples=25)
    @given(body=bodies(valid), kind=st.sampled_from(PERMISSION_KINDS))
    def post(body: Any, kind: str) -> None:
        before = version_of(world, trajectory)
        answer = client.request(method, url.replace("{kind:str}", kind), json=body)
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (method, url, body, answer.text)
        if answer.status_code >= 400:
            assert_problem(answer)
            assert version_of(world, trajectory) == before, (method, url, body)

    post()


# -- the classics, one by one --------------------------------------------------------------
def test_an_oversized_body_is_refused_with_413_and_records_nothing(world: World) -> None:
    limit = world.live.services.max_body_bytes
    note = "x" * (limit + 1)
    before = version_of(world, world.trajectory)
    with world.client("coordinator") as client:
        answer = client.post(
            f"/trajectories/{world.trajectory}/signals", json={"kind": "loverboy", "note": note}
        )
    assert_problem(answer, 413)
    assert version_of(world, world.trajectory) == before


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"kind": "loverboy", "note": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b'{"a": ' * 10_000 + b"1" + b"}" * 10_000,
        b'{"kind": "loverboy", "note": "\xff\xfe\xc3"}',
        b'{"kind\xc3\x28": "loverboy"}',
        b"\xef\xbb\xbf\x00\x00",
    ],
    ids=["nested-arrays", "nested-in-a-field", "nested-objects", "invalid-utf8",
         "invalid-utf8-key", "bom-and-nul"],
)
def test_deep_nesting_and_invalid_utf8_are_refused_with_400(world: World, body: bytes) -> None:
    before = version_of(world, world.trajectory)
    with world.client("coordinator") as client:
        answer = client.post(
            f"/trajectories/{world.trajectory}/signals",
            content=body,
            headers={"Content-Type": "application/json"},
        )
    assert_reveals_nothing(answer)
    assert answer.status_code == 400, answer.text
    assert version_of(world, world.trajectory) == before


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("signals", {"kind": "loverboy", "occurred_on": "2999-01-01"}, 409, None),
        ("signals", {"kind": "loverboy", "occurred_on": "1899-12-31"}, 422, "occurred_on"),
        ("signals", {"kind": "loverboy", "occurred_on": "0001-01-01T00:00:00Z"}, 422,
         "occurred_on"),
        ("corrections", {"position": 1, "reason": "typo", "corrected_occurred_on": "1850-06-01"},
         422, "corrected_occurred_on"),
        ("", {**INTAKE, "intake_date": "2999-01-01"}, 409, None),
        ("", {**INTAKE, "intake_date": "1899-12-31"}, 422, "intake_date"),
        ("", {**INTAKE, "identity": {**INTAKE["identity"], "date_of_birth": "1850-01-01"}}, 422,
         "identity.date_of_birth"),
        ("", {**INTAKE, "identity": {**INTAKE["identity"], "date_of_birth": "2999-01-01"}}, 409,
         None),
    ],
    ids=["future-fact", "fact-before-1900", "fact-in-year-1", "correction-before-1900",
         "future-intake", "intake-before-1900", "born-before-1900", "born-in-the-future"],
)
def test_dates_in_the_future_or_before_1900_are_refused_and_record_nothing(
    world: World, path: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    app = world.live.services.application
    url = f"/trajectories/{world.trajectory}/{path}" if path else "/trajectories"
    before = version_of(world, world.trajectory)
    opened = len(app.index())
    with world.client("coordinator") as client:
        answer = client.post(url, json=body)
    problem = assert_problem(answer, status)
    if field is not None:
        assert [e["field"] for e in problem["errors"]] == [field]
    assert version_of(world, world.trajectory) == before
    assert len(app.index()) == opened


def test_ids_of_another_organisation_answer_404_reveal_nothing_and_record_nothing(
    world: World,
) -> None:
    with world.client("coordinator-other-org") as theirs:
        check_another_organisation(world, theirs)


def check_another_organisation(world: World, theirs: httpx.Client) -> None:
    app = world.live.services.application
    before = version_of(world, world.trajectory)
    for path, body in [
        ("signals", {"kind": "loverboy"}),
        ("permissions/internet", {"level": "none", "reason": "x"}),
        (f"network-contacts/{world.contact_id}/restrictions", {"level": "none", "reason": "x"}),
        ("closure", {"reason": "other"}),
    ]:
        method = "PUT" if path.startswith("permissions") else "POST"
        answer = theirs.request(method, f"/trajectories/{world.trajectory}/{path}", json=body)
        assert answer.status_code == 404, answer.text
        assert_reveals_nothing(answer, GIRL, REGION, ORG_A)
    for read in ("", "/events", "/handover"):
        answer = theirs.get(f"/trajectories/{world.trajectory}{read}")
        assert answer.status_code == 404, answer.text
        assert_reveals_nothing(answer, GIRL, REGION, ORG_A)
    assert version_of(world, world.trajectory) == before
    # Our contact id on their own trajectory is no contact of theirs: refused, not recorded.
    other_before = version_of(world, world.other_trajectory)
    answer = theirs.post(
        f"/trajectories/{world.other_trajectory}/network-contacts/{world.contact_id}"
        "/restorations",
        json={"level": "supervised", "reason": "x"},
    )
    assert answer.status_code in (404, 409, 422), answer.text
    assert_reveals_nothing(answer, GIRL, REGION, ORG_A)
    assert version_of(world, world.other_trajectory) == other_before
    assert app.current_version(world.trajectory) == before


# -- times at the ends of the calendar -----------------------------------------------------
EXTREME_TIMES = [
    "0001-01-01T00:00:00+14:00",  # moved to UTC: before the year 1
    "9999-12-31T23:59:59-14:00",  # moved to UTC: after the year 9999
    "9999-12-31T23:59:59+14:00",  # the last day there is, in Amsterdam a day later
    "2026-01-01T00:00:00+23:59",  # an offset no clock on earth shows (they end at ±14:00)
    "2026-01-01T00:00:00+99:00",
]


@pytest.mark.parametrize("when", EXTREME_TIMES)
def test_a_time_at_the_ends_of_the_calendar_is_refused_with_422_naming_the_field(
    world: World, when: str, clock: FakeClock
) -> None:
    before = version_of(world, world.trajectory)
    # an export needs a step-up token (password and a new TOTP code)
    with world.client("researcher") as long_lived:
        researcher = stepped_up(world.live, long_lived, enrol(world.live, "researcher"), clock)
    with world.client("coordinator") as coordinator, researcher:
        read = coordinator.get(f"/trajectories/{world.trajectory}", params={"as_of": when})
        fact = coordinator.post(
            f"/trajectories/{world.trajectory}/signals",
            json={"kind": "loverboy", "occurred_on": when},
        )
        export = researcher.post("/research/exports", json={"project": "edge", "as_of": when})
    for answer, field in ((read, "as_of"), (fact, "occurred_on"), (export, "as_of")):
        problem = assert_problem(answer, 422)
        assert [e["field"] for e in problem["errors"]] == [field], problem
    assert version_of(world, world.trajectory) == before


# -- query strings ----------------------------------------------------------------------------
QUERY_VALUES = [
    "", "0", "-1", "99999999999999999999", "nan", "null", "\x00", "2026-02-30", "2026-13",
    "1899-12", "0001-01", "9999-12", "0001-01-01", "9999-12-31", *EXTREME_TIMES,
    "2026-03-01T12:00:00", "2026-03-01T12:00:00Z", "x" * 2000, str(UUID(int=0)),
]


def read_routes(doc: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(OpenAPI path, its query parameters' names) of every read of the API."""
    found = []
    for path, operations in sorted(doc["paths"].items()):
        if "get" not in operations or path.startswith("/schema"):
            continue
        names = [p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        found.append((path, names))
    return found


def test_no_query_string_of_any_read_gets_a_5xx(world: World) -> None:
    with world.client("coordinator") as client:
        doc = client.get("/schema/openapi.json").json()
    routes = read_routes(doc)
    assert any(names for _, names in routes), routes  # not vacuous: reads take queries
    seen: dict[int, int] = {}
    with world.client("coordinator") as coordinator, world.client("admin") as admin:
        for path, names in routes:
            url = path.replace("{trajectory_id}", str(world.trajectory)).replace(
                "{contact_id}", world.contact_id
            )
            client = admin if path.startswith("/audit") else coordinator
            fuzz_query(client, url, names, seen)
    assert {200, 422} <= set(seen), seen


def fuzz_query(client: httpx.Client, url: str, names: list[str], seen: dict[int, int]) -> None:
    """Every parameter with every edge value, one at a time; then random mixtures (also
    of names the read does not take, and a parameter given twice)."""

    def check(query: list[tuple[str, str]]) -> None:
        params: list[tuple[str, str | int | float | bool | None]] = list(query)
        answer = client.get(url, params=params)
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (url, query, answer.text)
        if answer.status_code >= 400:
            assert_problem(answer)

    for name in names:
        for value in QUERY_VALUES:
            check([(name, value)])
    queries = st.lists(
        st.tuples(
            st.sampled_from(names) if names else st.text(min_size=1, max_size=8),
            st.sampled_from(QUERY_VALUES) | st.text(max_size=20),
        ),
        max_size=4,
    )

    @settings(FUZZ, max_examples=8)
    @given(query=queries)
    def mixed(query: list[tuple[str, str]]) -> None:
        check(query)

    mixed()
