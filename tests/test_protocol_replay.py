"""What-if replay and the protocol check, on the demo in a real store: a stricter
protocol shows which recorded decisions it would have refused and why, which permissions
stood above its caps and how long, and which attention items it would make overdue; the
same protocol shows nothing; and nothing is written while it runs."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import msgspec
import pytest

from tests.conftest import MASTER_KEY, FakeClock
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.clock import amsterdam_date
from trajectory.demo import run_demo
from trajectory.protocol import default_protocol
from trajectory.protocol.model import Protocol
from trajectory.protocol_replay import ReplayReport, replay_store

if TYPE_CHECKING:
    from pathlib import Path

GIRLS = 9  # one of each demo story


@pytest.fixture
def demo(app: TrajectoryApplication) -> TrajectoryApplication:
    run_demo(app, count=GIRLS, seed=7, progress=lambda done, total: None)
    return app


def with_phase_2(protocol: Protocol, **changes: object) -> Protocol:
    phase_2 = msgspec.structs.replace(protocol.phase[1], **changes)
    return msgspec.structs.replace(
        protocol,
        protocol=msgspec.structs.replace(protocol.protocol, name="proposed", version="x"),
        phase=(protocol.phase[0], phase_2, *protocol.phase[2:]),
    )


def doubled_min_days() -> Protocol:
    default = default_protocol()
    days = default.phase[1].min_days_in_previous_phase
    return with_phase_2(default, min_days_in_previous_phase=days * 2)


def replay(app: TrajectoryApplication, protocol: Protocol, clock: FakeClock) -> ReplayReport:
    return replay_store(app, protocol, amsterdam_date(clock()))


def log_size(app: TrajectoryApplication) -> tuple[int, int]:
    table = "stored_events" if app.dialect == "sqlite" else "trajectory_events"
    row = app.db.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"]), app.recorder.max_notification_id() or 0


def test_the_protocol_she_was_judged_under_refuses_nothing(
    demo: TrajectoryApplication, clock: FakeClock
) -> None:
    # when the demo is replayed under the very protocol it was recorded under
    report = replay(demo, default_protocol(), clock)
    # then every girl is replayed and nothing would have gone otherwise
    assert report.totals.girls == GIRLS
    assert report.totals.events > GIRLS * 10
    assert report.girls == []
    assert report.totals.refused == {}
    assert report.totals.above_cap_days == {}
    # and a stricter protocol as of a day before any intake judges only the openings
    assert replay_store(demo, doubled_min_days(), date(2000, 1, 1)).totals.refused == {}


def test_a_stricter_protocol_shows_refusals_days_above_caps_and_overdue_items(
    demo: TrajectoryApplication, clock: FakeClock
) -> None:
    # given the log as it is
    before = log_size(demo)
    # when the demo is replayed under a protocol that doubles the days in phase 1
    report = replay(demo, doubled_min_days(), clock)
    # then advances to phase 2 are refused for the days in phase, per girl and in total
    assert report.totals.refused.get("phase-advance", 0) >= 1
    assert report.totals.unmet.get("min-days-in-phase", 0) >= 1
    refusals = [r for g in report.girls for r in g.refusals]
    assert any(
        r.decision == "phase-advance" and r.to_phase == 2 and r.rule == "entry-criteria-unmet"
        and r.unmet == ("min-days-in-phase",)
        for r in refusals
    )

    # when phase 2 allows the phone only under supervision (the default: limited)
    caps = {**default_protocol().phase[1].caps, "phone": "supervised"}
    report = replay(demo, with_phase_2(default_protocol(), caps=caps), clock)
    # then raising the phone to limited in phase 2 is refused, and the days counted
    assert report.totals.refused.get("permission", 0) >= 1
    assert report.totals.above_cap_days.get("permission:phone", 0) > 0
    assert all(a.days > 0 for g in report.girls for a in g.above_caps)

    # when the care analysis is asked every 14 days instead of every 91
    default = default_protocol()
    attention = msgspec.structs.replace(default.attention, care_analysis_interval_days=14)
    report = replay(demo, msgspec.structs.replace(default, attention=attention), clock)
    # then girls in care have the analysis overdue that is not overdue under their own
    assert report.totals.attention_overdue >= 1
    assert any(c.code == "care-analysis" for g in report.girls for c in g.attention)

    # and nothing was written to the log by any of it
    assert log_size(demo) == before


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_store(
    demo: TrajectoryApplication, database_url: str, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> TrajectoryApplication:
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", MASTER_KEY)
    monkeypatch.chdir(tmp_path)
    return demo


def write(tmp_path: Path, name: str, old: str, new: str) -> str:
    from importlib import resources

    text = resources.files("trajectory.protocol").joinpath("default.toml").read_text("utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


def test_check_accepts_a_valid_file_and_refuses_one_that_loosens_the_floor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    good = write(tmp_path, "good.toml", "min_days_in_previous_phase = 28",
                 "min_days_in_previous_phase = 56")
    loose = write(
        tmp_path, "loose.toml",
        'caps = { internet = "supervised", social_media = "supervised", phone = "supervised"',
        'caps = { internet = "free", social_media = "free", phone = "supervised"',
    )
    # when a valid file is checked, then exit 0
    assert main(["protocol", "check", good]) == 0
    assert "keeps the floor" in capsys.readouterr().out
    # when a file that frees phase-1 internet and social media is checked
    code = main(["protocol", "check", loose])
    out = capsys.readouterr().out
    # then non-zero, with every breach and its rule
    assert code != 0
    assert "floor-phase1-internet" in out
    assert "floor-phase1-social-media" in out


def test_replay_on_the_command_line_reports_per_girl_without_names(
    cli_store: TrajectoryApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stricter = write(tmp_path, "stricter.toml", "min_days_in_previous_phase = 28",
                     "min_days_in_previous_phase = 56")
    before = log_size(cli_store)
    # when replayed as JSON
    assert main(["protocol", "replay", stricter, "--json"]) == 0
    out = capsys.readouterr().out
    report = msgspec.json.decode(out, type=ReplayReport)
    # then the refusals are there, per girl by number and id, and no girl's name
    assert report.totals.refused.get("phase-advance", 0) >= 1
    assert all(g.number >= 1 and g.trajectory_id for g in report.girls)
    names = [
        e.identity.name
        for tid in cli_store.stored_trajectory_ids()
        for e in [cli_store.mapper.to_domain_event(cli_store.stored_events(tid)[0])]
        if isinstance(e, TrajectoryOpened)
    ]
    assert names
    assert not any(name in out for name in names)
    assert log_size(cli_store) == before
    # and as text, with the total and the rule
    assert main(["protocol", "replay", stricter, "--as-of", "2026-12-31"]) == 0
    text = capsys.readouterr().out
    assert "entry-criteria-unmet" in text
    assert "total:" in text


def test_replay_refuses_a_file_that_loosens_the_floor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    loose = write(
        tmp_path, "loose.toml",
        'caps = { internet = "supervised", social_media = "supervised", phone = "supervised"',
        'caps = { internet = "free", social_media = "supervised", phone = "supervised"',
    )
    # when replayed, then refused before any store is opened
    assert main(["protocol", "replay", loose]) != 0
    assert "floor-phase1-internet" in capsys.readouterr().err
    assert list(tmp_path.glob("*.sqlite")) == []
