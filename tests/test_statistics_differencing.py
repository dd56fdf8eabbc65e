"""The national figures may not give one girl away. The security review asked for the table
before and after one intake (a coordinator of another organisation, who knew of it) and read
her risk profiles and victim status from the difference. Now: only closed years are
published, counts are rounded to base 5 after suppression, and only researchers and admins
read the table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from tests.builders import COORDINATOR, OTHER_COORDINATOR, open_trajectory
from tests.conftest import FakeClock
from tests.live import Live, live_server
from trajectory.application import TrajectoryApplication
from trajectory.commands import ChangeVictimStatus, CorrectEntry, DecideComenshaRegistration
from trajectory.projections.victims import frozen_on, published_through, rounded

THIS_YEAR = 2026  # the FakeClock's year
LAST_YEAR = THIS_YEAR - 1


def read(live: Live, token: str, url: str) -> httpx.Response:
    with live.client(token) as http:
        return http.get(url)


def the_table(answer: Any) -> dict[tuple[str, str], list[Any]]:
    """Both tables (registered with CoMensha; taken into care), by table and row."""
    return {(table, row["key"]): [(c["n"], c["percent"]) for c in row["cells"]]
            for table in ("registered", "in_care") for row in answer[table]["rows"]}


def girls_of_last_year_recorded_in_time(app: TrajectoryApplication, clock: FakeClock) -> None:
    """24 girls of org B taken in last year, each recorded in its own year, and 24 this
    year; the clock then stands in March of this year (last year is published)."""
    clock.now = datetime(LAST_YEAR, 12, 30, 9, tzinfo=UTC)
    for n in range(24):
        open_trajectory(app, OTHER_COORDINATOR, intake_date=date(LAST_YEAR, 1, 2 + n),
                        risk_profiles=["multi_problem"] if n % 4 else ["honour_related"])
    clock.now = datetime(THIS_YEAR, 3, 2, 9, tzinfo=UTC)
    for n in range(24):
        open_trajectory(app, OTHER_COORDINATOR, intake_date=date(THIS_YEAR, 1, 2 + n),
                        risk_profiles=["multi_problem"] if n % 4 else ["honour_related"])


def test_one_intake_changes_nothing_another_organisation_can_read(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given 24 girls of org B taken in last year and 24 this year
    girls_of_last_year_recorded_in_time(app, clock)
    with live_server(app) as live:
        readers = {who: live.token(who, role, org, user_id=who) for who, role, org in (
            ("researcher-b", "researcher", OTHER_COORDINATOR.organisation),
            ("admin-b", "admin", OTHER_COORDINATOR.organisation),
        )}
        url = f"/statistics/victims?from={LAST_YEAR}&to={THIS_YEAR}"
        before = {who: read(live, t, url) for who, t in readers.items()}
        # when org A takes in one girl today, honour-related and multi-problem, suspected
        open_trajectory(app, COORDINATOR, intake_date=date(THIS_YEAR, 3, 2),
                        risk_profiles=["honour_related", "multi_problem"],
                        victim_status="suspected")
        after = {who: read(live, t, url) for who, t in readers.items()}
        # then whoever may read the table reads exactly what she read before
        for who in readers:
            assert before[who].status_code == after[who].status_code == 200
            assert the_table(after[who].json()) == the_table(before[who].json())
        # and the year still running is withheld altogether, the closed year rounded
        table = the_table(after["researcher-b"].json())
        assert {cells[1] for cells in table.values()} == {(None, None)}
        assert table[("in_care", "total")][0] == (25, 100)  # 24, rounded to base 5
        assert after["researcher-b"].json()["published_through"] == LAST_YEAR


def test_a_record_made_later_about_a_closed_year_changes_nothing(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given last year's 24 girls, published this March, and two more recorded in time
    girls_of_last_year_recorded_in_time(app, clock)
    clock.now = datetime(LAST_YEAR, 12, 31, 9, tzinfo=UTC)
    late = [open_trajectory(app, OTHER_COORDINATOR, intake_date=date(LAST_YEAR, 12, 31))
            for _ in range(2)]
    app.execute(late[0], DecideComenshaRegistration(
        decision="not_registered", argument="she asked not to", consent_by=None
    ), OTHER_COORDINATOR)
    clock.now = datetime(THIS_YEAR, 3, 2, 9, tzinfo=UTC)
    with live_server(app) as live:
        token = live.token("researcher-b", "researcher", OTHER_COORDINATOR.organisation)
        url = f"/statistics/victims?from={LAST_YEAR}&to={LAST_YEAR}"
        before = read(live, token, url)
        # when, now, three girls are taken in with an intake dated last year (one more
        # would move 26 to 30), one girl of last year is confirmed as a victim, and her
        # CoMensha decision is marked in error
        for _ in range(3):
            open_trajectory(app, OTHER_COORDINATOR, intake_date=date(LAST_YEAR, 11, 5),
                            risk_profiles=["honour_related"], victim_status="confirmed")
        app.execute(late[1], ChangeVictimStatus(victim_status="confirmed", reason="proven"),
                    OTHER_COORDINATOR)
        app.execute(late[0], CorrectEntry(position=2, action="mark_in_error", reason="wrong"),
                    OTHER_COORDINATOR)
        after = read(live, token, url)
    # then last year's published figures are what they were
    assert before.status_code == after.status_code == 200
    assert the_table(after.json()) == the_table(before.json())
    assert the_table(after.json())[("in_care", "total")] == [(25, 100)]  # 26, frozen


def test_a_year_is_published_once_its_next_january_is_over() -> None:
    assert published_through(date(THIS_YEAR, 1, 31)) == LAST_YEAR - 1
    assert published_through(date(THIS_YEAR, 2, 1)) == LAST_YEAR
    assert frozen_on(LAST_YEAR) == date(THIS_YEAR, 1, 31)


@pytest.mark.parametrize("role", ["coordinator", "aftercare"])
def test_care_workers_do_not_read_the_national_figures(
    app: TrajectoryApplication, role: str
) -> None:
    # given a care worker of another organisation (the review's differencing reader)
    with live_server(app) as live:
        token = live.token(f"{role}-b", role, OTHER_COORDINATOR.organisation)
        # when she asks for the national table
        answer = read(live, token, f"/statistics/victims?from={LAST_YEAR}&to={THIS_YEAR}")
    # then it is not hers to read
    assert answer.status_code == 403


def test_counts_are_rounded_to_base_5_halves_up() -> None:
    assert [rounded(n) for n in (0, 2, 3, 5, 7, 8, 24, 25, 27, 28)] == [
        0, 0, 5, 5, 5, 10, 25, 25, 25, 30]
