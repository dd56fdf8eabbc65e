"""Emergency access ("break the glass"): a coordinator opens the file of a girl of her
organisation she has no relationship with, because something cannot wait.

She states why (a coded reason; "other" with an explanation), and gets read access (and,
where her organisation allows it, write access) for a limited time, eight hours unless
the organisation set another. Every act she does on that girl while it lasts is marked in
the access log with the access's id (`AccessLog`), and the organisation's privacy officer
reviews each one afterwards: justified or not, with a note. Nothing here is deleted or
overwritten: an access that ended early keeps its row with the moment it ended, and a
review is a row of its own that cannot be changed.

Who may ask for it and what it opens is `trajectory.visibility`'s rule; this module keeps
the record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from trajectory.persistence.database import Database, Reads

Reason = Literal["crisis", "runaway-at-night", "police-request", "other"]
REASONS: tuple[Reason, ...] = get_args(Reason)
ReviewOutcome = Literal["justified", "not-justified"]
REVIEW_OUTCOMES: tuple[ReviewOutcome, ...] = get_args(ReviewOutcome)


class EmergencyAccessRefused(ValueError):
    """An emergency access that cannot be granted or reviewed as asked; `field` names the
    input at fault, `code` the rule."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class AccessSettings:
    """An organisation's choices about emergency access and the anomaly signals."""

    emergency_may_write: bool = False
    emergency_hours: int = 8
    outside_team_threshold: int = 5
    """A user who opened (or tried to open) this many files outside her teams in 30 days."""
    emergency_threshold: int = 3
    """A user who used emergency access this many times in 30 days."""
    night_threshold: int = 5
    """A user who opened this many files at night in 30 days."""
    night_starts: int = 22
    night_ends: int = 6


@dataclass(frozen=True)
class EmergencyAccess:
    access_id: str
    organisation: str
    user_id: str
    trajectory_id: str
    reason: Reason
    explanation: str
    may_write: bool
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    review_outcome: ReviewOutcome | None = None
    review_note: str = ""
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return self.started_at <= now < self.until

    @property
    def until(self) -> datetime:
        """When it ended or ends."""
        return min(self.ended_at, self.ends_at) if self.ended_at else self.ends_at


_COLUMNS = (
    "a.access_id, a.organisation, a.user_id, a.trajectory_id, a.reason, a.explanation,"
    " a.may_write, a.started_at, a.ends_at, a.ended_at, r.outcome, r.note, r.reviewed_by,"
    " r.reviewed_at"
)
_FROM = (" FROM emergency_accesses a"
         " LEFT JOIN emergency_access_reviews r ON r.access_id = a.access_id")


def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _access(row: dict[str, Any]) -> EmergencyAccess:
    started = datetime.fromisoformat(str(row["started_at"]))
    ends = datetime.fromisoformat(str(row["ends_at"]))
    return EmergencyAccess(
        access_id=str(row["access_id"]), organisation=str(row["organisation"]),
        user_id=str(row["user_id"]), trajectory_id=str(row["trajectory_id"]),
        reason=row["reason"], explanation=str(row["explanation"]),
        may_write=bool(row["may_write"]), started_at=started, ends_at=ends,
        ended_at=_moment(row["ended_at"]), review_outcome=row["outcome"],
        review_note=str(row["note"] or ""), reviewed_by=row["reviewed_by"],
        reviewed_at=_moment(row["reviewed_at"]),
    )


