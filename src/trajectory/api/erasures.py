"""Four-eyes erasure over HTTP: one admin proposes, a second of the same organisation
approves with her short id. The rule (which ground holds, who may approve) is
`trajectory.erasure_proposals`; these routes only translate it.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

import anyio.to_thread
import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody, Parameter

from trajectory.api.context import actor, caller, client_of, parse_trajectory_id, request_id
from trajectory.api.context import services as services_of
from trajectory.api.errors import WRITE_PROBLEMS, ApiError, problem_responses
from trajectory.api.problems import FieldError
from trajectory.api.security import ADMIN, authenticated
from trajectory.erasure_proposals import (
    Proposal,
    ProposalNotFound,
    approve,
    open_proposals,
    propose,
)


class ProposeErasure(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Propose to destroy her file for good. Write no names in the reason."""

    trajectory_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    legal_ground: Literal["retention-expired", "request-granted", "court-order"]
    court_reference: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    """The court order's reference (required for `court-order`)."""


class ApproveErasure(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    confirmation: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """Her short id (the first 8 characters of her trajectory id), typed by the approver."""


class ProposalOut(msgspec.Struct, kw_only=True):
    id: str
    trajectory_id: str
    short_id: str
    legal_ground: str
    court_reference: str | None
    proposed_by: str
    proposed_at: datetime


class ApprovedErasureOut(msgspec.Struct, kw_only=True):
    trajectory_id: str
    erased_at: datetime
    erased_by: str
    proposed_by: str
    legal_ground: str


def _out(p: Proposal) -> ProposalOut:
    return ProposalOut(
        id=p.proposal_id, trajectory_id=p.trajectory_id, short_id=p.short_id,
        legal_ground=p.legal_ground, court_reference=p.court_reference,
        proposed_by=p.proposed_by, proposed_at=p.proposed_at,
    )


def _propose(request: Request[Any, Any, Any], data: ProposeErasure) -> ProposalOut:
    user = caller(request)
    tid = parse_trajectory_id(data.trajectory_id)
    request.scope["state"]["access_logged"] = True  # refusals log themselves (the rule)
    proposal = propose(
        services_of(request).application, tid, by=actor(user), reason=data.reason,
        legal_ground=data.legal_ground, court_reference=data.court_reference,
        client=client_of(request), request_id=request_id(request),
    )
    return _out(proposal)


def _approve(
    request: Request[Any, Any, Any], proposal_id: str, data: ApproveErasure
) -> ApprovedErasureOut:
    user = caller(request)
    app = services_of(request).application
    request.scope["state"]["access_logged"] = True  # refusals log themselves (the rule)
    try:
        erasure = approve(
            app, proposal_id, by=actor(user), confirmation=data.confirmation,
            client=client_of(request), request_id=request_id(request),
        )
    except ProposalNotFound:
        raise ApiError(404, "no open erasure proposal with this id") from None
    proposer = app.db.fetchone(
        "SELECT proposed_by FROM erasure_proposals WHERE proposal_id = ?", [proposal_id]
    )
    return ApprovedErasureOut(
        trajectory_id=erasure.trajectory_id, erased_at=erasure.erased_at,
        erased_by=erasure.erased_by, legal_ground=erasure.legal_ground,
        proposed_by=str(proposer["proposed_by"]) if proposer else "",
    )


@post(
    "/admin/erasures",
    guards=[authenticated],
    opt={"roles": ADMIN, "scope": "erase"},  # a step-up token: password and TOTP
    status_code=201,
    summary="Propose to erase a trajectory (the first of two admins)",
    tags=["privacy"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def propose_erasure(
    request: Request[Any, Any, Any], data: JSONBody[ProposeErasure]
) -> ProposalOut:
    """Nothing is erased yet: a second admin of the organisation approves it. Refused (409)
    unless the ground holds today: her retention period has ended (the answer names the
    day it does), a destruction request of hers was granted, or a court ordered it."""
    return await anyio.to_thread.run_sync(partial(_propose, request, data))


@post(
    "/admin/erasures/{proposal_id:str}/confirmation",
    guards=[authenticated],
    opt={"roles": ADMIN, "scope": "erase"},  # a step-up token: password and TOTP
    status_code=200,
    summary="Approve a proposed erasure (the second admin): her file is destroyed",
    tags=["privacy"],
    responses=problem_responses(WRITE_PROBLEMS),
)
async def approve_erasure(
    request: Request[Any, Any, Any],
    proposal_id: Annotated[str, Parameter(max_length=64)],
    data: JSONBody[ApproveErasure],
) -> ApprovedErasureOut:
    """Irreversible. The proposer cannot approve (409 `erasure-needs-two-admins`); the
    confirmation must be her short id (409 `confirmation-mismatch`). Afterwards her file
    answers 410, and every research export kept on the server that holds her is
    destroyed (its manifest says so)."""
    if not data.confirmation.strip():
        raise ApiError(422, "invalid input: confirmation",
                       errors=[FieldError(field="confirmation", message="type her short id")])
    return await anyio.to_thread.run_sync(partial(_approve, request, proposal_id, data))


@get(
    "/admin/erasures",
    guards=[authenticated],
    opt={"roles": ADMIN},
    summary="Erasures proposed in the organisation, waiting for a second admin",
    tags=["privacy"],
    responses=problem_responses(),
)
async def proposed_erasures(request: Request[Any, Any, Any]) -> list[ProposalOut]:
    """Oldest first."""
    user = caller(request)
    app = services_of(request).application
    found = await anyio.to_thread.run_sync(partial(open_proposals, app, user.organisation))
    return [_out(p) for p in found]


def erasure_routes() -> list[Any]:
    return [propose_erasure, approve_erasure, proposed_erasures]
