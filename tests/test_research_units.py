"""The research export's parts, one by one: escaping, coding, the weekly rounding, the
small-cell check, pseudonyms, and the codebook that documents them."""

from __future__ import annotations

import csv
import io
import tempfile
import typing
from datetime import date
from pathlib import Path
from uuid import uuid4

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectory.aggregates.events.phasing import PhaseAdvanced
from trajectory.research.cli import parse_as_of
from trajectory.research.codebook import render
from trajectory.research.coding import Column, Value, coders, event_classes, event_columns
from trajectory.research.disclosure import age_band
from trajectory.research.manifest import FIELD_DOCS
from trajectory.research.projects import Pseudonyms, check_project_name
from trajectory.research.tables import Table, TableWriter, escape
from trajectory.research.timeline import Spell, weekly

ROOT = Path(__file__).resolve().parent.parent


# -- formula injection --------------------------------------------------------------------


def test_text_cells_that_a_spreadsheet_would_run_get_a_leading_apostrophe() -> None:
    for dangerous in ("=HYPERLINK(\"http://x\")", "+31612345678", "-2+3", "@SUM(A1)",
                      "\tcmd", "\rcmd"):
        assert escape(dangerous) == "'" + dangerous
    for harmless in ("P1", "G0A1B", "18+", "<12", "2025-Q1", "a=b", ""):
        assert escape(harmless) == harmless


def test_numbers_are_never_escaped_and_text_always_is() -> None:
    table = Table("t", "", (Column("text", "text", ""), Column("days", "int", ""),
                            Column("codes", "set", ""), Column("flag", "flag", "")))
    writer = TableWriter(table, None)  # only the digest
    rows: list[list[Value]] = [
        ["=1+1", -3, "-a|b", 1], ["@me", 0, None, 0], [None, None, "a,b", None]
    ]
    for row in rows:
        writer.write(row)
    written = writer.close()

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "t.csv"
        again = TableWriter(table, target)
        for row in rows:
            again.write(row)
        assert again.close() == written
        text = target.read_text(encoding="utf-8")
    assert list(csv.reader(io.StringIO(text))) == [
        ["text", "days", "codes", "flag"],
        ["'=1+1", "-3", "'-a|b", "1"],
        ["'@me", "0", "", "0"],
        ["", "", "a,b", ""],
    ]
    assert text.endswith("\n")
    assert "\r" not in text


# -- what leaves of an event -----------------------------------------------------------------


def test_no_free_text_field_is_coded() -> None:
    """Only codes, flags, numbers, counts and days leave: a text field never does (except
    the phase protocol's criterion codes, filtered through their vocabulary)."""
    for cls in event_classes():
        hints = typing.get_type_hints(cls)
        for coder in coders(cls):
            hint = hints[coder.field]
            if coder.column.kind in ("code", "set") and coder.column.name not in (
                "criteria_met", "waived"
            ):
                assert "Literal" in str(hint), (cls.__name__, coder.field, hint)
            if hint is str:
                raise AssertionError(f"{cls.__name__}.{coder.field} (text) is exported")
    names = [c.name for c in event_columns()]
    assert len(names) == len(set(names))
    assert not {"identity", "note", "notes", "reason_text", "organisation",
                "risk_profiles"} & set(names)


def test_waived_criteria_leave_as_codes_and_their_justification_stays() -> None:
    from trajectory.aggregates.events.phasing import Waiver

    (waived,) = [c for c in coders(PhaseAdvanced) if c.column.name == "waived"]
    value = waived.encode(
        (Waiver(criterion="education", justification="Geen school in de regio (Anna)."),
         Waiver(criterion="made-up", justification="x")),
        date(2025, 1, 1),
    )
    assert value == "education|other"


# -- the weekly rounding ----------------------------------------------------------------------


@st.composite
def spell_runs(draw: st.DrawFn) -> tuple[list[Spell], int]:
    lengths = draw(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=12))
    states = draw(st.lists(st.sampled_from(["P1", "P2", "P3", "RUN", "AFT"]),
                           min_size=len(lengths), max_size=len(lengths)))
    spells: list[Spell] = []
    day = 0
    for length, state in zip(lengths, states, strict=True):
        if spells and spells[-1].state == state:
            continue
        spells.append(Spell(day, day + length - 1, state))
        day += length
    return spells, day


