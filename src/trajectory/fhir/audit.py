"""The access log of one trajectory as FHIR R4 AuditEvents (NEN 7513 in FHIR's words).

One AuditEvent per entry, in the order they were written: what kind of act (type `rest`,
with the RESTful interaction where one fits and our own action beside it), who did it
(her user id and role, and for whom when she acted on another's behalf), from where, on
which file (the trajectory), and with what outcome. The mapping is in docs/fhir.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from trajectory.clock import amsterdam_date
from trajectory.fhir.codes import (
    ACCESS_ACTION,
    AUDIT_ENTITY_TYPE,
    AUDIT_EVENT_TYPE,
    EMERGENCY_ACCESS,
    RESTFUL_INTERACTION,
    ROLE,
    TRAJECTORY,
    USER,
    Json,
    concept,
    full_url,
    instant,
    resource_id,
)

# Our action -> (AuditEvent.action, the RESTful interaction, if one fits).
ACTIONS: dict[str, tuple[str, str | None]] = {
    "read": ("R", "read"),
    "audit-read": ("R", "read"),
    "print-handover": ("R", "read"),
    "write": ("C", "create"),  # facts are only ever added: a write creates one
    "search": ("E", "search-type"),
    "export": ("E", "operation"),
    "erase": ("D", "delete"),
}

OUTCOMES = {"ok": "0", "denied": "4", "refused": "4", "rejected": "4", "failed": "8"}
"""Our outcome -> AuditEvent.outcome (0 success, 4 minor failure, 8 serious failure)."""


def moment(at: str) -> datetime:
    """An entry's moment as written (UTC, with its offset; one without is UTC too)."""
    value = datetime.fromisoformat(at)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def in_period(at: str, start: date | None, end: date | None) -> bool:
    """Whether an entry (its UTC moment as written) falls on the Amsterdam days asked."""
    on = amsterdam_date(moment(at))
    return (start is None or on >= start) and (end is None or on <= end)


def audit_event(entry: Mapping[str, Any], trajectory_id: str) -> Json:
    """One access-log entry (a row of `AccessLog.for_trajectory`) as an AuditEvent."""
    action = str(entry["action"])
    code, interaction = ACTIONS.get(action, ("E", None))
    subtype = [{"system": ACCESS_ACTION, "code": action}]
    if interaction is not None:
        subtype.insert(0, {"system": RESTFUL_INTERACTION, "code": interaction})
    outcome = str(entry["outcome"])
    acting: Json = {"requestor": entry["on_behalf_of"] is None}
    if entry["role"]:
        acting["role"] = [concept(ROLE, str(entry["role"]), str(entry["role"]))]
    if entry["user_id"]:
        acting["who"] = {"identifier": {"system": USER, "value": str(entry["user_id"])}}
    if entry["client"]:
        acting["network"] = {"address": str(entry["client"])}
    if entry.get("emergency_access"):
        acting["purposeOfUse"] = [concept(EMERGENCY_ACCESS, str(entry["emergency_access"]),
                                          "emergency access")]
    agents = [acting]
    if entry["on_behalf_of"] is not None:
        agents.append({
            "requestor": True,
            "role": [concept(ROLE, "responsible", "on whose behalf")],
            "who": {"identifier": {"system": USER, "value": str(entry["on_behalf_of"])}},
        })
    event: Json = {
        "resourceType": "AuditEvent",
        "id": resource_id(trajectory_id, f"audit/{entry['entry_id']}"),
        "type": {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"},
        "subtype": subtype,
        "action": code,
        "recorded": instant(moment(str(entry["at"]))),
        "outcome": OUTCOMES.get(outcome, "4"),
        "outcomeDesc": outcome,
        "agent": agents,
        "source": {"observer": {"display": "trajectory"}},
        "entity": [{
            "what": {"identifier": {"system": TRAJECTORY, "value": trajectory_id}},
            "type": {"system": AUDIT_ENTITY_TYPE, "code": "2", "display": "System Object"},
        }],
    }
    if entry["organisation"]:
        event["source"]["site"] = str(entry["organisation"])
    return event


def audit_bundle(entries: Iterable[Mapping[str, Any]], trajectory_id: str, *,
                 now: datetime) -> Json:
    """The entries as a Bundle of type `searchset` (the answer to a query), in order."""
    events = [audit_event(entry, trajectory_id) for entry in entries]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": instant(now),
        "total": len(events),
        "entry": [
            {"fullUrl": full_url(e["id"]), "resource": e, "search": {"mode": "match"}}
            for e in events
        ],
    }
