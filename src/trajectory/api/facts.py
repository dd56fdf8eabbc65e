"""One POST (or PUT) route per kind of fact, generated from a table.

Each route decodes its body into the command's Struct (so the OpenAPI document shows the
exact schema) and hands it to `writes.write`. This module deliberately does not use
postponed annotations: the generated handlers' annotations must be real classes.
"""

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, Parameter

from trajectory import commands as c
from trajectory.aggregates.vocabulary import PERMISSION_KINDS
from trajectory.api import writes
from trajectory.api.context import in_write_thread
from trajectory.api.errors import WRITE_PROBLEMS, ApiError, FieldError, problem_responses
from trajectory.api.routes import IdempotencyKey, IfMatch, TrajectoryId
from trajectory.api.schemas import PrepareHandover, RecordedOut
from trajectory.api.security import AFTERCARE, CARE, COORDINATOR, authenticated

# (path under /trajectories/{id}, command, roles, summary)
PLAIN: list[tuple[str, type[c.Command], tuple[str, ...], str]] = [
    ("victim-status-changes", c.ChangeVictimStatus, COORDINATOR, "Change the victim status"),
    ("safety-analyses", c.RecordSafetyAnalysis, COORDINATOR, "Record a safety analysis"),
    ("medical-assessments", c.AssessMedicalCare, COORDINATOR, "Record a medical assessment"),
    ("care-analyses", c.RecordCareAnalysis, COORDINATOR, "Record a care analysis"),
    ("treatment-plans", c.SetTreatmentPlan, COORDINATOR, "Set the treatment plan"),
    ("placements", c.DecidePlacement, COORDINATOR, "Decide the placement"),
    ("network-contacts", c.RegisterNetworkContact, COORDINATOR, "Register a network contact"),
    ("family-involvements", c.RecordFamilyInvolvement, COORDINATOR, "Record family involvement"),
    ("phase-transitions", c.TransitionPhase, COORDINATOR, "Advance or regress a phase"),
    ("trauma-therapies", c.StartTraumaTherapy, COORDINATOR, "Start trauma therapy"),
    ("trauma-therapies/sessions", c.HoldTraumaTherapySession, COORDINATOR, "Record a session"),
    ("trauma-therapies/completion", c.CompleteTraumaTherapy, COORDINATOR, "Complete therapy"),
    ("interventions", c.DeliverIntervention, COORDINATOR, "Record an intervention"),
    ("education", c.ArrangeEducation, COORDINATOR, "Arrange education"),
    ("education/progress", c.RecordEducationProgress, COORDINATOR, "Record school progress"),
    ("education/qualifications", c.ObtainQualification, COORDINATOR, "Record a qualification"),
    ("runaways", c.ReportRunaway, COORDINATOR, "Report a runaway"),
    ("runaways/return", c.EndRunaway, COORDINATOR, "Record her return"),
    ("police-reports", c.FilePoliceReport, COORDINATOR, "Record a filed police report"),
    ("police-reports/discussions", c.DiscussPoliceReport, COORDINATOR, "Record a discussion"),
    ("case-conferences", c.HoldCaseConference, COORDINATOR, "Record a case conference"),
    ("comensha-decisions", c.DecideComenshaRegistration, COORDINATOR, "CoMensha decision"),
    ("signals", c.RecordSignal, COORDINATOR, "Record a quality signal"),
    ("handover", PrepareHandover, COORDINATOR, "Prepare the handover"),
    ("handover/meeting", c.HoldHandoverMeeting, COORDINATOR, "Record the warm handover meeting"),
    ("handover/acceptance", c.AcceptHandover, AFTERCARE, "Accept the handover"),
    ("aftercare", c.StartAftercare, CARE, "End residential care; start aftercare"),
    ("aftercare-contacts", c.RecordAftercareContact, CARE, "Record an aftercare contact"),
    ("aftercare/end", c.EndAftercare, CARE, "End aftercare"),
    ("corrections", c.CorrectEntry, COORDINATOR, "Correct or mark an entry in error"),
    ("research-consents", c.GiveResearchConsent, COORDINATOR, "Record research consent"),
    (
        "research-consents/withdrawal",
        c.WithdrawResearchConsent,
        COORDINATOR,
        "Record withdrawal of research consent",
    ),
    ("destruction-requests", c.RequestDestruction, COORDINATOR, "Record a destruction request"),
    (
        "destruction-requests/decision",
        c.DecideDestructionRequest,
        COORDINATOR,
        "Grant or refuse the destruction request",
    ),
    ("closure", c.CloseTrajectory, COORDINATOR, "Close the trajectory"),
]

