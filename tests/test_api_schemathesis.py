"""Property-based tests from the app's own OpenAPI document (schemathesis), over real HTTP.

Every operation of the document gets generated requests, with a coordinator's token and,
where a path names a trajectory or a contact, ones that exist (otherwise nearly every
request would stop at 404). Valid-looking input must never make the server fail, and
every answer must match what the document says; generated invalid input must be
rejected. SQLite only: the property is about the HTTP layer, which is the same on both.

schemathesis's own pytest integration (`from_fixture`) does not run on this pytest, so the
operations are driven through hypothesis directly; failures are collected per operation.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from litestar.routes import HTTPRoute
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_support import World, live_world, openapi_path
from trajectory.aggregates.vocabulary import PERMISSION_KINDS
from trajectory.api.app import create_app

EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
CHECKS: dict[GenerationMode, list[Any]] = {
    GenerationMode.POSITIVE: [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ],
    GenerationMode.NEGATIVE: [not_a_server_error, negative_data_rejection],
}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with live_world(tmp_path / "trajectory.sqlite") as w:
        yield w


def exercise(
    operation: Any,
    mode: GenerationMode,
    world: World,
    headers: dict[str, str],
    seen: Counter[int] | None = None,
) -> list[str]:
    """Run one operation's generated cases; return what went wrong, if anything."""
    failures: list[str] = []
    ids = {"trajectory_id": str(world.trajectory), "contact_id": world.contact_id}

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def run(case: schemathesis.Case[Any], data: st.DataObject) -> None:
        for name, value in ids.items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        if case.path_parameters and "kind" in case.path_parameters:
            case.path_parameters["kind"] = data.draw(st.sampled_from(PERMISSION_KINDS))
        # The caller's real token wherever the case carries one; a negative case that
        # dropped the header must be refused (401), so it stays dropped.
        if mode is GenerationMode.POSITIVE or "Authorization" in case.headers:
            case.headers.update(headers)
        try:
            response = case.call_and_validate(checks=CHECKS[mode])
            if seen is not None:
                seen[response.status_code] += 1
        except Exception as e:  # collected, so that one run reports every operation
            failures.append(f"{operation.label} [{mode.value}]: {e}"[:2000])

    try:
        run()
    except Unsatisfiable:  # no input to spoil (e.g. /health in negative mode)
        pass
    except Exception as e:  # hypothesis re-raises what it found, once shrunk
        failures.append(f"{operation.label} [{mode.value}]: {e}"[:2000])
    return failures


def operations_of(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        operation = result.ok()  # an operation the document cannot describe fails here
        yield operation


def test_the_api_keeps_the_contract_of_its_own_openapi_document(world: World) -> None:
    schema = schemathesis.openapi.from_url(f"{world.live.base_url}/schema/openapi.json")
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    started = time.monotonic()
    failures: list[str] = []
    seen: Counter[int] = Counter()
    operations = 0
    for operation in operations_of(schema):
        if operation.path.startswith("/schema"):
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += exercise(operation, mode, world, headers, seen)
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - started < 120
    # Not vacuous: generated requests were read, recorded, refused by rules and rejected.
    assert {200, 201, 409, 422} <= set(seen), seen


def roles_of_operations(world: World) -> dict[tuple[str, str], tuple[str, ...]]:
    """(method, OpenAPI path) -> the roles that may use it, from the app's route table."""
    app = create_app(world.live.services)
    allowed: dict[tuple[str, str], tuple[str, ...]] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                key = (method.lower(), openapi_path(route.path))
                allowed[key] = tuple(handler.opt.get("roles", ()))
    return allowed


def test_every_other_role_gets_no_5xx_and_keeps_the_contract_either(world: World) -> None:
    """Aftercare worker, researcher, admin, quality officer and inspector: every read, and
    the writes their role may make (the admin's erasure last: it may erase the world's
    trajectory)."""
    schema = schemathesis.openapi.from_url(f"{world.live.base_url}/schema/openapi.json")
    allowed = roles_of_operations(world)
    failures: list[str] = []
    seen: Counter[int] = Counter()
    for who in ("aftercare", "researcher", "admin", "quality", "inspector"):
        headers = {"Authorization": f"Bearer {world.tokens[who]}"}
        for operation in operations_of(schema):
            roles = allowed.get((operation.method, operation.path), ())
            if operation.path.startswith("/schema"):
                continue
            if operation.method != "get" and who not in roles:
                continue
            failures += exercise(operation, GenerationMode.POSITIVE, world, headers, seen)
    assert not failures, "\n\n".join(failures)
    assert {200, 403, 409, 422} <= set(seen), seen
