"""The acts on emergency access, each with its access-log entry: a coordinator opens one
and ends it early, the privacy officer reads the review list and records her judgement,
and the organisation's settings are changed. The API (`api.emergency`) and the pages
(`web.emergency_pages`) translate to these and from their answers, so that both log the
same entries and follow the same rules.

Who may open what is `trajectory.visibility`'s rule; the record is `trajectory.emergency`'s.
What must not change: an act's entry names the emergency access it concerns (the review
list reads "what was done" by that mark), and opening is undone when its entry cannot
be written (no emergency access without its trace).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.application import Actor, TrajectoryApplication
from trajectory.emergency import (
    AccessSettings,
    EmergencyAccess,
    EmergencyAccesses,
    EmergencyAccessRefused,
)
from trajectory.identity.users import UserStore, names_of
from trajectory.visibility import break_the_glass
from trajectory.web.girls import name_of


@dataclass(frozen=True)
class Where:
    """Where an act came from, as its entry names it."""

    client: str | None = None
    request_id: str | None = None


def _entry(actor: Actor, at: datetime, action: str, trajectory_id: str | None,
           where: Where, outcome: str = "ok", access_id: str | None = None,
           shown: tuple[str, ...] = ()) -> AccessEntry:
    entry = AccessEntry.by(actor, at=at, action=action, outcome=outcome,
                           trajectory_id=trajectory_id, client=where.client,
                           request_id=where.request_id)
    return replace(entry, emergency_access=access_id, shown=shown)


def open_emergency_access(
    app: TrajectoryApplication, log: AccessLog, actor: Actor, tid: UUID, *, reason: str,
    explanation: str, write: bool, where: Where,
) -> EmergencyAccess:
    """Grant her an emergency access to the girl's file (the rule: `break_the_glass`)
    and log it as `emergency-open`. Raises what `break_the_glass` raises."""
    now = app.clock()
    access = break_the_glass(app.db, actor, tid, reason=reason, explanation=explanation,
                             write=write, now=now)
    try:
        log.append(_entry(actor, now, "emergency-open", str(tid), where,
                          access_id=access.access_id))
    except BaseException:
        # No emergency access without its trace: it ends at once, and the act fails.
        EmergencyAccesses(app.db).end(access.access_id, now=now)
        raise
    return access


def end_emergency_access(
    app: TrajectoryApplication, log: AccessLog, actor: Actor, tid: UUID, *, where: Where,
) -> EmergencyAccess | None:
    """End her emergency access to this file now (None: she holds none in force)."""
    now = app.clock()
    accesses = EmergencyAccesses(app.db)
    access = accesses.in_force(actor.user_id, str(tid), now)
    if access is None:
        return None
    accesses.end(access.access_id, now=now)
    log.append(_entry(actor, now, "emergency-end", str(tid), where,
                      access_id=access.access_id))
    return accesses.get(access.access_id)


# -- the privacy officer's review ------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """One entry of the access log done under an emergency access."""

    at: datetime
    action: str
    outcome: str


@dataclass(frozen=True)
class ToReview:
    """An emergency access as the privacy officer judges it: who, whom, why, when, and
    what was done under it."""

    access: EmergencyAccess
    who: str
    """The coordinator's display name."""
    reviewer: str | None
    """Who reviewed it (her display name), once it is."""
    girl: str | None
    """The girl's name (None: her file was erased)."""
    acts: list[Act]


def acts_under(app: TrajectoryApplication, access_id: str) -> list[Act]:
    """What was done under an emergency access, in the order it was done."""
    rows = app.db.fetchall(
        "SELECT at, action, outcome FROM access_log WHERE emergency_access = ?"
        " ORDER BY entry_id", [access_id],
    )
    return [Act(at=datetime.fromisoformat(str(r["at"])), action=str(r["action"]),
                outcome=str(r["outcome"])) for r in rows]


def to_review(app: TrajectoryApplication, users: UserStore, a: EmergencyAccess) -> ToReview:
    """An emergency access with the names and the acts the review shows."""
    name = names_of(users)
    return ToReview(access=a, who=name(a.user_id),
                    reviewer=name(a.reviewed_by) if a.reviewed_by else None,
                    girl=name_of(app, UUID(a.trajectory_id)),
                    acts=acts_under(app, a.access_id))


def review_list(
    app: TrajectoryApplication, users: UserStore, log: AccessLog, actor: Actor, *,
    unreviewed: bool, where: Where,
) -> list[ToReview]:
    """Her organisation's emergency accesses, those not yet reviewed first, newest first
    within each; logged as one `audit-read` naming every girl it shows."""
    found = EmergencyAccesses(app.db).of_organisation(actor.organisation,
                                                      unreviewed=unreviewed)
    found.sort(key=lambda a: a.review_outcome is not None)  # stable: newest first within
    listed = [to_review(app, users, a) for a in found]
    shown = tuple(dict.fromkeys(a.access.trajectory_id for a in listed))
    log.append(_entry(actor, app.clock(), "audit-read", None, where, shown=shown))
    return listed


def review_emergency_access(
    app: TrajectoryApplication, log: AccessLog, actor: Actor, access_id: str, *,
    outcome: str, note: str, where: Where,
) -> EmergencyAccess:
    """Record the privacy officer's judgement of an emergency access of her organisation
    (another organisation's answers as one that does not exist), logged as
    `emergency-review`. Raises EmergencyAccessRefused (code `not-found` among them)."""
    accesses = EmergencyAccesses(app.db)
    access = accesses.get(access_id)
    if access is None or access.organisation != actor.organisation:
        raise EmergencyAccessRefused("no such emergency access", code="not-found")
    try:
        reviewed = accesses.review(access_id, outcome=outcome, note=note, by=actor.user_id,
                                   now=app.clock())
    except EmergencyAccessRefused as e:
        # bad input (at a field) is rejected; a review the rules do not allow, refused
        log.append(_entry(actor, app.clock(), "emergency-review", access.trajectory_id,
                          where, outcome="rejected" if e.field else "refused",
                          access_id=access_id))
        raise
    log.append(_entry(actor, app.clock(), "emergency-review", access.trajectory_id, where,
                      access_id=access_id))
    return reviewed


def read_access_settings(app: TrajectoryApplication, log: AccessLog, actor: Actor, *,
                         where: Where) -> AccessSettings:
    log.append(_entry(actor, app.clock(), "audit-read", None, where))
    return EmergencyAccesses(app.db).settings(actor.organisation)


def change_access_settings(app: TrajectoryApplication, log: AccessLog, actor: Actor,
                           settings: AccessSettings, *, where: Where) -> AccessSettings:
    """Change her organisation's settings (logged as `access-settings`, refusals too).
    Raises EmergencyAccessRefused naming the field out of bounds."""
    now = app.clock()
    accesses = EmergencyAccesses(app.db)
    try:
        accesses.change_settings(actor.organisation, settings, by=actor.user_id, now=now)
    except EmergencyAccessRefused:
        log.append(_entry(actor, now, "access-settings", None, where, outcome="rejected"))
        raise
    log.append(_entry(actor, now, "access-settings", None, where))
    return accesses.settings(actor.organisation)
