"""The privacy officer's anomaly signals (issue 18, part 4), counted on a log made by hand:
files opened outside her teams (by emergency access, or refused), emergency accesses, files
opened at night in Amsterdam (summer time included), per user of the organisation, against
the organisation's thresholds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from tests.builders import intake
from trajectory.access_anomalies import UserCounts, at_night, counts, period_of, signals
from trajectory.access_log import AccessEntry, AccessLog
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor, TrajectoryApplication
from trajectory.emergency import AccessSettings, EmergencyAccesses

ORG_A, ORG_B = "Stichting Zonnebloem", "Jeugdzorg Noordkaap"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _girl(app: TrajectoryApplication, name: str, organisation: str) -> str:
    actor = Actor(user_id=f"intake-{organisation}", role="coordinator", organisation=organisation)
    identity = Identity(name=name, date_of_birth=date(2010, 4, 1), home_region="Utrecht")
    tid: UUID = app.open_trajectory(intake(identity=identity), actor).trajectory_id
    return str(tid)


def _act(log: AccessLog, who: str, organisation: str, at: str, girl: str,
         outcome: str = "ok") -> None:
    log.append(AccessEntry(at=_utc(at), user_id=who, on_behalf_of=None, role="coordinator",
                           organisation=organisation, client="test", action="read",
                           trajectory_id=girl, outcome=outcome, request_id=None))


def test_each_user_is_counted_by_hand_and_listed_when_a_count_reaches_its_threshold(
    app: TrajectoryApplication,
) -> None:
    # given three girls of organisation A and one of B, and A's thresholds of two
    g1, g2, g3 = (_girl(app, n, ORG_A) for n in ("Een Meisje", "Twee Meisje", "Drie Meisje"))
    gb = _girl(app, "Ander Meisje", ORG_B)
    accesses = EmergencyAccesses(app.db)
    accesses.change_settings(ORG_A, AccessSettings(
        outside_team_threshold=2, emergency_threshold=2, night_threshold=2, night_starts=22,
        night_ends=6), by="admin", now=_utc("2026-02-01T10:00:00"))
    log = AccessLog(app.db)

    def grant(who: str, girl: str, at: str) -> None:
        accesses.grant(organisation=ORG_A, user_id=who, trajectory_id=girl, reason="crisis",
                       explanation="", write=False, now=_utc(at))

    # anna: by emergency access on g1 (read twice: one file), refused on g2, refused on B's
    # girl (not A's); a second emergency access on g3, and one before the period
    grant("anna", g1, "2026-03-02T10:00:00")
    _act(log, "anna", ORG_A, "2026-03-02T10:05:00", g1)
    _act(log, "anna", ORG_A, "2026-03-02T10:30:00", g1)
    _act(log, "anna", ORG_A, "2026-03-03T12:00:00", g2, "denied")
    _act(log, "anna", ORG_A, "2026-03-03T12:01:00", gb, "denied")
    grant("anna", g3, "2026-03-10T09:00:00")
    grant("anna", g2, "2026-02-27T09:00:00")
    # bert: at night in winter time (22:30 and 05:59 in Amsterdam), not at 06:00; in summer
    # time 04:30 UTC is 06:30 in Amsterdam (not night); after the period nothing counts
    _act(log, "bert", ORG_A, "2026-03-05T21:30:00", g1)
    _act(log, "bert", ORG_A, "2026-03-05T04:59:00", g2)
    _act(log, "bert", ORG_A, "2026-03-06T05:00:00", g3)
    _act(log, "bert", ORG_A, "2026-03-30T20:30:00", g1)
    _act(log, "bert", ORG_A, "2026-03-30T04:30:00", g3)
    _act(log, "bert", ORG_A, "2026-03-31T22:30:00", g3)
    # carla: one refusal; dirk, of B, refused on A's girl (not A's user)
    _act(log, "carla", ORG_A, "2026-03-04T10:00:00", g1, "denied")
    _act(log, "dirk", ORG_B, "2026-03-04T10:00:00", g1, "denied")

    # when March is counted for A
    since, until = period_of(date(2026, 3, 1), date(2026, 3, 31))
    settings = accesses.settings(ORG_A)
    found = counts(app.db, ORG_A, since, until, settings)

    # then the counts are those computed by hand, and the listed users those that reached
    assert found == [
        UserCounts("anna", outside_team=2, emergency=2, night=0,
                   signals=("outside-team", "emergency")),
        UserCounts("bert", outside_team=0, emergency=0, night=2, signals=("night",)),
        UserCounts("carla", outside_team=1, emergency=0, night=0, signals=()),
    ]
    assert [c.user_id for c in signals(app.db, ORG_A, since, until, settings)] == [
        "anna", "bert"]
    # and organisation B sees none of A's users
    assert counts(app.db, ORG_B, since, until, accesses.settings(ORG_B)) == []


def test_a_period_is_of_amsterdam_days_and_the_night_crosses_midnight() -> None:
    assert period_of(date(2026, 3, 1), date(2026, 3, 31)) == (
        _utc("2026-02-28T23:00:00"), _utc("2026-03-31T22:00:00"))
    assert at_night(_utc("2026-07-01T20:00:00"), 22, 6)  # 22:00 in summer
    assert not at_night(_utc("2026-07-01T19:59:00"), 22, 6)
    assert at_night(_utc("2026-01-01T01:00:00"), 1, 5)  # 02:00 in winter, a night within a day
    assert not at_night(_utc("2026-01-01T01:00:00"), 3, 3)
