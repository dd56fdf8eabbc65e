"""Beleidsinformatie Jeugd, part 3: the outcome indicators (issue 20).

On a constructed set of girls the indicators equal the values computed by hand; small
cells are suppressed as in the national figures; the route answers the same over HTTP, on
both stores, a new start recognised by a keyed hash of her citizen service number.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from tests.api_support import ORG_A, ORG_B
from tests.builders import intake, left_care
from tests.live import live_server
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.outcomes import GoalOutcome
from trajectory.application import Actor, TrajectoryApplication
from trajectory.bij.care import CareOutcome, CareRecord
from trajectory.bij.indicators import NewStarts, count_groups, month_range, outcomes
from trajectory.commands import RecordCareOutcome
from trajectory.demo import demo_bsn

FIRST, LAST, TODAY = date(2026, 1, 1), date(2026, 3, 31), date(2026, 12, 1)
STARTS = NewStarts(b"k" * 32)


def bsn(n: int) -> str:
    return demo_bsn(random.Random(n))


def girl(n: int, **changes: Any) -> CareRecord:
    """Girl n of the constructed set (see the table in the test)."""
    end = date(2026, 1, 10) + timedelta(days=5 * n)
    outcome = None
    if n <= 10:
        outcome = CareOutcome(
            satisfied="yes" if n <= 6 else "no" if n <= 8 else "unknown",
            without_help="yes" if n <= 5 else "no", informant="girl",
            goals=(GoalOutcome(goal="veilig", attained="yes" if n <= 5 else
                               "partly" if n <= 7 else "no"),))
    fields: dict[str, Any] = dict(
        trajectory_id=f"g{n}", organisation="A", bsn="" if n == 12 else bsn(n),
        date_of_birth=date(2010, 1, 1), sex="female",
        municipality="0344" if n <= 6 else "0363", referrer="judicial",
        care_form="residential_other", started_in_crisis=False, start=date(2025, 6, 1),
        end=end, end_reason="early_by_client" if n <= 5 else "as_planned", outcome=outcome)
    fields.update(changes)
    return CareRecord(**fields)


def constructed() -> tuple[list[CareRecord], list[CareRecord]]:
    """Twelve girls of A whose care ended in the first quarter, one ended later, one in care;
    and elsewhere in the installation: girls 1 and 2 taken in again within six months (by
    B), girl 3 after 200 days."""
    mine = [girl(n) for n in range(1, 13)]
    mine += [girl(13, end=date(2026, 5, 1)), girl(14, end=None, end_reason=None)]
    again = [girl(n, trajectory_id=f"again{n}", organisation="B",
                  start=date(2026, 1, 10) + timedelta(days=5 * n + days), end=None,
                  end_reason=None)
             for n, days in ((1, 30), (2, 180), (3, 200))]
    return mine, mine + again


def test_the_indicators_equal_the_hand_computed_values() -> None:
    mine, everyone = constructed()
    # when the raw counts of the first quarter are taken
    counts = count_groups(mine, FIRST, LAST, TODAY, STARTS, everyone=everyone)
    whole = counts[("all", "")]
    # then (numerator, denominator) are as computed by hand:
    assert whole.ended == 12
    assert whole.counts == {
        "dropout": (5, 12),           # girls 1-5 ended on their own decision
        "satisfied": (6, 8),          # 1-6 yes, 7-8 no, 9-10 unknown, 11-12 not asked
        "without_help": (5, 10),      # 1-5 yes, 6-10 no
        "no_new_start": (9, 11),      # 1 and 2 came back within six months; 12 has no BSN
        "goals_attained": (5, 10),    # one goal each: 1-5 yes, 6-7 partly, 8-10 no
    }
    assert counts[("municipality", "0344")].counts["dropout"] == (5, 6)
    assert counts[("municipality", "0363")].counts["dropout"] == (0, 6)
    assert counts[("organisation", "A")].counts == whole.counts
    # and published with percentages, small cells suppressed
    out = outcomes(mine, FIRST, LAST, TODAY, STARTS, everyone=everyone)
    shown = {(g.by, g.value, i.indicator): (i.numerator, i.denominator, i.percent)
             for g in out.groups for i in g.indicators}
    assert shown[("all", "", "dropout")] == (5, 12, 41.7)
    assert shown[("all", "", "satisfied")] == (6, 8, 75.0)
    assert shown[("all", "", "no_new_start")] == (9, 11, 81.8)
    assert shown[("all", "", "goals_attained")] == (5, 10, 50.0)
    assert shown[("municipality", "0344", "no_new_start")] == (None, 6, None)  # 4 of 6
    assert shown[("municipality", "0363", "satisfied")] == (0, None, None)  # 0 of 2
    assert shown[("municipality", "0363", "dropout")] == (0, 6, 0.0)


def test_a_new_start_is_not_known_before_six_months_have_passed() -> None:
    mine, everyone = constructed()
    early = count_groups(mine, FIRST, LAST, date(2026, 7, 1), STARTS, everyone=everyone)
    # only girls whose end lies 183 days before 1 July are judged (ends up to 29 Dec 2025)
    assert early[("all", "")].counts["no_new_start"] == (0, 0)


def test_months_are_whole_months() -> None:
    assert month_range("2026-01", "2026-12") == (date(2026, 1, 1), date(2026, 12, 31))
    assert month_range("2026-02", "2026-02") == (date(2026, 2, 1), date(2026, 2, 28))


def test_the_route_counts_the_organisations_ended_care_over_http(
    app: TrajectoryApplication, clock: Any
) -> None:
    # given five girls of A who left care in February, each asked about the outcome, one
    # of them taken in again by B three weeks later (the same number)
    a = Actor(user_id="ca", role="coordinator", organisation=ORG_A)
    b = Actor(user_id="cb", role="coordinator", organisation=ORG_B)
    for n in range(1, 6):
        tid = app.open_trajectory(intake(identity=Identity(
            name=f"Meisje {n}", date_of_birth=date(2010, 1, n), home_region="Utrecht",
            bsn=bsn(n)), municipality="0344", care_form="residential_other",
            referrer="judicial"), a).trajectory_id
        app.execute(tid, left_care("own_decision" if n <= 2 else "aftercare_completed",
                                   occurred_on="2026-02-01"), a)
        app.execute(tid, RecordCareOutcome(satisfied="yes", without_help="yes",
                                           informant="girl"), a)
    clock.now = clock.now.replace(year=2026, month=2, day=22)
    app.open_trajectory(intake(intake_date=date(2026, 2, 22), identity=Identity(
        name="Meisje 1", date_of_birth=date(2010, 1, 1), home_region="Utrecht",
        bsn=bsn(1))), b)
    clock.now = clock.now.replace(year=2026, month=9, day=1)
    with live_server(app) as live:
        token = live.token("quality", "quality", ORG_A, user_id="quality")
        with live.client(token) as http:
            # when the quality officer asks for the indicators of February
            got = http.get("/quality/outcomes", params={"from": "2026-02", "to": "2026-02"})
            csv = http.get("/quality/outcomes.csv", params={"from": "2026-02", "to": "2026-02"})
            bad = http.get("/quality/outcomes", params={"from": "2026-03", "to": "2026-02"})
            no_month = http.get("/quality/outcomes", params={"from": "0000-01", "to": "0000-01"})
    # then the counts are the hand-computed ones: 5 ended, 2 dropped out (suppressed),
    # all satisfied, 4 of 5 without a new start (suppressed: 4 is a small cell)
    assert got.status_code == 200, got.text
    assert no_month.status_code == 422, no_month.text  # year 0 is no month: never a 500
    whole = next(g for g in got.json()["groups"] if g["by"] == "all")
    values = {i["indicator"]: (i["numerator"], i["denominator"], i["percent"])
              for i in whole["indicators"]}
    assert whole["ended"] == 5
    assert values["dropout"] == (None, 5, None)
    assert values["satisfied"] == (5, 5, 100.0)
    assert values["no_new_start"] == (None, 5, None)
    assert csv.headers["content-type"].startswith("text/csv")
    assert "all,,satisfied,5,5,100.0" in csv.text
    assert bad.status_code == 422
    # and the BSN is in none of the answers
    assert bsn(1) not in got.text + csv.text
