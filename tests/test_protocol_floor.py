"""The floor under every protocol: a file that loosens one of the source's non-negotiables
is refused at load with the rule named, and what a file cannot express the rules hold
whatever a protocol object says (a protocol built in code, not loaded from a file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
import pytest

from tests.test_protocol_loader import PHASE_1_CAPS, changed, refusal
from tests.test_rules import Story, in_phase, runaway, warm_handover
from trajectory.commands import StartAftercare, TransitionPhase
from trajectory.protocol import ProtocolError, default_protocol, load_protocol
from trajectory.protocol.floor import floor_breaches
from trajectory.protocol.model import Aftercare

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("kind", "rule"),
    [
        ("internet", "floor-phase1-internet"),
        ("social_media", "floor-phase1-social-media"),
        ("phone", "floor-phase1-phone"),
    ],
)
def test_a_file_that_frees_phase_1_media_is_refused_naming_the_rule(
    tmp_path: Path, kind: str, rule: str
) -> None:
    # given the default protocol with phase-1 internet (or social media, phone) set free
    free = PHASE_1_CAPS.replace(f'{kind} = "supervised"', f'{kind} = "free"')
    text = changed(PHASE_1_CAPS, free)
    # when it is loaded, then it is refused with the floor's rule and the key
    error = refusal(tmp_path, text)
    assert error.rule == rule
    assert error.key == f"phase[0].caps.{kind}"
    assert rule in str(error)
    assert "'free'" in error.problem


def test_limited_phase_1_internet_is_refused_too(tmp_path: Path) -> None:
    # given phase-1 internet one step above supervised
    limited = PHASE_1_CAPS.replace('internet = "supervised"', 'internet = "limited"')
    text = changed(PHASE_1_CAPS, limited)
    # when it is loaded, then refused: supervised is the most
    assert refusal(tmp_path, text).rule == "floor-phase1-internet"


def test_a_stricter_phase_1_keeps_the_floor(tmp_path: Path) -> None:
    # given phase-1 internet switched off altogether
    off = PHASE_1_CAPS.replace('internet = "supervised"', 'internet = "none"')
    text = changed(PHASE_1_CAPS, off)
    path = tmp_path / "strict.toml"
    path.write_text(text, encoding="utf-8")
    # when it is loaded, then it loads: the floor is a ceiling on loosening only
    assert load_protocol(path).phase_spec(1).caps["internet"] == "none"


def test_aftercare_without_the_warm_handover_is_refused(tmp_path: Path) -> None:
    # given a protocol whose aftercare no longer asks the handover to be accepted
    text = changed(
        'entry_criteria = ["handover-prepared", "handover-meeting", "handover-accepted"]',
        'entry_criteria = ["handover-prepared"]',
    )
    # when it is loaded, then refused with the floor's rule, naming the missing steps
    error = refusal(tmp_path, text)
    assert error.rule == "floor-warm-handover"
    assert error.key == "aftercare.entry_criteria"
    assert "handover-meeting" in error.problem
    assert "handover-accepted" in error.problem


def test_a_level_for_prohibited_contacts_is_refused_as_the_floor(tmp_path: Path) -> None:
    # given a protocol that would let prohibited contacts be supervised
    net = 'network = { safe = "supervised", unknown = "none", risky = "none" }'
    text = changed(net, net.replace(" }", ', prohibited = "supervised" }'))
    # when it is loaded, then refused: a prohibited contact is never restored
    error = refusal(tmp_path, text)
    assert error.rule == "floor-prohibited-contact"


def test_the_shipped_protocols_keep_the_floor() -> None:
    # when the shipped protocols are judged, then neither loosens anything
    from trajectory.protocol import ambulatory_protocol

    assert floor_breaches(default_protocol()) == []
    assert floor_breaches(ambulatory_protocol()) == []


# -- what a protocol object cannot switch off ----------------------------------------------


def _without_aftercare_criteria() -> object:
    return msgspec.structs.replace(default_protocol(), aftercare=Aftercare(entry_criteria=()))


def test_a_protocol_built_without_handover_criteria_still_asks_the_warm_handover() -> None:
    # given a protocol object (never loaded from a file) with no criteria for aftercare
    protocol = _without_aftercare_criteria()
    assert floor_breaches(protocol) != []  # type: ignore[arg-type]
    story = in_phase(3)
    story.protocol = protocol  # type: ignore[assignment]
    # when aftercare is started with no handover at all, argued
    from tests.builders import ARGUED

    error = story.refused(
        StartAftercare(plan="weekly", destination="independent", without_handover=ARGUED)
    )
    # then refused: the warm handover's steps are criteria of aftercare, whatever it says
    assert error.code == "entry-criteria-unmet"
    assert set(error.unmet) >= {"handover-prepared", "handover-meeting", "handover-accepted"}


def test_without_the_runaway_criterion_an_advance_is_still_refused_while_she_is_away() -> None:
    # given a protocol object whose phase 2 does not list 'no open runaway', and a girl
    # who meets every other criterion and has run away
    default = default_protocol()
    phase_2 = msgspec.structs.replace(
        default.phase[1],
        entry_criteria=tuple(c for c in default.phase[1].entry_criteria if c != "no-open-runaway"),
    )
    protocol = msgspec.structs.replace(default, phase=(default.phase[0], phase_2, default.phase[2]))
    from tests.builders import phase_2_facts

    story = Story(protocol).given(*phase_2_facts()).days_pass(28).given(runaway())
    # when the advance is asked, then refused: no advance while a runaway is open
    error = story.refused(TransitionPhase(to_phase=2, reason="fine"))
    assert error.code == "runaway-open"


def test_the_warm_handover_then_aftercare_still_works() -> None:
    # given a girl in phase 3 with a warm handover
    story = in_phase(3).given(*warm_handover())
    # when aftercare starts, then it is recorded
    events = story.when(StartAftercare(plan="weekly", destination="independent"))
    assert events


def test_a_protocol_error_without_a_rule_names_none() -> None:
    # a malformed file that keeps the floor has no rule code
    error = ProtocolError("x.toml", "phase", "at least one phase is required")
    assert error.rule is None
    assert str(error) == "x.toml: phase: at least one phase is required"

