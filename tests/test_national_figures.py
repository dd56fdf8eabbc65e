"""`/statistics/victims` counts what it says. The audit: the table said "registered
victims" but counted girls taken into care, without the Dutch/foreign split of the
rapporteur's table 2.1. Now two tables: girls registered with CoMensha (in the year of
their first report sent) and girls taken into care (in the year of their intake), each
split by nationality with "of which minors", as table 2.1 is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx

from tests.builders import OTHER_COORDINATOR, open_trajectory
from tests.conftest import FakeClock
from tests.live import Live, live_server
from trajectory.aggregates.events.intake import Identity
from trajectory.application import TrajectoryApplication
from trajectory.commands import (
    CorrectEntry,
    DecideComenshaRegistration,
    RecordComenshaAcknowledgement,
    ReportToComensha,
)

MINOR = Identity(name="x", date_of_birth=date(2010, 5, 5), home_region="x")
ADULT = Identity(name="x", date_of_birth=date(2000, 5, 5), home_region="x")
REGISTER = DecideComenshaRegistration(decision="registered_by_name", consent_by="parent")


def table(answer: dict[str, Any], name: str) -> dict[str, list[tuple[Any, Any]]]:
    return {row["key"]: [(c["n"], c["percent"]) for c in row["cells"]]
            for row in answer[name]["rows"]}


def report(app: TrajectoryApplication, tid: UUID, on: date, *, acknowledged: bool = False
           ) -> int:
    app.execute(tid, REGISTER, OTHER_COORDINATOR)
    sent = app.execute(tid, ReportToComensha(occurred_on=on.isoformat()), OTHER_COORDINATOR)
    if acknowledged:
        app.execute(tid, RecordComenshaAcknowledgement(
            reference="CM-1", occurred_on=on.isoformat()), OTHER_COORDINATOR)
    return sent.version


def read(live: Live, url: str) -> dict[str, Any]:
    """The answer to a researcher (of the organisation whose girls they are)."""
    users, now = live.services.users, live.services.application.clock()
    token = (
        live.token("researcher-b", "researcher", OTHER_COORDINATOR.organisation)
        if users.find("researcher-b") is None
        else users.rotate("researcher-b", now)[1]
    )
    with live.client(token) as http:
        answer: httpx.Response = http.get(url)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def two_years_of_girls(app: TrajectoryApplication, clock: FakeClock) -> list[UUID]:
    """2024: five foreign minors taken in (reported in 2025). 2025: fifteen Dutch girls
    taken in, ten of them minors; five of the minors reported (and acknowledged) in 2025,
    five more reported only in 2026. Returns the 2025 girls reported in 2026."""
    clock.now = datetime(2024, 12, 20, 9, tzinfo=UTC)
    foreign = [open_trajectory(app, OTHER_COORDINATOR, intake_date=date(2024, 3, 1 + n),
                               nationality="foreign", identity=MINOR) for n in range(5)]
    clock.now = datetime(2025, 12, 20, 9, tzinfo=UTC)
    for tid in foreign:
        report(app, tid, date(2025, 2, 1))
    dutch = [open_trajectory(app, OTHER_COORDINATOR, intake_date=date(2025, 4, 1 + n),
                             nationality="dutch", identity=MINOR if n < 10 else ADULT)
             for n in range(15)]
    for tid in dutch[:5]:
        report(app, tid, date(2025, 6, 1), acknowledged=True)
    clock.now = datetime(2026, 1, 10, 9, tzinfo=UTC)
    for tid in dutch[5:10]:
        report(app, tid, date(2026, 1, 8))
    clock.now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return dutch[5:10]


def test_registrations_are_counted_apart_from_intakes(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given girls taken in over two years, and reported to CoMensha in other years
    two_years_of_girls(app, clock)
    # when the researcher reads 2024-2026 in March 2026
    with live_server(app) as live:
        answer = read(live, "/statistics/victims?from=2024&to=2026")
    registered, in_care = table(answer, "registered"), table(answer, "in_care")
    # then girls taken into care count in their intake year, Dutch and foreign apart
    assert in_care["total"][:2] == [(5, 100), (15, 100)]
    assert in_care["foreign"][:2] == [(5, 100), (0, 0)]
    assert in_care["dutch"][:2] == [(0, 0), (15, 100)]
    assert in_care["minors"][:2] == [(5, 100), (10, 67)]
    assert in_care["dutch_minors"][1] == (10, 67)  # a share of the Dutch girls
    # and registrations count in the year of the report: the 2024 girls in 2025, the
    # Dutch girls reported in 2026 not yet (2026 is withheld), none of the adults
    assert registered["total"][:2] == [(0, None), (10, 100)]
    assert registered["foreign"][1] == (5, 50)
    assert registered["dutch"][1] == (5, 50)
    assert registered["minors"][1] == (10, 100)
    assert registered["acknowledged"][1] == (5, 50)
    assert in_care["total"][1] != registered["total"][1]
    assert {cell for cells in registered.values() for cell in cells[2:]} == {(None, None)}
    # and the rows follow table 2.1: the total and its minors, then each nationality
    keys = [row["key"] for row in answer["registered"]["rows"]]
    assert keys[:8] == ["total", "minors", "dutch", "dutch_minors", "foreign",
                        "foreign_minors", "unknown_nationality", "unknown_nationality_minors"]
    assert answer["published_through"] == 2025


def test_a_report_recorded_after_its_year_was_frozen_changes_nothing(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given the two years, published in March 2026
    reported_late = two_years_of_girls(app, clock)
    with live_server(app) as live:
        url = "/statistics/victims?from=2025&to=2025"
        before = read(live, url)
        # when a report dated 2025 is recorded now, for a girl taken in in 2025, and one
        # of the 2026 reports is marked in error
        late = open_trajectory(app, OTHER_COORDINATOR, intake_date=date(2025, 11, 1),
                               nationality="dutch", identity=MINOR)
        report(app, late, date(2025, 12, 1))
        app.execute(reported_late[0], CorrectEntry(
            position=3, action="mark_in_error", reason="sent by mistake"), OTHER_COORDINATOR)
        after = read(live, url)
    # then 2025 reads as it did
    assert table(after, "registered") == table(before, "registered")
    assert table(after, "in_care") == table(before, "in_care")


def test_small_registration_cells_are_suppressed_with_their_complement(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given 2025: eight Dutch girls and two foreign girls reported
    clock.now = datetime(2025, 12, 20, 9, tzinfo=UTC)
    for n in range(10):
        tid = open_trajectory(app, OTHER_COORDINATOR, intake_date=date(2025, 3, 1 + n),
                              nationality="dutch" if n < 8 else "foreign", identity=MINOR)
        report(app, tid, date(2025, 5, 1))
    clock.now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with live_server(app) as live:
        registered = table(read(live, "/statistics/victims?from=2025&to=2025"), "registered")
    # then two foreign girls are not shown, and neither are the Dutch girls (the total
    # minus them would tell the two); their minors alike
    assert registered["total"] == [(10, 100)]
    assert registered["foreign"] == registered["dutch"] == [(None, None)]
    assert registered["foreign_minors"] == registered["dutch_minors"] == [(None, None)]
    assert registered["unknown_nationality"] == [(0, 0)]
