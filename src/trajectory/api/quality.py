"""Windows for quality and accountability: the core-element matrix, the organisation's
quality signals, how many of its girls are out of view, and the national figures.

Coordinators see their own organisation's matrix per trajectory (and, on request, the
justifications of waivers, read from the encrypted events). Admins and the
organisation's quality officer (`quality`) see the organisation's totals only: counts,
never care data (her own duties, core elements 1 and 9, are `api.organisation`'s).
National figures are counts with small cells suppressed, open to every role that works
with them.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, get
from litestar.params import Parameter, QueryParameter

from trajectory.api.context import access_entry, caller, services
from trajectory.api.errors import ApiError, FieldError, not_found, problem_responses
from trajectory.api.reads import ensure_fresh
from trajectory.api.routes import MinPosition
from trajectory.api.security import authenticated
from trajectory.clock import amsterdam_date
from trajectory.organisation.elements import OrganisationElementOut, organisation_elements
from trajectory.organisation.store import OrganisationStore
from trajectory.projections.core_elements import (
    ElementCountsOut,
    MatrixOut,
    SignalsOut,
    WaiverJustificationOut,
    matrix,
    signals,
    waiver_justifications,
)
from trajectory.projections.out_of_view import OutOfViewCountsOut, out_of_view_counts
from trajectory.projections.victims import FiguresOut, figures

Org = Annotated[
    str | None,
    Parameter(required=False, max_length=200, description="Your own organisation (default)."),
]


class CoreElementsOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The matrix on a day: per trajectory (coordinators), and the organisation's totals."""

    organisation: str
    as_of: date
    totals: list[ElementCountsOut]
    trajectories: list[Any] | None = None
    justifications: dict[str, list[WaiverJustificationOut]] | None = None
    organisation_elements: list[OrganisationElementOut] | None = None
    """Elements 1 and 9, evidenced (or not) by the organisation's own duties
    (`trajectory.organisation.elements`): per girl they are not applicable."""


def _own_org(request: Request[Any, Any, Any], org: str | None) -> str:
    user = caller(request)
    if org is not None and org != user.organisation:
        raise not_found()
    return user.organisation


def _log_search(request: Request[Any, Any, Any]) -> None:
    services(request).access.append(
        access_entry(request, action="search", trajectory_id=None, outcome="ok")
    )
    request.scope.setdefault("state", {})["access_logged"] = True


def _parse_day(value: str | None, field: str, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            422,
            f"{field} must be a date (YYYY-MM-DD)",
            errors=[FieldError(field=field, message="not a date")],
        ) from None


def _core_elements(
    request: Request[Any, Any, Any],
    org: str | None,
    as_of_raw: str | None,
    with_justifications: bool,
    min_position: int | None,
) -> CoreElementsOut:
    svc = services(request)
    user = caller(request)
    organisation = _own_org(request, org)
    ensure_fresh(request, min_position)
    app = svc.application
    as_of = _parse_day(as_of_raw, "as_of", amsterdam_date(app.clock()))
    # a row for each girl she has a relationship with; the totals the organisation's
    out: MatrixOut = matrix(app.db, organisation, as_of, seen_by=user)
    stream = OrganisationStore(app.db).load(organisation)
    duties = organisation_elements(stream.state if stream is not None else None, as_of)
    _log_search(request)
    if user.role != "coordinator":
        return CoreElementsOut(organisation=organisation, as_of=as_of, totals=out.totals,
                               organisation_elements=duties)
    justifications = None
    if with_justifications:
        justifications = {}
        for row in out.trajectories:
            waived = [w for w in waiver_justifications(app, row.id) if w.on <= as_of]
            if waived:
                justifications[str(row.id)] = waived
    return CoreElementsOut(
        organisation=organisation,
        as_of=as_of,
        totals=out.totals,
        trajectories=list(out.trajectories),
        justifications=justifications,
        organisation_elements=duties,
    )


@get(
    "/quality/core-elements",
    guards=[authenticated],
    opt={"roles": ("coordinator", "admin", "quality")},
    summary="The core-element matrix on a day",
    tags=["quality"],
    responses=problem_responses(),
)
async def core_elements(
    request: Request[Any, Any, Any],
    org: Org = None,
    as_of: Annotated[
        str | None, Parameter(required=False, max_length=10, description="A date; default today.")
    ] = None,
    justifications: Annotated[bool, Parameter(required=False)] = False,
    min_position: MinPosition = None,
) -> CoreElementsOut:
    """For each of the 15 core elements: evidenced (since when, by which entries), waived
    (with the justification, on request), due, missing or not applicable, per trajectory
    and for the organisation, as it stood on `as_of`."""
    return await anyio.to_thread.run_sync(
        partial(_core_elements, request, org, as_of, justifications, min_position)
    )


def _signals(
    request: Request[Any, Any, Any],
    org: str | None,
    from_month: str,
    to_month: str,
    min_position: int | None,
) -> SignalsOut:
    svc = services(request)
    organisation = _own_org(request, org)
    ensure_fresh(request, min_position)
    try:
        out = signals(svc.application.db, organisation, from_month, to_month)
    except ValueError as e:
        raise ApiError(
            422,
            "months are YYYY-MM, from before to",
            errors=[FieldError(field="from/to", message=str(e))],
        ) from None
    _log_search(request)
    return out


