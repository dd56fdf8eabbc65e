"""The page to try a proposed protocol (for quality officers; an admin until that role
exists): pasted, judged against the floor in Dutch words, replayed over the organisation's
girls only, nothing recorded, no names and no ids on the page."""

from __future__ import annotations

from importlib import resources

from tests.web_support import GIRL, HANDED_OVER_GIRL, OTHER_GIRL, World
from trajectory.commands import TransitionPhase

PAGE = "/app/protocols/replay"


def default_text() -> str:
    return resources.files("trajectory.protocol").joinpath("default.toml").read_text("utf-8")


def with_days_in_phase_1(days: int) -> str:
    old = "min_days_in_previous_phase = 28"
    assert old in default_text()
    return default_text().replace(old, f"min_days_in_previous_phase = {days}")


def test_a_stricter_protocol_shows_the_refused_step_per_girl_in_words(world: World) -> None:
    # given the handed-over girl moved to phase 2 after her days in phase 1
    step = TransitionPhase(to_phase=2, reason="stabiel")
    world.app.execute(world.handed_over, step, world.actor("coordinator"))
    version = world.version(world.handed_over)
    with world.browser("admin") as b:
        # when the admin pastes a protocol that asks 180 days in phase 1
        answer = b.submit(PAGE, {"protocol": with_days_in_phase_1(180), "as_of": ""})
    # then the page says, in Dutch, that the step to phase 2 would have been refused, why
    assert answer.status_code == 200, answer.text
    assert "Wat er veranderd was" in answer.text
    assert "de stap naar fase 2 was geweigerd" in answer.text
    assert "Fasestappen die geweigerd waren: 1." in answer.text
    # only the girls of her own organisation were read (two of them)
    assert "2 trajecten gelezen" in answer.text
    # and no name, no id, no code shows; nothing was recorded in her file
    for name in (GIRL, HANDED_OVER_GIRL, OTHER_GIRL):
        assert name not in answer.text
    assert str(world.handed_over) not in answer.text
    assert str(world.handed_over.hex) not in answer.text
    assert "entry-criteria-unmet" not in answer.text
    assert world.version(world.handed_over) == version


def test_a_protocol_that_loosens_the_floor_is_refused_at_the_field(world: World) -> None:
    loose = default_text().replace(
        'caps = { internet = "supervised"', 'caps = { internet = "free"', 1
    )
    with world.browser("admin") as b:
        # when a protocol with phase-1 internet free is pasted
        answer = b.submit(PAGE, {"protocol": loose})
    # then refused at the field, in a Dutch sentence, naming no code
    assert answer.status_code == 422
    assert "In fase 1 mag internet hooguit onder toezicht." in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "floor-phase1-internet" not in answer.text


def test_text_that_is_no_protocol_is_refused_in_words(world: World) -> None:
    with world.browser("admin") as b:
        answer = b.submit(PAGE, {"protocol": "[protocol\nname = 'kapot'"})
    assert answer.status_code == 422
    assert "geen leesbaar protocol" in answer.text


def test_a_coordinator_does_not_reach_the_page(world: World) -> None:
    with world.browser("coordinator") as b:
        assert b.get(PAGE).status_code == 403


def test_a_placement_at_home_without_a_safety_analysis_is_refused_in_dutch(
    world: World,
) -> None:
    # given a girl with no safety analysis recorded
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/placement"
        # when her coordinator places her at home
        refused = b.submit(path, {"kind": "ambulatory", "region": "Utrecht",
                                  "argument": "Ouders beschermend."})
    # then refused in a Dutch sentence, and nothing recorded
    assert refused.status_code == 409
    assert "Ambulante behandeling kan pas na een veiligheidsanalyse" in refused.text
    assert world.version(world.girl) == 1
