"""Loading protocol files: good files load, and every malformed one is refused with a
message that names the file, the key and the problem, so an organisation can fix it."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import pytest

from tests.conftest import PROTOCOLS
from trajectory.protocol import ProtocolError, default_protocol, load_protocol

if TYPE_CHECKING:
    from pathlib import Path

FOUR_PHASES = PROTOCOLS / "four_phases.toml"


def default_text() -> str:
    return resources.files("trajectory.protocol").joinpath("default.toml").read_text("utf-8")


def changed(old: str, new: str) -> str:
    """The default protocol's text with one edit; fails loudly if the edit misses."""
    text = default_text()
    assert old in text, f"the default protocol no longer contains {old!r}"
    return text.replace(old, new, 1)


def refusal(tmp_path: Path, text: str) -> ProtocolError:
    path = tmp_path / "organisation.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert str(path) in str(info.value)
    assert info.value.source == str(path)
    return info.value


PHASE_1_CAPS = (
    'caps = { internet = "supervised", social_media = "supervised", phone = "supervised",'
    ' leave = "accompanied", contact_with_boys = "none" }'
)
PHASE_1_NETWORK = 'network = { safe = "supervised", unknown = "none", risky = "none" }'


def test_the_default_protocol_loads_with_three_phases_and_aftercare() -> None:
    # when the protocol that ships with the package is loaded
    protocol = default_protocol()
    # then it has the three phases of the design, their caps and criteria
    assert (protocol.name, protocol.version) == ("default", "2026.1")
    assert [p.name for p in protocol.phase] == ["stabilisation", "processing", "integration"]
    assert protocol.phase_spec(1).caps["internet"] == "supervised"
    assert protocol.phase_spec(1).network["safe"] == "supervised"
    assert protocol.phase_spec(2).min_days_in_previous_phase == 28
    assert "care-analysis-current" in protocol.phase_spec(3).entry_criteria
    assert protocol.aftercare.entry_criteria == (
        "handover-prepared",
        "handover-meeting",
        "handover-accepted",
    )


def test_the_default_protocol_file_loads_from_disk_too(tmp_path: Path) -> None:
    # given the default protocol's text in a file of an organisation
    path = tmp_path / "copy.toml"
    path.write_text(default_text(), encoding="utf-8")
    # when it is loaded
    protocol = load_protocol(path)
    # then it is the same protocol
    assert protocol == default_protocol()


def test_the_four_phase_protocol_loads_with_its_own_phases_caps_and_numbers() -> None:
    # when the test organisation's four-phase file is loaded
    protocol = load_protocol(FOUR_PHASES)
    # then its phases, caps, criteria and attention numbers are the file's, not the default's
    assert (protocol.name, protocol.version) == ("four-phase", "2025.2")
    assert protocol.last_phase == 4
    assert [p.name for p in protocol.phase] == [
        "arrival",
        "stabilisation",
        "treatment",
        "independence",
    ]
    assert set(protocol.phase_spec(1).caps.values()) == {"none"}
    assert protocol.phase_spec(1).network["safe"] == "none"
    assert protocol.phase_spec(2).min_days_in_previous_phase == 14
    assert protocol.phase_spec(3).min_days_in_previous_phase == 42
    assert protocol.phase_spec(4).caps["contact_with_boys"] == "limited"
    assert protocol.attention.care_analysis_interval_days == 60
    assert protocol.attention.aftercare_contact_interval_days == 14
    assert protocol != default_protocol()


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    # given a file with a broken table header
    text = "[protocol\nname = 'broken'\n"
    # when it is loaded, then it is refused as not TOML, with the line
    error = refusal(tmp_path, text)
    assert error.key == "(file)"
    assert "not valid TOML" in error.problem
    assert "line 1" in error.problem


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    # given a path where no file is
    path = tmp_path / "absent.toml"
    # when it is loaded, then the refusal names the file and says it cannot be read
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert str(path) in str(info.value)
    assert "cannot be read" in str(info.value)


def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    # given a phase number written as text
    text = changed("number = 1", 'number = "one"')
    # when it is loaded, then the key and the expected type are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].number"
    assert "Expected `int`, got `str`" in error.problem
    assert "phase[0].number" in str(error)


