"""Beleidsinformatie Jeugd, part 2: the half-yearly delivery to CBS (issue 20).

Every record is checked against the protocol's code lists and date rules before the file
is written; a record that fails is left out and named with its problems. A rule per test,
on a row as it would be written; then the delivery on the demo store, and from the
command line.
"""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest

from tests.builders import intake
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor, TrajectoryApplication
from trajectory.bij import codes
from trajectory.bij.care import CareRecord, care_records
from trajectory.bij.report import (
    COLUMNS,
    Period,
    PeriodRefused,
    delivery,
    produce,
    record_problems,
    row_of,
)
from trajectory.cli import main
from trajectory.demo import run_demo
from trajectory.identity.users import UserStore

H2 = Period(2026, 2)
QUALITY = Actor(user_id="quality", role="quality", organisation="demo-org-noord")


def ended_row(**changes: str) -> dict[str, str]:
    """A row of care ended in 2026H2 that passes every rule."""
    row = {
        "aanbieder": "org", "periode": "2026H2", "correctie": "N",
        "jeugdhulptraject": "t-1", "bsn": "111222333", "geboortedatum": "20100401",
        "geslacht": "2", "gemeentecode": "0344", "verwijzer": "04", "hulpvorm": "24",
        "gestart_met_crisis": "N", "datum_aanvang": "20260105", "datum_einde": "20260910",
        "reden_beeindiging": "01", "tevredenheid": "1", "zonder_hulp_verder": "2",
        "type_informant": "1",
    }
    row.update(changes)
    return row


def test_a_valid_row_passes_and_has_every_column() -> None:
    assert record_problems(ended_row(), H2) == []
    assert tuple(ended_row()) == COLUMNS


def test_rule_end_before_start() -> None:
    # given care that ended before it started
    row = ended_row(datum_aanvang="20260915", datum_einde="20260910")
    # then it is not delivered
    assert "end-before-start" in record_problems(row, H2)


@pytest.mark.parametrize(
    ("column", "code", "problem"),
    [("verwijzer", "99", "verwijzer-unknown-code"),
     ("hulpvorm", "77", "hulpvorm-unknown-code"),
     ("geslacht", "5", "geslacht-unknown-code"),
     ("gemeentecode", "9999", "gemeentecode-unknown-code"),
     ("reden_beeindiging", "8", "reden_beeindiging-unknown-code"),
     ("type_informant", "7", "type_informant-unknown-code"),
     ("gestart_met_crisis", "X", "gestart_met_crisis-unknown-code")],
)
def test_rule_unknown_code(column: str, code: str, problem: str) -> None:
    assert problem in record_problems(ended_row(**{column: code}), H2)


def test_rule_missing_outcome_for_ended_care() -> None:
    # given ended care whose outcome questions were not answered
    row = ended_row(tevredenheid="", zonder_hulp_verder="", type_informant="")
    assert record_problems(row, H2) == ["outcome-missing"]
    # and care that goes on needs none
    going_on = ended_row(datum_einde="", reden_beeindiging="", tevredenheid="",
                         zonder_hulp_verder="", type_informant="")
    assert record_problems(going_on, H2) == []


def test_rule_missing_or_invalid_bsn_and_birth_after_start() -> None:
    assert record_problems(ended_row(bsn=""), H2) == ["bsn-missing"]
    assert record_problems(ended_row(bsn="111222334"), H2) == ["bsn-invalid"]
    assert record_problems(ended_row(geboortedatum="20260201"), H2) == ["birth-after-start"]
    assert "end-outside-period" in record_problems(ended_row(datum_einde="20260301"), H2)


def test_a_period_is_a_half_year() -> None:
    assert (Period.parse("2026H1").first, Period.parse("2026H1").last) == (
        date(2026, 1, 1), date(2026, 6, 30))
    assert (H2.first, H2.last) == (date(2026, 7, 1), date(2026, 12, 31))
    for bad in ("2026", "2026H3", "26H1", "2026h1x"):
        with pytest.raises(PeriodRefused):
            Period.parse(bad)


def test_only_care_in_the_period_is_delivered_and_the_left_out_are_named() -> None:
    # given three girls: one ended in the period without outcome, one before it, one going on
    def record(tid: str, end: date | None, bsn: str = "111222333") -> CareRecord:
        return CareRecord(trajectory_id=tid, organisation="org", bsn=bsn,
                          date_of_birth=date(2010, 1, 1), sex="female", municipality="0344",
                          referrer="judicial", care_form="residential_other",
                          started_in_crisis=True, start=date(2026, 1, 5), end=end,
                          end_reason="as_planned" if end else None)
    made = delivery([record("a", date(2026, 8, 1)), record("b", date(2026, 3, 1)),
                     record("c", None, bsn="")], H2, correction=True)
    # then the one before the period is not in it; the others are left out, named
    assert made.rows == ()
    assert {(o.trajectory_id, o.problems) for o in made.left_out} == {
        ("a", ("outcome-missing",)), ("c", ("bsn-missing",))}
    assert made.csv().splitlines() == [";".join(COLUMNS)]
    # and a going-on row says J for crisis and the codes of the lists
    row = row_of(record("c", None), H2, correction=True)
    assert (row["gestart_met_crisis"], row["verwijzer"], row["hulpvorm"], row["correctie"]) == (
        "J", codes.REFERRER.codes["judicial"], codes.CARE_FORM.codes["residential_other"], "J")