@get(
    "/quality/signals",
    guards=[authenticated],
    opt={"roles": ("coordinator", "admin", "quality")},
    summary="Quality signals per month",
    tags=["quality"],
    responses=problem_responses(),
)
async def quality_signals(
    request: Request[Any, Any, Any],
    from_: Annotated[str, QueryParameter(name="from", max_length=7, description="YYYY-MM")],
    to: Annotated[str, Parameter(max_length=7, description="YYYY-MM")],
    org: Org = None,
    min_position: MinPosition = None,
) -> SignalsOut:
    """Loverboy signals, sexual abuse, boundary-crossing behaviour and runaways, counted
    per month for the organisation's quality system."""
    return await anyio.to_thread.run_sync(partial(_signals, request, org, from_, to, min_position))


def _out_of_view(
    request: Request[Any, Any, Any], org: str | None, min_position: int | None
) -> OutOfViewCountsOut:
    organisation = _own_org(request, org)
    ensure_fresh(request, min_position)
    app = services(request).application
    out = out_of_view_counts(app.db, organisation, amsterdam_date(app.clock()))
    _log_search(request)
    return out


@get(
    "/quality/out-of-view",
    guards=[authenticated],
    opt={"roles": ("coordinator", "admin", "quality")},
    summary="How many girls are out of view now",
    tags=["quality"],
    responses=problem_responses(),
)
async def quality_out_of_view(
    request: Request[Any, Any, Any], org: Org = None, min_position: MinPosition = None
) -> OutOfViewCountsOut:
    """How many of the organisation's girls are out of view today (`girls`), and how many
    for each reason (a girl may count under more than one). Counts only, small numbers
    included: the organisation's own quality figures, not published ones."""
    return await anyio.to_thread.run_sync(partial(_out_of_view, request, org, min_position))


def _figures(
    request: Request[Any, Any, Any], from_year: int, to_year: int, min_position: int | None
) -> FiguresOut:
    if from_year > to_year:
        raise ApiError(
            422,
            "from must not be after to",
            errors=[FieldError(field="from", message="after to")],
        )
    ensure_fresh(request, min_position)
    app = services(request).application
    out = figures(app.db, from_year, to_year, today=amsterdam_date(app.clock()))
    _log_search(request)
    return out


@get(
    "/statistics/victims",
    guards=[authenticated],
    # Not coordinators: one who knows of an intake elsewhere must not read the national
    # table's change (trajectory.projections.victims, differencing). The inspector (an
    # installation-level role) reads aggregates of every organisation, these among them.
    opt={"roles": ("researcher", "admin", "inspector")},
    summary="National figures: girls registered with CoMensha, and girls taken into care",
    tags=["statistics"],
    responses=problem_responses(),
)
async def victim_statistics(
    request: Request[Any, Any, Any],
    from_: Annotated[int, QueryParameter(name="from", ge=1990, le=2100)],
    to: Annotated[int, Parameter(ge=1990, le=2100)],
    min_position: MinPosition = None,
) -> FiguresOut:
    """Two tables per year, in the shape of the national rapporteur's table 2.1 (Dutch,
    foreign and unknown nationality, each with "of which minors", and the total):
    `registered`, girls registered with CoMensha (in the year of their first report sent),
    and `in_care`, girls taken into care (in the year of their intake); each by victim
    status and risk profile, with CoMensha's acknowledgement (registered) or decision (in
    care). Closed years only (the year now running is withheld); cells under 5 are
    suppressed (and one more where a suppressed cell could be worked out); counts are
    rounded to a multiple of 5."""
    return await anyio.to_thread.run_sync(partial(_figures, request, from_, to, min_position))


class SigningKeyOut(msgspec.Struct, frozen=True, kw_only=True):
    """The installation's public key for its published national figures."""

    algorithm: str
    public_key: str
    """Base64, the 32 raw bytes: a line of the rapporteur's trusted keys."""
    fingerprint: str
    """For people to compare (by telephone, on paper) with a document's."""


def _signing_key(request: Request[Any, Any, Any]) -> SigningKeyOut:
    from trajectory.statistics.signing import SigningUnavailable, installation_public_key

    app = services(request).application
    try:
        public = installation_public_key(app.keys, app.db, app.clock())
    except SigningUnavailable:
        raise not_found() from None
    return SigningKeyOut(algorithm="Ed25519", public_key=public.to_text(),
                         fingerprint=public.fingerprint)


@get(
    "/statistics/signing-key",
    summary="The public key that signs this installation's published figures",
    tags=["statistics"],
    security=[{}],  # a public key is for everyone: no care data behind it
    responses=problem_responses(),
)
async def statistics_signing_key(request: Request[Any, Any, Any]) -> SigningKeyOut:
    """The Ed25519 public key (and its fingerprint) of the documents that `trajectory
    statistics publish` writes, for the national rapporteur's list of trusted keys. The
    key pair is made the first time it is asked for."""
    return await anyio.to_thread.run_sync(partial(_signing_key, request))