def test_an_attention_number_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    # given an attention interval written as a word
    text = changed("after_runaway_within_days = 2", 'after_runaway_within_days = "two"')
    # when it is loaded, then the attention key is named
    error = refusal(tmp_path, text)
    assert error.key == "attention.after_runaway_within_days"
    assert "Expected `int`" in error.problem


def test_an_unknown_key_in_a_phase_is_refused(tmp_path: Path) -> None:
    # given a phase with a key the protocol does not know
    text = changed('label = "verwerking"', 'label = "verwerking"\ncolour = "blue"')
    # when it is loaded, then the phase and the unknown key are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[1]"
    assert "unknown field `colour`" in error.problem


def test_an_unknown_table_is_refused(tmp_path: Path) -> None:
    # given a table the protocol does not know
    text = default_text() + "\n[holidays]\nleave = 'free'\n"
    # when it is loaded, then the unknown key is named
    error = refusal(tmp_path, text)
    assert "unknown field `holidays`" in error.problem


def test_a_phase_with_missing_caps_is_refused(tmp_path: Path) -> None:
    # given phase 1 without caps for phone and contact with boys
    text = changed(
        PHASE_1_CAPS,
        'caps = { internet = "supervised", social_media = "supervised", leave = "accompanied" }',
    )
    # when it is loaded, then the caps and the missing kinds are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].caps"
    assert error.problem == "missing caps for phone, contact_with_boys"


def test_a_cap_for_an_unknown_permission_is_refused(tmp_path: Path) -> None:
    # given phase 1 with a cap for something that is not a permission
    text = changed(PHASE_1_CAPS, PHASE_1_CAPS.replace("phone =", "television = 'none', phone ="))
    # when it is loaded, then the caps table and the unknown key are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].caps"
    assert "'television'" in error.problem
    assert "as a key" in error.problem


def test_a_level_from_another_scale_is_refused(tmp_path: Path) -> None:
    # given leave capped at 'limited', a level of internet, not of leave
    text = changed(PHASE_1_CAPS, PHASE_1_CAPS.replace('leave = "accompanied"', 'leave = "limited"'))
    # when it is loaded, then the cap's key and leave's own scale are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].caps.leave"
    assert error.problem == (
        "'limited' is not a level of leave (one of none, accompanied, unaccompanied)"
    )


def test_a_level_on_no_scale_at_all_is_refused_naming_its_key(tmp_path: Path) -> None:
    # given phone capped at a level that exists nowhere
    text = changed(PHASE_1_CAPS, PHASE_1_CAPS.replace('phone = "supervised"', 'phone = "lots"'))
    # when it is loaded, then the refusal names the cap's own key, not just its table
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].caps.phone"
    assert "'lots'" in error.problem


def test_a_network_level_on_no_scale_is_refused_naming_its_key(tmp_path: Path) -> None:
    # given safe contacts allowed at a level that does not exist
    daily = PHASE_1_NETWORK.replace('safe = "supervised"', 'safe = "daily"')
    text = changed(PHASE_1_NETWORK, daily)
    # when it is loaded, then the network key is named
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].network.safe"
    assert "'daily'" in error.problem


def test_a_network_rule_for_prohibited_contacts_is_refused(tmp_path: Path) -> None:
    # given a protocol that would set a level for prohibited contacts (never restored)
    text = changed(PHASE_1_NETWORK, PHASE_1_NETWORK.replace(" }", ', prohibited = "none" }'))
    # when it is loaded, then the network table and the key are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].network"
    assert "'prohibited'" in error.problem


def test_a_phase_without_a_rule_for_risky_contacts_is_refused(tmp_path: Path) -> None:
    # given phase 1 that says nothing about risky contacts
    text = changed(PHASE_1_NETWORK, PHASE_1_NETWORK.replace(', risky = "none"', ""))
    # when it is loaded, then the missing key is named
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].network.risky"
    assert error.problem == "missing"


