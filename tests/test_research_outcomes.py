"""Outcomes in the research export (issue 15, part 1): where she went, revictimisation in
care and after it with its censoring, the follow-ups and their scores after closure too,
in view after 18 and at 19, and her age in months at each event only where her age band
is published as recorded. The export runs on SQLite and on PostgreSQL; the rules of the
columns are told girl by girl below it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from tests.builders import left_care, open_trajectory, record_all
from tests.test_research_export import RESEARCHER, consent, export, pseudonym_of, read_csv
from trajectory.aggregates.events.outcomes import InstrumentScore
from trajectory.application import TrajectoryApplication
from trajectory.commands import MeasureFollowUp, RecordFollowUpNotPossible, ReportRevictimisation
from trajectory.research import verify_export
from trajectory.research.outcomes import Measurement, Outcomes, follow_up_rows, outcome_values
from trajectory.research.published import publish_ages

INTAKE = date(2026, 1, 5)  # (the builders' intake; the test clock reads 2026-03-02)


def on(day: int) -> str:
    return (INTAKE + timedelta(days=day)).isoformat()


def measured(day: int, moment: int = 0) -> MeasureFollowUp:
    return MeasureFollowUp(
        moment=moment, living_situation="independent", school_or_work="school",
        qualification="vmbo", revictimised_since=False, runaways_since=0,
        loverboy_contact="none", occurred_on=on(day),
        instruments=[InstrumentScore(name="SDQ", version="2019", total=14.0,
                                     subscales={"emotional": 5.0, "conduct": 2.5})],
    )


def revictimised(day: int) -> ReportRevictimisation:
    return ReportRevictimisation(kind="loverboy_contact", known_via="police",
                                 police_involved=True, occurred_on=on(day))


def five_girls(app: TrajectoryApplication) -> dict[str, UUID]:
    """Five girls of one organisation, age and intake month (a group of k = 5, so every
    quasi-identifier is published as recorded): one lost after care and revictimised,
    one measured after closure, one revictimised in care, two in care."""
    girls = {name: open_trajectory(app) for name in ("lost", "measured", "in_care", "a", "b")}
    record_all(app, girls["lost"], [
        left_care("moved_away", occurred_on=on(30)),
        RecordFollowUpNotPossible(moment=0, reason="not_reached", occurred_on=on(36)),
        revictimised(50),
    ])
    record_all(app, girls["measured"], [left_care("moved_away", occurred_on=on(20)),
                                        measured(40)])
    record_all(app, girls["in_care"], [revictimised(10)])
    for trajectory_id in girls.values():
        consent(app, trajectory_id)
    return girls


def test_outcomes_leave_as_columns_and_follow_ups_after_closure_and_verify(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given five girls: lost to follow-up and revictimised after care, measured after
    # closure, revictimised in care, and two in care
    girls = five_girls(app)
    # When the data set is exported
    out = tmp_path / "export"
    manifest = export(app, out)
    assert manifest.small_cell_check.passed, manifest.small_cell_check.failures
    rows = {r["pseudonym"]: r for r in read_csv(out / "trajectories.csv")}

    def row(name: str) -> dict[str, str]:
        return rows[pseudonym_of(app, "zonmw-3d", girls[name])]

    # Then the girl who left care and was revictimised after it is an event at day 20
    lost = row("lost")
    assert (lost["destination"], lost["care_end_day"]) == ("unknown", "30")
    assert (lost["revictimised"], lost["revictimisation_first_day"],
            lost["revictimisation_first_stage"]) == ("1", "50", "after_closure")
    assert (lost["revictimised_after_care"], lost["revictimisation_after_care_days"],
            lost["follow_up_censored"], lost["follow_up_censoring_reason"]) == (
        "1", "20", "0", "")
    assert (lost["follow_ups_measured"], lost["follow_ups_not_possible"]) == ("0", "1")
    # and the girl measured after closure is censored on that day, still followed
    seen = row("measured")
    assert (seen["care_end_day"], seen["follow_up_end_day"], seen["follow_up_censored"],
            seen["follow_up_censoring_reason"], seen["revictimised"]) == (
        "20", "40", "1", "observation_ended", "0")
    # and the girl revictimised in care is still in care, censored at her observation
    in_care = row("in_care")
    assert (in_care["revictimisation_first_stage"], in_care["care_end_day"],
            in_care["follow_up_censoring_reason"], in_care["revictimised_after_care"]) == (
        "in_care", "", "still_in_care", "0")
    assert int(in_care["follow_up_end_day"]) == int(in_care["observed_days"]) - 1
    # and nobody was 18 within observation (born 2010)
    assert {r["in_view_after_18"] for r in rows.values()} == {""}
    # and follow_ups.csv holds both records, after closure too, scores.csv the scores
    follow_ups = read_csv(out / "follow_ups.csv")
    assert sorted((f["day"], f["measured"], f["not_possible"], f["days_since_care_end"])
                  for f in follow_ups) == [("36", "0", "not_reached", "6"),
                                           ("40", "1", "", "20")]
    scores = read_csv(out / "scores.csv")
    assert [(s["instrument"], s["version"], s["scale"], s["score"]) for s in scores] == [
        ("SDQ", "2019", "total", "14.0"), ("SDQ", "2019", "conduct", "2.5"),
        ("SDQ", "2019", "emotional", "5.0")]
    # and her age in months is at every event, her age band being published as recorded
    events = read_csv(out / "events.csv")
    assert {e["age_months"] for e in events if e["day"] == "0"} == {"189"}  # 15 y 9 m
    # and the export verifies, new files included
    assert {"follow_ups.csv", "scores.csv"} <= set(manifest.files)
    check = verify_export(app, out, actor=RESEARCHER)
    assert check.ok, check.differences


def test_a_project_that_did_not_declare_the_follow_ups_does_not_get_them(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    five_girls(app)
    out = tmp_path / "export"
    manifest = export(app, out, project="placement-study", files=["trajectories"])
    assert not (out / "follow_ups.csv").exists()
    assert not (out / "scores.csv").exists()
    assert "follow_ups.csv" not in manifest.files


# -- the rules of the columns, girl by girl -------------------------------------------------


def outcomes(**fields: Any) -> Outcomes:
    base: dict[str, Any] = {
        "horizon": 400, "turns_18": 100, "turns_19": 465, "care_end": 200,
        "destinations": ((200, "independent"),), "continuations": (),
        "revictimisations": (), "reached": (), "measurements": (),
    }
    base.update(fields)
    return Outcomes(**base)


def test_a_girl_who_died_is_censored_as_deceased() -> None:
    o = outcomes(measurements=(Measurement(380, 6, "deceased"),), reached=(250,))
    values = outcome_values(o)
    assert (values["follow_up_censoring_reason"], values["follow_up_end_day"]) == (
        "deceased", 250)


def test_a_girl_whose_last_follow_up_failed_is_lost_even_after_contacts() -> None:
    o = outcomes(reached=(210, 240), measurements=(Measurement(380, 6, "refused"),))
    assert outcome_values(o)["follow_up_censoring_reason"] == "lost_to_follow_up"


def test_in_view_after_18_counts_contacts_from_her_birthday_and_19_is_unknown_before() -> None:
    o = outcomes(reached=(90, 150))
    values = outcome_values(o)
    assert values["in_view_after_18"] == 1
    assert values["in_view_at_19"] is None  # (her 19th birthday is after day 400)
    assert outcome_values(outcomes(reached=(90,)))["in_view_after_18"] == 0


def test_a_censoring_day_hides_what_came_after_it() -> None:
    # a girl still in aftercare, her observation cut on day 300 by her group
    o = outcomes(revictimisations=((320, "aftercare"),),
                 measurements=(Measurement(310, 0),), reached=(250,))
    values = outcome_values(o, until=300)
    assert (values["revictimised"], values["follow_ups_measured"],
            values["follow_up_end_day"]) == (0, 0, 250)


def test_age_in_months_is_left_out_where_the_age_band_was_generalised_or_withheld() -> None:
    rows: list[list[Any]] = [["G1", 1, "TrajectoryOpened", 0, 189]]
    publish_ages(rows, ("O1", "14-15", "2026-01", "traumatised"), 0)
    assert rows[0][-1] == 189
    publish_ages(rows, ("O1", "14-17", "2026-01", "traumatised"), 1)
    assert rows[0][-1] is None
    rows = [["G1", 1, "TrajectoryOpened", 0, 189]]
    publish_ages(rows, ("O1", None, "2026-01", "traumatised"), 0)
    assert rows[0][-1] is None



def test_a_follow_up_before_the_censoring_day_does_not_tell_when_care_ended_after_it() -> None:
    # a measurement at the end of care taken on day 290, care ending on day 310, and her
    # observation cut on day 300 by her group
    o = outcomes(care_end=310, destinations=(), measurements=(Measurement(290, 0),))
    (row,) = follow_up_rows("G1", o, until=300)
    assert row[3] is None  # (days since care end: -20 would give day 310 back)
    assert outcome_values(o, until=300)["care_end_day"] is None


def test_scores_reach_spss_and_stata_with_their_decimals_beside_whole_moments(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    import pyreadstat

    # Given five girls, one measured after closure with a subscale score of 2.5
    five_girls(app)
    # When the data set is exported with SPSS and Stata files
    out = tmp_path / "export"
    export(app, out, formats=["sav", "dta"])
    for read in (pyreadstat.read_sav, pyreadstat.read_dta):
        ext = "sav" if read is pyreadstat.read_sav else "dta"
        frame, _meta = read(str(out / f"scores.{ext}"))
        # Then every score keeps its decimals, and the moment beside it stays whole
        assert sorted(frame["score"]) == [2.5, 5.0, 14.0], ext
        assert list(frame["moment"]) == [0, 0, 0], ext
        follow_ups, _ = read(str(out / f"follow_ups.{ext}"))
        assert len(follow_ups) == 2, ext


def test_a_whole_number_score_given_from_python_is_a_score_and_the_export_verifies(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given five girls and a measurement whose total was given as the whole number 14
    girls = five_girls(app)
    command = msgspec.structs.replace(measured(45, moment=6), instruments=[
        InstrumentScore(name="SDQ", version="2019", total=14, subscales={"conduct": 3})])
    record_all(app, girls["measured"], [command])
    # When the data set is exported
    out = tmp_path / "export"
    export(app, out)
    # Then the scores are the numbers given, and the export verifies against the store
    scores = read_csv(out / "scores.csv")
    assert ("6", "total", "14.0") in {(s["moment"], s["scale"], s["score"]) for s in scores}
    check = verify_export(app, out, actor=RESEARCHER)
    assert check.ok, check.differences