def test_the_delivery_on_the_demo_store_validates_and_lists_what_it_left_out(
    app: TrajectoryApplication,
) -> None:
    # given the demo (on the test's clock, 2 March 2026) and a girl without a number
    run_demo(app, count=14, progress=lambda done, total: None)
    missing = app.open_trajectory(
        intake(identity=Identity(name="Zonder Nummer", date_of_birth=date(2010, 1, 1),
                                 home_region="Utrecht"), municipality="0344",
               referrer="none", care_form="day_care"),
        Actor(user_id="c", role="coordinator", organisation="demo-org-noord"),
    ).trajectory_id
    before = len(app.db.fetchall("SELECT * FROM access_log"))
    # when the delivery for 2026H1 is made
    period = Period(2026, 1)
    made = produce(app, period, QUALITY)
    # then every delivered row passes every rule, its codes from the lists
    assert made.rows
    for row in made.rows:
        assert record_problems(row, period) == []
        assert row["bsn"]
        assert codes.REFERRER.known(row["verwijzer"])
    # and what was left out is named with why: the girl without a number among them
    left = {o.trajectory_id: o.problems for o in made.left_out}
    assert left[str(missing)] == ("bsn-missing",)
    assert all(left.values())
    # and every girl in care in the period is in one of the two
    delivered = {r["jeugdhulptraject"] for r in made.rows}
    assert delivered.isdisjoint(left)
    in_period = {r.trajectory_id for r in care_records(app)
                 if r.in_care_between(period.first, period.last)}
    assert delivered | set(left) == in_period
    # and making it was access-logged, naming every file read
    entries = app.db.fetchall("SELECT * FROM access_log WHERE action = 'report-bij'")
    assert len(app.db.fetchall("SELECT * FROM access_log")) == before + 1
    assert set(entries[0]["shown"].split()) == delivered | set(left)
    assert entries[0]["user_id"] == "quality"




def test_the_command_line_writes_the_file_for_its_owner_and_names_the_left_out(
    cli_store: TrajectoryApplication, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # given a girl without a number and one with
    coordinator = Actor(user_id="c", role="coordinator", organisation="org")
    cli_store.open_trajectory(intake(municipality="0344", referrer="none",
                                 care_form="day_care"), coordinator)
    cli_store.open_trajectory(intake(identity=Identity(
        name="Met Nummer", date_of_birth=date(2010, 1, 1), home_region="Utrecht",
        bsn="123456782"), municipality="0344", referrer="none", care_form="day_care"),
        coordinator)
    capsys.readouterr()
    # when the delivery is made from the command line
    target = tmp_path / "bij.csv"
    code = main(["report", "bij", "--period", "2026H1", "--out", str(target)])
    out = capsys.readouterr().out
    # then one record is written, readable by its owner only, and the other is named
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    lines = target.read_text().splitlines()
    assert len(lines) == 2
    assert "123456782" in lines[1]
    assert "left out 1" in out
    assert "bsn-missing" in out
    assert "123456782" not in out
    # and making it was access-logged, as the account at the terminal
    entries = cli_store.db.fetchall("SELECT * FROM access_log WHERE action = 'report-bij'")
    assert len(entries) == 1
    assert entries[0]["user_id"].startswith("os:")
    assert len(entries[0]["shown"].split()) == 2
    # and a file is never written over
    assert main(["report", "bij", "--period", "2026H1", "--out", str(target)]) == 2
    # and only an admin or the quality officer makes it as a user
    UserStore(cli_store.db).add(name="anna", role="coordinator", organisation="org",
                            now=cli_store.clock(), user_id="anna")
    assert main(["report", "bij", "--period", "2026H1", "--out",
                 str(tmp_path / "anna.csv"), "--as", "anna"]) == 2
    assert not (tmp_path / "anna.csv").exists()
    # and a period that is not one is refused
    assert main(["report", "bij", "--period", "2026Q1", "--out",
                 str(tmp_path / "other.csv")]) == 2


def test_the_checked_code_lists_hold_the_protocols_codes() -> None:
    # The referrer (3.2) and the reason of ending (3.7) as checked against their sources
    # (see `trajectory.bij.codes`): two-digit codes, the judicial referrer last.
    assert codes.REFERRER.codes == {
        "municipal_access": "01", "general_practitioner": "02", "youth_doctor": "03",
        "certified_institution": "04", "medical_specialist": "05", "none": "06",
        "unknown": "07", "judicial": "08"}
    assert sorted(set(codes.END_REASON.codes.values())) == ["01", "02", "03", "04", "05"]
    assert codes.END_REASON.codes["early_by_client"] == "03"
    # and what is still unchecked is named, the layout among it
    assert codes.REFERRER.verified
    assert codes.END_REASON.verified
    assert "3.3 hulpvorm" in codes.UNVERIFIED
    assert "bestandsindeling" in codes.UNVERIFIED
    assert not codes.VERIFIED


def test_what_her_file_lacks_for_the_delivery_follows_its_rules_while_it_is_asked() -> None:
    from trajectory.bij.report import missing_for_delivery

    # given her care without a number, ended in August 2026 without the outcome
    record = CareRecord(trajectory_id="t", organisation="org", bsn="",
                        date_of_birth=date(2010, 1, 1), sex="female", municipality="0344",
                        referrer="none", care_form="day_care", started_in_crisis=False,
                        start=date(2026, 1, 5), end=date(2026, 8, 1), end_reason="as_planned")
    # when her file is read in the next half year, both are named
    assert missing_for_delivery(record, date(2027, 2, 1)) == ["bsn-missing", "outcome-missing"]
    # and a year later, when that half year was delivered long ago, nothing is
    assert missing_for_delivery(record, date(2028, 2, 1)) == []