@settings(max_examples=300, deadline=None)
@given(spell_runs())
def test_weeks_in_a_state_differ_from_its_days_by_less_than_the_weeks_that_round(
    case: tuple[list[Spell], int],
) -> None:
    spells, observed = case
    weeks = weekly(spells, observed)
    assert len(weeks) == -(-observed // 7)
    bound = len({s.begin // 7 for s in spells[1:]}) + (observed % 7 != 0)
    for state in {s.state for s in spells}:
        days = sum(s.days for s in spells if s.state == state)
        if bound:
            assert abs(weeks.count(state) - days / 7) < bound
        else:
            assert weeks.count(state) * 7 == days
    for w, state in enumerate(weeks):  # a whole week in one state is that state
        inside = [s for s in spells if s.begin <= 7 * w and min(7 * w + 6, observed - 1)
                  <= s.end]
        if inside:
            assert state == inside[0].state


def test_a_tie_in_a_week_goes_to_the_later_state() -> None:
    spells = [Spell(0, 2, "P1"), Spell(3, 5, "RUN"), Spell(6, 6, "P1"), Spell(7, 13, "P1")]
    assert weekly(spells, 14) == ["P1", "P1"]  # P1 4 days, RUN 3
    assert weekly([Spell(0, 2, "P1"), Spell(3, 5, "RUN")], 6) == ["RUN"]


# -- the small-cell check -----------------------------------------------------------------------


def test_age_bands_and_periods() -> None:
    dob = date(2010, 6, 15)
    assert [age_band(dob, date(y, 6, 15)) for y in (2021, 2022, 2024, 2025, 2026, 2027, 2028,
                                                    2030)] == [
        "<12", "12-13", "14-15", "14-15", "16-17", "16-17", "18+", "18+"]



# -- pseudonyms -------------------------------------------------------------------------------


def test_pseudonyms_are_keyed_stable_and_unlinkable() -> None:
    a, b = Pseudonyms(b"a" * 32), Pseudonyms(b"b" * 32)
    girl = uuid4()
    assert a.girl(girl) == Pseudonyms(b"a" * 32).girl(girl)
    assert a.girl(girl) != b.girl(girl)
    assert a.girl(girl) != a.girl(uuid4())
    assert a.girl(girl).startswith("G")
    assert len(a.girl(girl)) == 17
    assert a.organisation("org-a").startswith("O")
    assert len(a.organisation("org-a")) == 11
    assert girl.hex[:16].upper() not in a.girl(girl)
    assert a.head("0" * 64) != b.head("0" * 64) != "0" * 64


def test_project_names_are_plain() -> None:
    assert check_project_name("zonmw-3d.2026_a") == "zonmw-3d.2026_a"
    for bad in ("", "../x", "a b", "-x", "x" * 65, "naïve"):
        try:
            check_project_name(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


# -- the codebook -------------------------------------------------------------------------------


def test_the_committed_codebook_is_the_one_the_code_gives() -> None:
    committed = (ROOT / "docs" / "codebook.md").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m trajectory.research.codebook"


def test_the_codebook_names_every_column_code_and_state() -> None:
    text = render()
    from trajectory.research.tables import events_table, spells_table, trajectories_table

    for table in (trajectories_table(3), events_table(), spells_table(3)):
        for column in table.columns:
            assert f"| `{column.name}` |" in text, column.name
            for code in column.codes:
                assert f"`{code}`" in text, (column.name, code)
    for state in ("`P<n>`", "`RUN`", "`AFT`", "`END`", "`CEN`"):
        assert state in text
    for cls in event_classes():
        assert f"| `{cls.__name__}` |" in text


def test_every_manifest_field_is_documented() -> None:
    from trajectory.research.manifest import Counts, Manifest, Parameters

    names = set(Manifest.__struct_fields__)
    names |= {f"parameters.{f}" for f in Parameters.__struct_fields__}
    names |= {f"counts.{f}" for f in Counts.__struct_fields__}
    assert names == set(FIELD_DOCS)
    assert isinstance(msgspec.json.schema(Manifest), dict)


@pytest.mark.parametrize(
    "value",
    ["9999-12-31", "0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
     "2026-01-01T00:00:00+99:00", "2026-01-01T00:00:00+23:59", "2026-01-01T00:00:00"],
)
def test_the_command_lines_as_of_at_the_calendars_ends_is_refused_as_input(value: str) -> None:
    with pytest.raises(ValueError, match=r"outside|offset|RFC 3339"):  # exit 2, as any bad --as-of
        parse_as_of(value)
