"""`trajectory show ID`: one trajectory's state and history, for a terminal user.

Shows what the stream holds, read through the application (so tampering or a missing
protocol shows up as an error, not as a silently wrong picture). No names: the summary
carries the id only, as the logs do; personal data stays in the opening event.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from typing import TextIO
from uuid import UUID

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.aggregates.errors import TrajectoryNotFound
from trajectory.aggregates.state import TrajectoryState
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.identity.users import User
from trajectory.listing import CLIENT, Operator, actor_of
from trajectory.protocol import Protocol, ProtocolRegistryError
from trajectory.protocol.attention import attention_items
from trajectory.visibility import visible_row

EXIT_OK = 0
EXIT_NOT_FOUND = 1


def show(
    app: TrajectoryApplication, trajectory_id: UUID, out: TextIO, user: User | None = None
) -> int:
    """Print the trajectory's state and history to `out`; exit code 1 if it is unknown (or
    not `user`'s to see). The read is access-logged before anything is printed: as `user`,
    or as the operator at this terminal (`listing.Operator`); a refusal too."""
    who: Actor | Operator = actor_of(user) if user is not None else Operator.here()
    access = AccessLog(app.db)

    def logged(outcome: str) -> None:
        entry = AccessEntry.by(who, at=app.clock(), action="read", outcome=outcome,
                               trajectory_id=str(trajectory_id), client=CLIENT)
        access.append(entry if who.organisation else replace(entry, organisation=None))

    try:
        if user is not None:
            today = amsterdam_date(app.clock())
            visible_row(app.db, user, trajectory_id, today=today,
                        grace_days=app.settings.aftercare_grace_days, now=app.clock())
        t = app.get(trajectory_id)
    except TrajectoryNotFound:
        logged("denied")
        print(f"trajectory: no trajectory with id {trajectory_id}", file=sys.stderr)
        return EXIT_NOT_FOUND
    logged("ok")
    events = list(app.stream(trajectory_id))
    s = t.state
    today = amsterdam_date(app.clock())
    try:
        protocol: Protocol | None = app.protocol_of(t)
    except ProtocolRegistryError:
        protocol = None

    def line(label: str, value: object) -> None:
        print(f"  {label:<15}{value}", file=out)

    print(f"Trajectory {trajectory_id}  (version {t.version}, as of {today})", file=out)
    line("organisation", f"{s.organisation}, coordinator {s.coordinator}")
    line("protocol", f"{s.protocol_name} {s.protocol_version}"
         + ("" if protocol is not None else " (not installed here)"))
    line("status", s.status + _status_detail(s))
    line("intake", f"{s.intake_date}, setting {s.setting}, placement {s.placement or '-'}")
    line("victim status", f"{s.victim_status}; profiles {', '.join(s.risk_profiles) or '-'}")
    line("phase", _phase(s, protocol, today))
    line("permissions", "  ".join(f"{kind} {level}" for kind, level in s.permissions.items()))
    if s.open_runaway is not None:
        since = s.open_runaway.since
        line("RUNAWAY OPEN", f"since {since} ({(today - since).days} days, entry"
             f" {s.open_runaway.position})")
    else:
        line("open runaway", f"none ({s.runaway_count} runaway(s) in total)")
    if s.therapy is not None:
        th = s.therapy
        done = f", completed {th.completed_on}" if th.completed_on else ", running"
        line("trauma therapy", f"{th.method} since {th.started_on}, {th.sessions} session(s){done}")
    h = s.handover
    if h.receiving_worker is not None:
        line("handover", f"to {h.receiving_worker} ({h.receiving_organisation}): prepared"
             f" {h.prepared_on}, meeting {h.meeting_on or '-'}, accepted {h.accepted_on or '-'}")
    print("  contacts", file=out)
    if not s.contacts:
        print("    none registered", file=out)
    for contact in s.contacts.values():
        print(f"    {contact.role:<24} risk {contact.risk:<11} level {contact.level:<13}"
              f" ({contact.contact_id[:8]})", file=out)
    print("  attention", file=out)
    items = attention_items(s, protocol, today) if protocol is not None else []
    if not items:
        print("    nothing due" if protocol is not None else "    unknown (protocol missing)",
              file=out)
    for item in items:
        flag = "OVERDUE" if item.overdue else "due"
        print(f"    {flag:<8} {item.code:<24} {item.due_on}", file=out)

    print(f"History ({len(events)} events)", file=out)
    print(f"  {'pos':>4}  {'occurred':<10}  {'event':<28}  {'recorded by':<16}  hash", file=out)
    for event in events:
        position = event.originator_version
        mark = (" (in error)" if position in s.entries_in_error
                else " (corrected)" if position in s.corrected_entries else "")
        print(
            f"  {position:>4}  {event.occurred_on.isoformat():<10}  {type(event).__name__:<28}"
            f"  {event.recorded_by:<16}  {event.hash[:12]}{mark}",
            file=out,
        )
    return EXIT_OK


def _status_detail(s: TrajectoryState) -> str:
    if s.status == "aftercare":
        ended = f", ended {s.aftercare_ended_on}" if s.aftercare_ended_on else ""
        return f" since {s.aftercare_started_on}{ended}"
    if s.status == "closed":
        return f" on {s.closed_on}"
    return ""


def _phase(s: TrajectoryState, protocol: Protocol | None, today: date) -> str:
    entered = s.phase_entered_on or s.intake_date
    # Days in phase count while she is in care; after that the phase is history.
    left = s.aftercare_started_on or s.closed_on
    until = left if s.status != "in_care" and left is not None else today
    days = (until - entered).days
    name = ""
    if protocol is not None and 1 <= s.phase <= protocol.last_phase:
        spec = protocol.phase_spec(s.phase)
        name = f" {spec.name} ({spec.label})"
    regressions = f"; {s.regressions} regression(s)" if s.regressions else ""
    if until != today:
        return f"{s.phase}{name} from {entered} to {until}, {days} days{regressions}"
    return f"{s.phase}{name} since {entered}, {days} days in phase{regressions}"
