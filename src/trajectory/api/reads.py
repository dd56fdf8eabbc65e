"""The read side over HTTP: summary, history, handover view, caseload, access log.

Each read is access-logged before its answer leaves; if the entry cannot be written the
read fails (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Request

from trajectory.access_report import emergency_accesses_of, with_basis
from trajectory.aggregates.vocabulary import Status
from trajectory.api.context import access_entry, caller, parse_trajectory_id, services
from trajectory.api.errors import ApiError, FieldError, not_found
from trajectory.api.schemas import AccessEntryOut
from trajectory.api.security import check_visible
from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date, parse_moment
from trajectory.handover_pdf import handover_pdf, short_id
from trajectory.identity.users import UserStore, names_of
from trajectory.projections.caseload import CaseloadOut, caseload
from trajectory.projections.handovers import HandoversOut, handovers_for
from trajectory.views import (
    EventOut,
    HandoverOut,
    TrajectorySummaryOut,
    event_out,
    handover_view,
    opening_event,
    summary,
)
from trajectory.visibility import Someone, holding_organisation, sees_identity
from trajectory.web.i18n import Translator, choose_language

T = TypeVar("T")
Listed = TypeVar("Listed", CaseloadOut, HandoversOut)


def _logged(request: Request[Any, Any, Any], action: str, trajectory_id: UUID | str | None) -> None:
    services(request).access.append(
        access_entry(request, action=action, trajectory_id=trajectory_id, outcome="ok")
    )
    request.scope.setdefault("state", {})["access_logged"] = True


def _logged_while(
    request: Request[Any, Any, Any],
    action: str,
    trajectory_id: UUID | str | None,
    work: Callable[[], T],
) -> T:
    """Run `work` while its access-log entry is committed; answer once both are done.

    The entry's commit (an fsync on SQLite) is the longest part of a small read: written
    beside the read instead of after it, the answer waits for the longer of the two rather
    than their sum. Still fail closed: if the entry cannot be written, the read fails and
    nothing leaves. Only for reads the caller is already allowed (the entry says "ok")."""
    entry = access_entry(request, action=action, trajectory_id=trajectory_id, outcome="ok")
    svc = services(request)
    pending = svc.access_writers.submit(svc.access.append, entry)
    try:
        out = work()
    finally:
        pending.result()
    request.scope.setdefault("state", {})["access_logged"] = True
    return out


def parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as e:
        raise ApiError(
            422,
            "as_of must be an RFC 3339 time with an offset, e.g. 2026-03-01T12:00:00Z",
            errors=[FieldError(field="as_of", message=str(e))],
        ) from None


def read_summary(
    request: Request[Any, Any, Any], raw_id: str, as_of_raw: str | None
) -> TrajectorySummaryOut:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    as_of = parse_as_of(as_of_raw)
    app = svc.application

    def read() -> TrajectorySummaryOut:
        t = app.get(tid, as_of=as_of)
        opened = opening_event(app.events.get(tid, lte=1))  # type: ignore[arg-type]
        today = amsterdam_date(as_of or app.clock())
        return summary(t, opened, app.protocol_of(t), today, as_of)

    return _logged_while(request, "read", tid, read)


def read_events(request: Request[Any, Any, Any], raw_id: str) -> list[EventOut]:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    out = [event_out(e) for e in svc.application.stream(tid)]
    _logged(request, "read", tid)
    return out


def read_event(request: Request[Any, Any, Any], raw_id: str, position: int) -> EventOut:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    events = list(svc.application.events.get(tid, gt=position - 1, lte=position))
    if not events:
        raise not_found()
    out = event_out(events[0])  # type: ignore[arg-type]
    _logged(request, "read", tid)
    return out


def handover_for(
    application: TrajectoryApplication, users: UserStore, who: Someone, tid: UUID
) -> HandoverOut:
    """The handover view of a trajectory `who` may see, with as much of who she is as
    `who` may see (`visibility.sees_identity`). The API, the pages and the PDF read it so."""
    t = application.get(tid)
    today = amsterdam_date(application.clock())
    return handover_view(
        t,
        application.stream(tid),
        application.protocol_of(t),
        today,
        with_identity=sees_identity(who, t.state.handover.meeting_on, today),
        name_of=names_of(users),
    )


def read_handover(request: Request[Any, Any, Any], raw_id: str) -> HandoverOut:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    out = handover_for(svc.application, svc.users, user, tid)
    _logged(request, "read", tid)
    return out


def read_handover_pdf(request: Request[Any, Any, Any], raw_id: str) -> tuple[str, bytes]:
    """The printable handover package of a trajectory the caller may see: its short id
    and the PDF. Each print is access-logged (`print-handover`), fail closed."""
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    names = names_of(svc.users)
    out = handover_for(svc.application, svc.users, user, tid)
    t = Translator(choose_language(None, None, request.headers.get("accept-language")))
    pdf = handover_pdf(
        out, t, printed_at=svc.application.clock(), printed_by=user.name, name_of=names
    )
    _logged(request, "print-handover", tid)
    return short_id(tid), pdf


class AftercareWorkerOut(msgspec.Struct, kw_only=True):
    """An aftercare worker a coordinator may hand over to (`id` is her user id, the
    handover's `receiving_worker`)."""

    id: str
    name: str
    organisation: str


def aftercare_workers(users: UserStore) -> list[AftercareWorkerOut]:
    """The installation's active aftercare workers, by name."""
    return [
        AftercareWorkerOut(id=u.user_id, name=u.shown_name, organisation=u.organisation)
        for u in users.all()
        if u.role == "aftercare" and not u.revoked
    ]


def read_aftercare_workers(request: Request[Any, Any, Any]) -> list[AftercareWorkerOut]:
    svc = services(request)
    out = aftercare_workers(svc.users)
    _logged(request, "read", None)
    return out


def ensure_fresh(request: Request[Any, Any, Any], min_position: int | None) -> None:
    """Read models as new as the caller needs: in-process, everything the log holds;
    with an external runner, at least `min_position` (a write's `position`), waiting
    briefly rather than answering with stale data."""
    svc = services(request)
    if svc.fresh_reads:
        svc.projections.catch_up()
        return
    if min_position is not None and not svc.projections.wait_for(min_position, timeout=2.0):
        raise ApiError(
            503,
            "the read models have not yet caught up with that position; try again shortly",
            headers={"Retry-After": "1"},
        )


def read_caseload(
    request: Request[Any, Any, Any],
    *,
    phase: int | None,
    status: Status | None,
    overdue: bool | None,
    coordinator: str | None,
    limit: int,
    offset: int,
    min_position: int | None,
) -> CaseloadOut | HandoversOut:
    svc = services(request)
    user = caller(request)
    app = svc.application
    ensure_fresh(request, min_position)
    today = amsterdam_date(app.clock())
    if user.role == "aftercare":
        return _logged_naming_shown(
            request, partial(handovers_for, app.db, user.user_id, today)
        )
    return _logged_naming_shown(
        request,
        partial(
            caseload,
            app.db,
            user.organisation,
            today,
            seen_by=user,
            phase=phase,
            status=status,
            overdue=overdue,
            coordinator=coordinator,
            limit=limit,
            offset=offset,
        ),
    )


def _logged_naming_shown(
    request: Request[Any, Any, Any], work: Callable[[], Listed]
) -> Listed:
    """A list of girls, and one access-log entry naming every girl it returned (NEN 7513:
    who saw which file, also in a list), each girl's own log showing it. The entry can
    only be written once the list is known, so it is committed after the read, not beside
    it; still fail closed: without the entry nothing leaves."""
    out = work()
    entry = access_entry(request, action="search", trajectory_id=None, outcome="ok")
    shown = tuple(str(item.id) for item in out.items)
    services(request).access.append(replace(entry, shown=shown))
    request.scope.setdefault("state", {})["access_logged"] = True
    return out


def read_access_log(request: Request[Any, Any, Any], raw_id: str) -> list[AccessEntryOut]:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    # An erased trajectory's access log stays readable: who looked remains accountable.
    if holding_organisation(svc.application.db, tid) != user.organisation:
        raise not_found()
    _logged(request, "audit-read", tid)
    rows = svc.access.for_trajectory(str(tid))
    accesses = emergency_accesses_of(svc.access, str(tid))
    return [AccessEntryOut(**r) for r in with_basis(rows, accesses)]
