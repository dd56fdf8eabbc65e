"""The municipalities a girl may live in: the shipped few, and CBS's yearly list as an admin
loads it (issue 20). A girl from a municipality outside the shipped few (Gouda) could not
be taken in at all; with CBS's list loaded she can, on every entry point, and the delivery
and the forms know her municipality."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.builders import intake
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor, TrajectoryApplication
from trajectory.bij.municipalities import (
    Municipalities,
    MunicipalityListRefused,
    parse_cbs_list,
)
from trajectory.bij.report import Period, produce
from trajectory.cli import main
from trajectory.listing import Operator
from trajectory.writing import WritePath

COORDINATOR = Actor(user_id="c", role="coordinator", organisation="org")

# As CBS publishes it ("Gemeenten alfabetisch"), saved as CSV by a spreadsheet: a BOM,
# semicolons, more columns than needed.
CBS_LIST = (
    "\ufeffGemeentecode;GemeentecodeGM;Gemeentenaam;Provinciecode;ProvinciecodePV;"
    "Provincienaam\n"
    "513;GM0513;Gouda;28;PV28;Zuid-Holland\n"
    "1680;GM1680;Aa en Hunze;22;PV22;Drenthe\n"
    "344;GM0344;Utrecht;26;PV26;Utrecht\n"
)


def from_gouda() -> object:
    return intake(identity=Identity(name="Uit Gouda", date_of_birth=date(2010, 1, 1),
                                    home_region="Gouda", bsn="123456782"),
                  municipality="0513", referrer="none", care_form="day_care")


def test_cbs_list_is_read_with_its_codes_padded_to_four_digits() -> None:
    towns = parse_cbs_list(CBS_LIST)
    assert [(m.code, m.name) for m in towns] == [
        ("0344", "Utrecht"), ("0513", "Gouda"), ("1680", "Aa en Hunze")]
    # and a comma-separated file with only the code column reads the same
    assert [m.code for m in parse_cbs_list("Gemeentecode,Gemeentenaam\n513,Gouda\n")] == [
        "0513"]


@pytest.mark.parametrize(("text", "says"), [
    ("Code;Naam\n0513;Gouda\n", "line 1"),
    ("Gemeentecode;Gemeentenaam\n513;Gouda\nGM05x3;Elders\n", "line 3"),
    ("Gemeentecode;Gemeentenaam\n513;\n", "line 2"),
    ("Gemeentecode;Gemeentenaam\n", "no municipality"),
])
def test_a_file_that_is_not_the_list_is_refused_naming_the_line(text: str, says: str) -> None:
    with pytest.raises(MunicipalityListRefused, match=says):
        parse_cbs_list(text)


def test_a_girl_from_gouda_is_taken_in_once_cbs_list_is_loaded(
    cli_store: TrajectoryApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a store with only the shipped municipalities: Gouda is not among them
    path = WritePath(cli_store)
    with pytest.raises(RuleRefused) as refused:
        path.open(COORDINATOR, from_gouda())  # type: ignore[arg-type]
    assert refused.value.code == "municipality-unknown"
    # when the admin loads CBS's list from the command line
    listed = tmp_path / "Gemeenten alfabetisch 2026.csv"
    listed.write_text(CBS_LIST, encoding="utf-8")
    assert main(["municipalities", "load", str(listed)]) == 0
    assert "loaded 3 municipalities" in capsys.readouterr().out
    # then she is taken in, and a code that is no municipality is still refused
    written = path.open(COORDINATOR, from_gouda())  # type: ignore[arg-type]
    with pytest.raises(RuleRefused):
        path.open(COORDINATOR, intake(municipality="9999"))
    # and the delivery has her record with Gouda's code, not left out for it
    made = produce(cli_store, Period.parse("2026H1"), Operator.here())
    assert [r["gemeentecode"] for r in made.rows
            if r["jeugdhulptraject"] == str(written.trajectory_id)] == ["0513"]
    # and the list holds the shipped ones with the loaded, a loaded name over a shipped one
    known = Municipalities(cli_store.db).all()
    assert known["0513"] == "Gouda"
    assert known["0599"] == "Rotterdam"
    assert main(["municipalities", "list"]) == 0
    assert "0513 Gouda" in capsys.readouterr().out


def test_a_refused_file_loads_nothing(
    cli_store: TrajectoryApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "half.csv"
    listed.write_text("Gemeentecode;Gemeentenaam\n513;Gouda\nxx;Nergens\n", encoding="utf-8")
    assert main(["municipalities", "load", str(listed)]) == 2
    assert "line 3" in capsys.readouterr().err
    assert "0513" not in Municipalities(cli_store.db).all()
