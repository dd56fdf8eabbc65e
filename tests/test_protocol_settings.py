"""Protocols per setting, on the real store: the intake's setting chooses the protocol
(fixed at intake, recorded by name and version), an ambulatory girl lives under the
ambulatory protocol's caps, an ambulatory placement waits for a safety analysis, and a
girl opened earlier keeps the protocol she was opened under."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import msgspec
import pytest

from tests.builders import COORDINATOR, open_trajectory, phase_2_facts
from tests.conftest import PROTOCOLS, FakeClock
from trajectory.aggregates.errors import RuleRefused
from trajectory.application import TrajectoryApplication
from trajectory.commands import ChangePermission, DecidePlacement, RecordSafetyAnalysis
from trajectory.composition import build_application
from trajectory.protocol import (
    ProtocolRegistry,
    ProtocolRegistryError,
    ambulatory_protocol,
    default_protocol,
    load_protocol,
    registry_from_settings,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from trajectory.settings import Settings

FOUR_PHASES = PROTOCOLS / "four_phases.toml"


def shipped() -> ProtocolRegistry:
    """As an installation without a file of its own: residential current, ambulatory by
    setting, and the test protocols known."""
    others = [load_protocol(p) for p in sorted(PROTOCOLS.glob("*.toml"))]
    return ProtocolRegistry(default_protocol(), *others, by_setting=(ambulatory_protocol(),))


@pytest.fixture
def shipped_app(settings: Settings, clock: FakeClock) -> Iterator[TrajectoryApplication]:
    application = build_application(settings, clock=clock, protocols=shipped())
    try:
        yield application
    finally:
        application.close()


def safety_analysis() -> RecordSafetyAnalysis:
    fact = phase_2_facts()[0]
    assert isinstance(fact, RecordSafetyAnalysis)
    return fact


def at_home() -> DecidePlacement:
    return DecidePlacement(
        kind="ambulatory", region="Utrecht", argument="Ouders beschermend; veilig thuis."
    )


def test_an_ambulatory_girl_is_opened_under_the_ambulatory_protocol(
    shipped_app: TrajectoryApplication,
) -> None:
    # when a girl is taken in as ambulatory, and another as residential
    home = open_trajectory(shipped_app, setting="ambulatory")
    group = open_trajectory(shipped_app, setting="residential")
    # then each is opened under her setting's protocol, recorded by name and version
    assert shipped_app.get(home).state.protocol_name == "ambulatory"
    assert shipped_app.get(home).state.protocol_version == ambulatory_protocol().version
    assert shipped_app.get(group).state.protocol_name == "default"


def test_an_ambulatory_girl_gets_the_ambulatory_caps(shipped_app: TrajectoryApplication) -> None:
    # given an ambulatory girl and a residential girl, both in phase 1
    home = open_trajectory(shipped_app, setting="ambulatory")
    group = open_trajectory(shipped_app, setting="residential")
    supervised = ChangePermission(kind="social_media", level="supervised", reason="agreed")
    # when social media under supervision is allowed for both
    shipped_app.execute(group, supervised, COORDINATOR)
    with pytest.raises(RuleRefused) as info:
        shipped_app.execute(home, supervised, COORDINATOR)
    # then at home it is refused (no social media in phase 1 at home), in the group not
    assert info.value.code == "phase-permission-cap"
    assert shipped_app.get(home).state.permissions["social_media"] == "none"
    assert shipped_app.get(group).state.permissions["social_media"] == "supervised"


def test_an_ambulatory_placement_is_refused_without_a_safety_analysis(
    shipped_app: TrajectoryApplication,
) -> None:
    # given an ambulatory girl with no safety analysis yet
    home = open_trajectory(shipped_app, setting="ambulatory")
    version = shipped_app.get(home).version
    # when her placement at home is decided, then refused with the rule, nothing recorded
    with pytest.raises(RuleRefused) as info:
        shipped_app.execute(home, at_home(), COORDINATOR)
    assert info.value.code == "ambulatory-safety-analysis-required"
    assert list(info.value.unmet) == ["safety-analysis"]
    assert shipped_app.get(home).version == version
    # and once the safety analysis is recorded, the same placement is accepted
    shipped_app.execute(home, safety_analysis(), COORDINATOR)
    shipped_app.execute(home, at_home(), COORDINATOR)
    assert shipped_app.get(home).state.placement == "ambulatory"


def test_a_residential_girl_placed_at_home_needs_the_safety_analysis_too(
    shipped_app: TrajectoryApplication,
) -> None:
    # given a girl taken in as residential, with no safety analysis
    girl = open_trajectory(shipped_app, setting="residential")
    # when she is placed ambulatory, then refused: ambulatory only where safety is known
    with pytest.raises(RuleRefused) as info:
        shipped_app.execute(girl, at_home(), COORDINATOR)
    assert info.value.code == "ambulatory-safety-analysis-required"
    # and a group placement needs no such analysis first
    group = DecidePlacement(kind="homogeneous_group", region="Utrecht")
    shipped_app.execute(girl, group, COORDINATOR)


def test_a_girl_keeps_the_protocol_she_was_opened_under(
    settings: Settings, clock: FakeClock, shipped_app: TrajectoryApplication
) -> None:
    # given a residential and an ambulatory girl opened under the shipped protocols
    earlier = open_trajectory(shipped_app, setting="residential")
    at_home_earlier = open_trajectory(shipped_app, setting="ambulatory")
    # when the organisation installs the four-phase protocol as its current one
    own = ProtocolRegistry(
        load_protocol(FOUR_PHASES), default_protocol(), by_setting=(ambulatory_protocol(),)
    )
    later_app = build_application(settings, clock=clock, protocols=own)
    try:
        later = open_trajectory(later_app, setting="residential")
        at_home_later = open_trajectory(later_app, setting="ambulatory")
        # then the earlier girls keep theirs, a new residential girl gets the four phases,
        # and a new ambulatory girl still the ambulatory protocol (the file names no setting)
        assert later_app.protocol_of(later_app.get(earlier)).name == "default"
        assert later_app.protocol_of(later_app.get(at_home_earlier)).name == "ambulatory"
        assert later_app.get(later).state.protocol_name == "four-phase"
        assert later_app.get(at_home_later).state.protocol_name == "ambulatory"
    finally:
        later_app.close()


def test_an_organisation_file_naming_a_setting_is_chosen_for_it() -> None:
    # given an organisation's protocol that names the closed setting
    closed = msgspec.structs.replace(
        load_protocol(FOUR_PHASES),
        protocol=msgspec.structs.replace(
            load_protocol(FOUR_PHASES).protocol, settings=("closed",)
        ),
    )
    registry = ProtocolRegistry(default_protocol(), by_setting=(closed, ambulatory_protocol()))
    # then it is chosen for closed, the ambulatory one for ambulatory, the current otherwise
    assert registry.for_setting("closed").name == "four-phase"
    assert registry.for_setting("ambulatory").name == "ambulatory"
    assert registry.for_setting("residential").name == "default"


def test_an_organisation_file_that_loosens_the_floor_stops_the_installation(
    settings: Settings, tmp_path: Path
) -> None:
    # given TRAJECTORY_PROTOCOL_FILE pointing at a file with phase-1 internet free
    text = FOUR_PHASES.read_text(encoding="utf-8").replace(
        'caps = { internet = "none"', 'caps = { internet = "free"', 1
    )
    path = tmp_path / "loose.toml"
    path.write_text(text, encoding="utf-8")
    # when the protocols are read from the settings, then refused naming the rule
    with pytest.raises(ProtocolRegistryError, match="floor-phase1-internet"):
        registry_from_settings(msgspec.structs.replace(settings, protocol_file=str(path)))


def test_an_installation_holds_a_protocol_per_setting_from_its_files(
    settings: Settings, tmp_path: Path
) -> None:
    # given an organisation's current file and a second one for the closed setting
    closed = tmp_path / "closed.toml"
    closed.write_text(
        FOUR_PHASES.read_text(encoding="utf-8").replace(
            'name = "four-phase"', 'name = "closed-four"\nsettings = ["closed"]', 1
        ),
        encoding="utf-8",
    )
    files = os.pathsep.join([str(FOUR_PHASES), str(closed)])
    # when the protocols are read from the settings
    registry = registry_from_settings(msgspec.structs.replace(settings, protocol_file=files))
    # then each setting has its own
    assert registry.for_setting("residential").name == "four-phase"
    assert registry.for_setting("closed").name == "closed-four"
    assert registry.for_setting("ambulatory").name == "ambulatory"
    assert registry.get("default", default_protocol().version) == default_protocol()


def test_a_second_protocol_file_naming_no_setting_is_refused(
    settings: Settings,
) -> None:
    files = os.pathsep.join([str(FOUR_PHASES), str(FOUR_PHASES)])
    with pytest.raises(ProtocolRegistryError, match="names none"):
        registry_from_settings(msgspec.structs.replace(settings, protocol_file=files))
