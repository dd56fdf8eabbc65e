"""Signals for an organisation's privacy officer: the users whose use of the girls' files
is unusual, counted over a period against the organisation's thresholds
(`trajectory.emergency.AccessSettings`).

Three counts per user of the organisation, each of files (a girl's file counts once, however
often it was opened):
- outside her teams: the organisation's girls' files she opened by emergency access, or
  tried to open and was refused (`denied`): acts on files she had no relationship with;
- emergency accesses she was granted in the period;
- files of the organisation's girls she opened (or tried to) at night, Amsterdam time,
  from `night_starts` to `night_ends`.

A user is listed when a count reaches its threshold. Counts only: nobody is blocked, and
the officer judges. Only the access log and the record of emergency accesses are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from trajectory.clock import AMSTERDAM
from trajectory.emergency import AccessSettings
from trajectory.persistence.database import Database
from trajectory.write_errors import EARLIEST

Signal = Literal["outside-team", "emergency", "night"]

_HER_GIRLS = (
    "l.trajectory_id IN (SELECT trajectory_id FROM trajectory_index WHERE organisation = ?"
    " UNION SELECT trajectory_id FROM erasures WHERE organisation = ?)"
)
"""The acts on a file of the organisation's girls (an erased one too: who looked stays
accountable)."""
_HERS = "l.organisation = ? AND l.user_id IS NOT NULL AND l.at >= ? AND l.at < ?"


@dataclass(frozen=True)
class UserCounts:
    user_id: str
    outside_team: int
    emergency: int
    night: int
    signals: tuple[Signal, ...]
    """The counts that reached their threshold."""


LATEST = date(9000, 1, 1)


def a_day_of_the_log(day: date) -> bool:
    """Whether a day asked for can hold access-log entries (none lies before the earliest
    day of a fact or in the far future; and the period's arithmetic stays in range)."""
    return EARLIEST <= day <= LATEST


def period_of(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC moments from the start of `first` to the end of `last`, Amsterdam days."""
    start = datetime.combine(first, time(0), tzinfo=AMSTERDAM)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=AMSTERDAM)
    return start.astimezone(UTC), end.astimezone(UTC)


def at_night(moment: datetime, starts: int, ends: int) -> bool:
    """Whether the moment falls, in Amsterdam, in the hours from `starts` up to `ends`
    (across midnight when `starts` is later than `ends`; never when they are equal)."""
    hour = moment.astimezone(AMSTERDAM).hour
    if starts > ends:
        return hour >= starts or hour < ends
    return starts <= hour < ends


def counts(db: Database, organisation: str, since: datetime, until: datetime,
           settings: AccessSettings) -> list[UserCounts]:
    """Every user of the organisation with a count above nought, from `since` up to (not
    including) `until`, by user id."""
    bounds = [organisation, since.isoformat(), until.isoformat()]
    girls = [organisation, organisation]
    outside = {
        str(r["user_id"]): int(r["files"]) for r in db.fetchall(
            "SELECT l.user_id, COUNT(DISTINCT l.trajectory_id) AS files FROM access_log l"
            f" WHERE {_HERS} AND {_HER_GIRLS}"
            " AND (l.emergency_access IS NOT NULL OR l.outcome = 'denied')"
            " GROUP BY l.user_id",
            [*bounds, *girls])
    }
    emergency = {
        str(r["user_id"]): int(r["accesses"]) for r in db.fetchall(
            "SELECT user_id, COUNT(*) AS accesses FROM emergency_accesses"
            " WHERE organisation = ? AND started_at >= ? AND started_at < ? GROUP BY user_id",
            bounds)
    }
    # The hour in Amsterdam moves with summer time: read in Python, from the acts' moments.
    nightly: dict[str, set[str]] = {}
    for r in db.fetchall(
        "SELECT DISTINCT l.user_id, l.trajectory_id, l.at FROM access_log l"
        f" WHERE {_HERS} AND {_HER_GIRLS}",
        [*bounds, *girls],
    ):
        if at_night(datetime.fromisoformat(str(r["at"])), settings.night_starts,
                    settings.night_ends):
            nightly.setdefault(str(r["user_id"]), set()).add(str(r["trajectory_id"]))
    found = []
    for user in sorted(set(outside) | set(emergency) | set(nightly)):
        o, e, n = outside.get(user, 0), emergency.get(user, 0), len(nightly.get(user, ()))
        reached: list[Signal] = []
        if o >= settings.outside_team_threshold:
            reached.append("outside-team")
        if e >= settings.emergency_threshold:
            reached.append("emergency")
        if n >= settings.night_threshold:
            reached.append("night")
        found.append(UserCounts(user, o, e, n, tuple(reached)))
    return found


def signals(db: Database, organisation: str, since: datetime, until: datetime,
            settings: AccessSettings) -> list[UserCounts]:
    """The users with a count that reached its threshold, with their counts."""
    return [c for c in counts(db, organisation, since, until, settings) if c.signals]