class EmergencyAccesses:
    """The record of emergency accesses and their reviews, and each organisation's
    settings for them."""

    def __init__(self, db: Database):
        self.db = db

    # -- settings ------------------------------------------------------------------------
    def settings(self, organisation: str) -> AccessSettings:
        row = self.db.fetchone(
            "SELECT emergency_may_write, emergency_hours, outside_team_threshold,"
            " emergency_threshold, night_threshold, night_starts, night_ends"
            " FROM access_settings WHERE organisation = ?",
            [organisation],
        )
        if row is None:
            return AccessSettings()
        return AccessSettings(
            emergency_may_write=bool(row["emergency_may_write"]),
            emergency_hours=int(row["emergency_hours"]),
            outside_team_threshold=int(row["outside_team_threshold"]),
            emergency_threshold=int(row["emergency_threshold"]),
            night_threshold=int(row["night_threshold"]),
            night_starts=int(row["night_starts"]),
            night_ends=int(row["night_ends"]),
        )

    def change_settings(self, organisation: str, settings: AccessSettings, *, by: str,
                        now: datetime) -> None:
        check_settings(settings)
        values = [
            int(settings.emergency_may_write), settings.emergency_hours,
            settings.outside_team_threshold, settings.emergency_threshold,
            settings.night_threshold, settings.night_starts, settings.night_ends,
            now.isoformat(), by,
        ]
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM access_settings WHERE organisation = ?", [organisation])
            tx.execute(
                "INSERT INTO access_settings (emergency_may_write, emergency_hours,"
                " outside_team_threshold, emergency_threshold, night_threshold, night_starts,"
                " night_ends, updated_at, updated_by, organisation)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*values, organisation],
            )

    # -- granting ------------------------------------------------------------------------
    def grant(
        self,
        *,
        organisation: str,
        user_id: str,
        trajectory_id: str,
        reason: str,
        explanation: str,
        write: bool,
        now: datetime,
    ) -> EmergencyAccess:
        """Record an emergency access from `now` for the organisation's number of hours.
        Raises EmergencyAccessRefused for a reason not in the list, "other" without an
        explanation, or write access where the organisation does not allow it."""
        explanation = explanation.strip()
        if reason not in REASONS:
            raise EmergencyAccessRefused(
                f"the reason must be one of {', '.join(REASONS)}",
                code="emergency-reason-unknown", field="reason")
        if reason == "other" and not explanation:
            raise EmergencyAccessRefused(
                "with the reason 'other', say what the emergency is",
                code="emergency-explanation-missing", field="explanation")
        if len(explanation) > 2000:
            raise EmergencyAccessRefused("the explanation is longer than 2000 characters",
                                         code="emergency-explanation-too-long",
                                         field="explanation")
        settings = self.settings(organisation)
        if write and not settings.emergency_may_write:
            raise EmergencyAccessRefused(
                "this organisation allows emergency access to read only",
                code="emergency-write-not-allowed", field="write")
        access = EmergencyAccess(
            access_id=uuid.uuid4().hex, organisation=organisation, user_id=user_id,
            trajectory_id=trajectory_id, reason=reason,
            explanation=explanation, may_write=write, started_at=now,
            ends_at=now + timedelta(hours=settings.emergency_hours), ended_at=None,
        )
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO emergency_accesses (access_id, organisation, user_id,"
                " trajectory_id, reason, explanation, may_write, started_at, ends_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [access.access_id, organisation, user_id, trajectory_id, reason,
                 explanation, int(write), now.isoformat(), access.ends_at.isoformat()],
            )
        return access

    def end(self, access_id: str, *, now: datetime) -> None:
        """She closed the file before the time was up: the access ends now."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE emergency_accesses SET ended_at = ?"
                " WHERE access_id = ? AND ended_at IS NULL AND ends_at > ?",
                [now.isoformat(), access_id, now.isoformat()],
            )

    def in_force(self, user_id: str, trajectory_id: str, now: datetime,
                 via: Reads | None = None) -> EmergencyAccess | None:
        """Her emergency access to this file that is in force at `now`, if any (the one
        that lasts longest)."""
        row = (via or self.db).fetchone(
            f"SELECT {_COLUMNS}{_FROM} WHERE a.user_id = ? AND a.trajectory_id = ?"
            " AND a.ends_at > ? AND a.started_at <= ? AND a.ended_at IS NULL"
            " ORDER BY a.ends_at DESC LIMIT 1",
            [user_id, trajectory_id, now.isoformat(), now.isoformat()],
        )
        return _access(row) if row else None

    def in_force_for(self, user_id: str, now: datetime) -> list[EmergencyAccess]:
        """Every emergency access of hers in force at `now`."""
        rows = self.db.fetchall(
            f"SELECT {_COLUMNS}{_FROM} WHERE a.user_id = ? AND a.ends_at > ?"
            " AND a.started_at <= ? AND a.ended_at IS NULL ORDER BY a.started_at",
            [user_id, now.isoformat(), now.isoformat()],
        )
        return [_access(r) for r in rows]

    def get(self, access_id: str) -> EmergencyAccess | None:
        row = self.db.fetchone(f"SELECT {_COLUMNS}{_FROM} WHERE a.access_id = ?", [access_id])
        return _access(row) if row else None

    def of_organisation(self, organisation: str, *, unreviewed: bool = False,
                        since: datetime | None = None) -> list[EmergencyAccess]:
        """The organisation's emergency accesses, newest first (only those not yet
        reviewed, with `unreviewed`)."""
        where, params = ["a.organisation = ?"], [organisation]
        if unreviewed:
            where.append("r.access_id IS NULL")
        if since is not None:
            where.append("a.started_at >= ?")
            params.append(since.isoformat())
        rows = self.db.fetchall(
            f"SELECT {_COLUMNS}{_FROM} WHERE {' AND '.join(where)} ORDER BY a.started_at DESC",
            params,
        )
        return [_access(r) for r in rows]

    def of_trajectory(self, trajectory_id: str) -> list[EmergencyAccess]:
        rows = self.db.fetchall(
            f"SELECT {_COLUMNS}{_FROM} WHERE a.trajectory_id = ? ORDER BY a.started_at",
            [trajectory_id],
        )
        return [_access(r) for r in rows]

    # -- reviewing -----------------------------------------------------------------------
    def review(self, access_id: str, *, outcome: str, note: str, by: str,
               now: datetime) -> EmergencyAccess:
        """The privacy officer's judgement, once per access; it cannot be changed after.
        Nobody reviews her own emergency access."""
        access = self.get(access_id)
        if access is None:
            raise EmergencyAccessRefused("no such emergency access", code="not-found")
        if outcome not in REVIEW_OUTCOMES:
            raise EmergencyAccessRefused(
                f"the outcome must be one of {', '.join(REVIEW_OUTCOMES)}",
                code="review-outcome-unknown", field="outcome")
        note = note.strip()
        if outcome == "not-justified" and not note:
            raise EmergencyAccessRefused(
                "say why the access was not justified", code="review-note-missing",
                field="note")
        if len(note) > 2000:
            raise EmergencyAccessRefused("the note is longer than 2000 characters",
                                         code="review-note-too-long", field="note")
        if access.user_id == by:
            raise EmergencyAccessRefused("nobody reviews her own emergency access",
                                         code="review-own-access")
        if access.review_outcome is not None:
            raise EmergencyAccessRefused("this emergency access was reviewed already",
                                         code="review-recorded-already")
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO emergency_access_reviews (access_id, outcome, note, reviewed_by,"
                " reviewed_at) VALUES (?, ?, ?, ?, ?)",
                [access_id, outcome, note, by, now.isoformat()],
            )
        reviewed = self.get(access_id)
        assert reviewed is not None
        return reviewed


def check_settings(settings: AccessSettings) -> None:
    """The limits of an organisation's settings, named by field."""
    if not 1 <= settings.emergency_hours <= 24:
        raise EmergencyAccessRefused("emergency access lasts from 1 to 24 hours",
                                     code="settings-invalid", field="emergency_hours")
    for name in ("outside_team_threshold", "emergency_threshold", "night_threshold"):
        if not 1 <= getattr(settings, name) <= 1000:
            raise EmergencyAccessRefused("a threshold is a count from 1 to 1000",
                                         code="settings-invalid", field=name)
    for name in ("night_starts", "night_ends"):
        if not 0 <= getattr(settings, name) <= 23:
            raise EmergencyAccessRefused("an hour is from 0 to 23", code="settings-invalid",
                                         field=name)