# Contact sub-resources: /trajectories/{id}/network-contacts/{contact_id}/...
CONTACT: list[tuple[str, type[c.Command], str]] = [
    ("risk-assessments", c.AssessNetworkContactRisk, "Reassess a contact's risk"),
    ("restorations", c.RestoreNetworkContact, "Restore contact (supervised/unsupervised)"),
    ("restrictions", c.RestrictNetworkContact, "Restrict or cut off contact"),
]

ContactId = Annotated[str, Parameter(description="The contact's id.", max_length=64)]
Kind = Annotated[str, Parameter(description=f"One of {', '.join(PERMISSION_KINDS)}.")]


async def _record(
    request: Request[Any, Any, Any],
    trajectory_id: str,
    command: c.Command,
    if_match: str | None,
    idempotency_key: str | None,
) -> Response[RecordedOut]:
    """Every fact route's one step: the write path, in a worker thread (the event store is
    synchronous). The body's bytes go along for the idempotency check."""
    body = await request.body()
    return await in_write_thread(
        request,
        partial(
            writes.write,
            request,
            trajectory_id,
            command,
            body=body,
            if_match=if_match,
            idempotency_key=idempotency_key,
        ),
    )


def _doc(command: type[c.Command]) -> str:
    return (command.__doc__ or "").strip() or f"Record: {command.__name__}."


def plain_route(
    path: str, command: type[c.Command], roles: tuple[str, ...], summary: str
) -> HTTPRouteHandler:
    async def handler(
        request: Request[Any, Any, Any],
        trajectory_id: TrajectoryId,
        data: JSONBody[command],  # type: ignore[valid-type]
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RecordedOut]:
        return await _record(request, trajectory_id, data, if_match, idempotency_key)

    handler.__name__ = handler.__qualname__ = "record_" + path.replace("/", "_").replace("-", "_")
    return post(
        f"/trajectories/{{trajectory_id:str}}/{path}",
        guards=[authenticated],
        opt={"roles": roles},
        status_code=201,
        responses=problem_responses(WRITE_PROBLEMS),
        summary=summary,
        description=_doc(command),
        tags=[path.split("/")[0]],
    )(handler)


def contact_route(path: str, command: type[c.Command], summary: str) -> HTTPRouteHandler:
    async def handler(
        request: Request[Any, Any, Any],
        trajectory_id: TrajectoryId,
        contact_id: ContactId,
        data: JSONBody[command],  # type: ignore[valid-type]
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RecordedOut]:
        with_id = msgspec.structs.replace(data, contact_id=contact_id)
        return await _record(request, trajectory_id, with_id, if_match, idempotency_key)

    handler.__name__ = handler.__qualname__ = "contact_" + path.replace("-", "_")
    return post(
        f"/trajectories/{{trajectory_id:str}}/network-contacts/{{contact_id:str}}/{path}",
        guards=[authenticated],
        opt={"roles": COORDINATOR},
        status_code=201,
        responses=problem_responses(WRITE_PROBLEMS),
        summary=summary,
        description=_doc(command),
        tags=["network-contacts"],
    )(handler)


@put(
    "/trajectories/{trajectory_id:str}/permissions/{kind:str}",
    guards=[authenticated],
    opt={"roles": COORDINATOR},
    status_code=201,
    responses=problem_responses(WRITE_PROBLEMS),
    summary="Set a permission level",
    description="Set internet, social_media, phone, leave or contact_with_boys; the"
    " phase's cap refuses what is unsafe (409 phase-permission-cap).",
    tags=["permissions"],
)
async def set_permission(
    request: Request[Any, Any, Any],
    trajectory_id: TrajectoryId,
    kind: Kind,
    data: JSONBody[c.ChangePermission],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[RecordedOut]:
    if kind not in PERMISSION_KINDS:
        raise ApiError(
            422,
            f"unknown permission kind {kind!r}",
            errors=[FieldError(field="kind", message=f"one of {', '.join(PERMISSION_KINDS)}")],
        )
    command = msgspec.structs.replace(data, kind=kind)
    return await _record(request, trajectory_id, command, if_match, idempotency_key)


def fact_routes() -> list[HTTPRouteHandler]:
    return [
        *(plain_route(*row) for row in PLAIN),
        *(contact_route(*row) for row in CONTACT),
        set_permission,
    ]
