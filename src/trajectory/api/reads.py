"""The read side over HTTP: summary, history, handover view, caseload, access log.

Each read is access-logged before its answer leaves; if the entry cannot be written the
read fails (fail closed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Request

from trajectory.api.context import access_entry, caller, parse_trajectory_id, services
from trajectory.api.errors import ApiError, FieldError, not_found
from trajectory.api.schemas import (
    AccessEntryOut,
    CaseloadItemOut,
    CaseloadOut,
    HandoverListItemOut,
)
from trajectory.api.security import check_visible
from trajectory.clock import amsterdam_date
from trajectory.protocol.attention import attention_items
from trajectory.views import (
    EventOut,
    HandoverOut,
    TrajectorySummaryOut,
    event_out,
    handover_view,
    opening_event,
    summary,
)


def _logged(request: Request[Any, Any, Any], action: str, trajectory_id: UUID | str | None) -> None:
    services(request).access.append(
        access_entry(request, action=action, trajectory_id=trajectory_id, outcome="ok")
    )
    request.scope.setdefault("state", {})["access_logged"] = True


def parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError(
            422,
            "as_of must be an RFC 3339 time with an offset, e.g. 2026-03-01T12:00:00Z",
            errors=[FieldError(field="as_of", message="not an RFC 3339 time")],
        )
    return moment.astimezone(UTC)


def read_summary(
    request: Request[Any, Any, Any], raw_id: str, as_of_raw: str | None
) -> TrajectorySummaryOut:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    as_of = parse_as_of(as_of_raw)
    app = svc.application
    t = app.get(tid, as_of=as_of)
    opened = opening_event(app.events.get(tid, lte=1))  # type: ignore[arg-type]
    today = amsterdam_date(as_of or app.clock())
    out = summary(t, opened, app.protocol_of(t), today, as_of)
    _logged(request, "read", tid)
    return out


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


def read_handover(request: Request[Any, Any, Any], raw_id: str) -> HandoverOut:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    check_visible(svc, user, tid)
    app = svc.application
    t = app.get(tid)
    out = handover_view(t, app.stream(tid), app.protocol_of(t), amsterdam_date(app.clock()))
    _logged(request, "read", tid)
    return out


def read_caseload(
    request: Request[Any, Any, Any],
    *,
    phase: int | None,
    status: str | None,
    overdue: bool | None,
    coordinator: str | None,
    limit: int,
    offset: int,
) -> CaseloadOut | list[HandoverListItemOut]:
    svc = services(request)
    user = caller(request)
    app = svc.application
    if user.role == "aftercare":
        rows = app.db.fetchall(
            "SELECT trajectory_id, status FROM trajectory_index WHERE receiving_worker = ?"
            " ORDER BY trajectory_id",
            [user.user_id],
        )
        _logged(request, "search", None)
        return [HandoverListItemOut(id=UUID(r["trajectory_id"]), status=r["status"]) for r in rows]
    sql = "SELECT trajectory_id FROM trajectory_index WHERE organisation = ?"
    params: list[Any] = [user.organisation]
    if phase is not None:
        sql += " AND phase = ?"
        params.append(phase)
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    if coordinator is not None:
        sql += " AND coordinator = ?"
        params.append(coordinator)
    today = amsterdam_date(app.clock())
    items: list[CaseloadItemOut] = []
    for row in app.db.fetchall(sql, params):
        t = app.get(UUID(row["trajectory_id"]))
        s = t.state
        attention = attention_items(s, app.protocol_of(t), today)
        late = sum(1 for a in attention if a.overdue)
        if overdue is True and not late:
            continue
        if overdue is False and late:
            continue
        items.append(
            CaseloadItemOut(
                id=t.id,
                version=t.version,
                status=s.status,
                phase=s.phase,
                days_in_phase=(today - (s.phase_entered_on or s.intake_date)).days,
                coordinator=s.coordinator,
                intake_date=s.intake_date,
                open_runaway_since=s.open_runaway.since if s.open_runaway else None,
                overdue=late,
                next_due_on=attention[0].due_on if attention else None,
                attention=attention,
            )
        )
    # Most urgent first: open runaways, then most overdue, then the earliest due.
    items.sort(
        key=lambda i: (
            i.open_runaway_since is None,
            -i.overdue,
            i.next_due_on or today.replace(year=today.year + 100),
            str(i.id),
        )
    )
    _logged(request, "search", None)
    return CaseloadOut(
        items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset
    )


def read_access_log(request: Request[Any, Any, Any], raw_id: str) -> list[AccessEntryOut]:
    svc = services(request)
    user = caller(request)
    tid = parse_trajectory_id(raw_id)
    # An erased trajectory's access log stays readable: who looked remains accountable.
    row = svc.application.db.fetchone(
        "SELECT organisation FROM trajectory_index WHERE trajectory_id = ?"
        " UNION ALL SELECT organisation FROM erasures WHERE trajectory_id = ?",
        [str(tid), str(tid)],
    )
    if row is None or row["organisation"] != user.organisation:
        raise not_found()
    _logged(request, "audit-read", tid)
    return [AccessEntryOut(**r) for r in svc.access.for_trajectory(str(tid))]