def test_phases_out_of_order_are_refused(tmp_path: Path) -> None:
    # given phases numbered 1, 3, 2
    text = changed("number = 2", "number = 9").replace("number = 3", "number = 2")
    text = text.replace("number = 9", "number = 3")
    # when it is loaded, then the first phase out of its place is named
    error = refusal(tmp_path, text)
    assert error.key == "phase[1].number"
    assert error.problem == "phases must be numbered 1..n in order, found 3"


def test_a_protocol_without_phases_is_refused(tmp_path: Path) -> None:
    # given a protocol that names itself and has no phases
    text = '[protocol]\nname = "empty"\nversion = "1"\n'
    # when it is loaded, then the missing phases are named
    error = refusal(tmp_path, text)
    assert error.key == "(top level)"
    assert error.problem == "Object missing required field `phase`"


def test_a_protocol_with_an_empty_list_of_phases_is_refused(tmp_path: Path) -> None:
    # given a protocol whose list of phases is empty
    text = 'phase = []\n[protocol]\nname = "empty"\nversion = "1"\n'
    # when it is loaded, then the phases are named
    error = refusal(tmp_path, text)
    assert error.key == "phase"
    assert error.problem == "at least one phase is required"


def test_risky_contacts_above_supervised_are_refused(tmp_path: Path) -> None:
    # given phase 3 that would allow risky contacts unsupervised
    old = 'network = { safe = "unsupervised", unknown = "supervised", risky = "supervised" }\n'
    old += "entry_criteria = [\n    \"trauma-therapy\""
    text = changed(old, old.replace('risky = "supervised"', 'risky = "unsupervised"'))
    # when it is loaded, then the risky key of that phase is named with the rule
    error = refusal(tmp_path, text)
    assert error.key == "phase[2].network.risky"
    assert error.problem == "risky contacts may at most be supervised"


def test_phase_1_with_entry_criteria_is_refused(tmp_path: Path) -> None:
    # given phase 1 with an entry criterion (she enters phase 1 at intake)
    text = changed(PHASE_1_NETWORK, PHASE_1_NETWORK + '\nentry_criteria = ["placement"]')
    # when it is loaded, then phase 1's criteria are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[0].entry_criteria"
    assert error.problem == "phase 1 starts at intake and has no criteria"


def test_an_unknown_criterion_code_is_refused(tmp_path: Path) -> None:
    # given phase 3 with a criterion code that does not exist
    text = changed('"trauma-therapy",', '"good-behaviour",')
    # when it is loaded, then the criterion's place and the code are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[2].entry_criteria[0]"
    assert "'good-behaviour'" in error.problem


def test_an_unknown_aftercare_criterion_is_refused(tmp_path: Path) -> None:
    # given aftercare with a criterion code that does not exist
    text = changed('"handover-accepted"]', '"handover-signed"]')
    # when it is loaded, then the aftercare criterion is named
    error = refusal(tmp_path, text)
    assert error.key == "aftercare.entry_criteria[2]"
    assert "'handover-signed'" in error.problem


def test_min_days_as_a_criterion_without_a_number_of_days_is_refused(tmp_path: Path) -> None:
    # given phase 2 that requires days in phase 1 but does not say how many
    text = changed("min_days_in_previous_phase = 28\n", "")
    # when it is loaded, then the missing number is named
    error = refusal(tmp_path, text)
    assert error.key == "phase[1].min_days_in_previous_phase"
    assert "above 0" in error.problem


def test_a_negative_number_of_days_is_refused(tmp_path: Path) -> None:
    # given phase 2 that requires a negative number of days
    text = changed("min_days_in_previous_phase = 28", "min_days_in_previous_phase = -1")
    # when it is loaded, then the key and the bound are named
    error = refusal(tmp_path, text)
    assert error.key == "phase[1].min_days_in_previous_phase"
    assert ">= 0" in error.problem


def test_a_protocol_without_a_version_is_refused(tmp_path: Path) -> None:
    # given a protocol without its version (every advance records the version in force)
    text = changed('version = "2026.1"\n', "")
    # when it is loaded, then the protocol table and the missing field are named
    error = refusal(tmp_path, text)
    assert error.key == "protocol"
    assert "`version`" in error.problem
