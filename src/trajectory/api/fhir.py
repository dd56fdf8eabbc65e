"""FHIR R4 over HTTP: a girl's record (`GET /trajectories/{id}/fhir`) and her file's access
log (`GET /audit/access.fhir`), both as `application/fhir+json` Bundles.

Her record is for those who may read her file (`security.check_visible`): her
coordinators, and the aftercare worker she was handed over to. It is pseudonymous unless
the request states a purpose that allows who she is: `purpose=treatment` (care for her),
allowed to whoever may see her identity on her handover page (`visibility.sees_identity`:
her coordinators, the receiving worker from the warm handover meeting on); to anyone else
it is refused (403 `purpose-not-allowed`) rather than quietly answered without her name.
Each answer is access-logged as a read, fail closed. The access log's FHIR form is for
the roles that read the access log, of her organisation, and is logged as an
`audit-read` as its JSON form (`GET /audit/access`) is.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter, QueryParameter

from trajectory.api.context import access_entry, caller, parse_trajectory_id, services
from trajectory.api.errors import ApiError, FieldError, not_found, problem_responses
from trajectory.api.routes import TrajectoryId
from trajectory.api.security import ADMIN, authenticated, check_visible
from trajectory.clock import amsterdam_date
from trajectory.facts import CARE
from trajectory.fhir.audit import audit_bundle, in_period
from trajectory.fhir.record import bundle
from trajectory.visibility import holding_organisation, sees_identity

FHIR_JSON = "application/fhir+json"

AUDIT_READERS = (*ADMIN, "privacy")
"""Who reads the access log as FHIR: an organisation's admin and its privacy officer."""

Purpose = Literal["treatment"]


class BundleEntryOut(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    full_url: str
    resource: dict[str, Any]
    search: dict[str, Any] | None = None


class FhirBundleOut(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """A FHIR R4 Bundle (hl7.org/fhir/R4/bundle.html), as far as the OpenAPI document
    describes it: each entry's resource is a FHIR resource (docs/fhir.md)."""

    resource_type: Literal["Bundle"]
    type: Literal["collection", "searchset"]
    timestamp: str
    entry: list[BundleEntryOut]
    id: str | None = None
    meta: dict[str, Any] | None = None
    identifier: dict[str, Any] | None = None
    total: int | None = None


def _fhir_responses() -> dict[int, ResponseSpec]:
    """The problems, and the success as a FHIR Bundle (the handlers send its JSON as
    bytes, already encoded)."""
    return {
        200: ResponseSpec(data_container=FhirBundleOut, media_type=FHIR_JSON,
                          description="A FHIR R4 Bundle", generate_examples=False),
        **problem_responses(),
    }


def _logged(request: Request[Any, Any, Any], action: str, trajectory_id: UUID) -> None:
    services(request).access.append(
        access_entry(request, action=action, trajectory_id=trajectory_id, outcome="ok")
    )
    request.scope.setdefault("state", {})["access_logged"] = True


def read_record(request: Request[Any, Any, Any], raw_id: str,
                purpose: Purpose | None) -> tuple[int, bytes]:
    """Her record as a Bundle: the version it was read at, and the JSON."""
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    app = svc.application
    t = app.get(tid)
    if purpose == "treatment" and not sees_identity(
        user, t.state.handover.meeting_on, amsterdam_date(app.clock())
    ):
        raise ApiError(
            403,
            "who she is is not yours to see yet: her record is answered without a purpose,"
            " pseudonymised",
            rule="purpose-not-allowed",
        )
    events = list(app.stream(tid))
    out = bundle(tid, events, app.protocol_of(t), identity=purpose == "treatment",
                 now=app.clock())
    body = msgspec.json.encode(out)
    _logged(request, "read", tid)
    return len(events), body


def _day(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            422, f"{name} must be a day, YYYY-MM-DD",
            errors=[FieldError(field=name, message="not a day (YYYY-MM-DD)")],
        ) from None


def read_access_log(request: Request[Any, Any, Any], raw_id: str, start: str | None,
                    end: str | None) -> bytes:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    first, last = _day("from", start), _day("to", end)
    # As the JSON form: an erased trajectory's log stays readable, her organisation's only.
    if holding_organisation(svc.application.db, tid) != user.organisation:
        raise not_found()
    if first is not None and last is not None and first > last:
        raise ApiError(422, "from must not be after to",
                       errors=[FieldError(field="from", message="after to")])
    _logged(request, "audit-read", tid)
    entries = [e for e in svc.access.for_trajectory(str(tid)) if in_period(e["at"], first, last)]
    return msgspec.json.encode(audit_bundle(entries, str(tid), now=svc.application.clock()))


@get(
    "/trajectories/{trajectory_id:str}/fhir",
    guards=[authenticated],
    opt={"roles": CARE},
    summary="Her record as a FHIR R4 Bundle",
    tags=["fhir"],
    media_type=FHIR_JSON,
    responses=_fhir_responses(),
)
async def trajectory_fhir(
    request: Request[Any, Any, Any],
    trajectory_id: TrajectoryId,
    purpose: Annotated[
        Purpose | None,
        Parameter(
            required=False,
            description="Why you ask. Without one her Patient is pseudonymous (no name,"
            " no region, of her birth date only the year; notes left out); `treatment`"
            " (care for her) adds who she is, for her coordinators and, from the warm"
            " handover meeting on, her receiving aftercare worker (otherwise 403).",
        ),
    ] = None,
) -> Response[bytes]:
    """A FHIR R4 Bundle (type `collection`, `application/fhir+json`) of her record for the
    care around her: Patient, EpisodeOfCare (her phases as `statusHistory`), CarePlan and
    Goal (the treatment plans), Procedure (trauma therapy and its sessions), Observation
    (follow-up measurements, the instruments' totals and subscales), and a Provenance per
    resource with the hashes of the events it was made from (`urn:trajectory:event-hash`).
    See docs/fhir.md for the mapping. Access-logged as a read."""
    version, body = await anyio.to_thread.run_sync(
        partial(read_record, request, trajectory_id, purpose)
    )
    return Response(body, media_type=FHIR_JSON, headers={"ETag": f'"{version}"'})


@get(
    "/audit/access.fhir",
    guards=[authenticated],
    opt={"roles": AUDIT_READERS},
    summary="Who accessed a trajectory, as FHIR AuditEvents",
    tags=["audit", "fhir"],
    media_type=FHIR_JSON,
    responses=_fhir_responses(),
)
async def access_log_fhir(
    request: Request[Any, Any, Any],
    trajectory: Annotated[str, Parameter(description="The trajectory's id.", max_length=64)],
    start: Annotated[
        str | None,
        QueryParameter(name="from", required=False, max_length=10,
                  description="The first day (YYYY-MM-DD, Amsterdam); absent: from the start."),
    ] = None,
    end: Annotated[
        str | None,
        QueryParameter(name="to", required=False, max_length=10,
                  description="The last day (YYYY-MM-DD, Amsterdam); absent: up to now."),
    ] = None,
) -> Response[bytes]:
    """The access log of one trajectory for a period, one FHIR R4 AuditEvent per entry in
    time order, as a Bundle of type `searchset`. The same entries as `GET /audit/access`
    (which answers as before); reading it is itself logged."""
    body = await anyio.to_thread.run_sync(
        partial(read_access_log, request, trajectory, start, end)
    )
    return Response(body, media_type=FHIR_JSON)
