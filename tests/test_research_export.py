"""The research export, told as a researcher and a reviewer meet it: what leaves (only
codes, bands and days), that it is the same every time, that a change in the log shows,
that consent and erasure are honoured, and that the small-cell check does its work.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args
from uuid import UUID

import msgspec
import pytest
import structlog

from tests.builders import (
    COORDINATOR,
    OTHER_COORDINATOR,
    left_care,
    open_trajectory,
    phase_2_facts,
    record_all,
)
from tests.conftest import MASTER_KEY, FakeClock, all_protocols
from tests.project_support import approved_project
from tests.test_verify import payload, set_payload
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.vocabulary import RiskProfile
from trajectory.application import Actor, TrajectoryApplication
from trajectory.cli import main
from trajectory.clock import amsterdam_date
from trajectory.commands import (
    GiveResearchConsent,
    RecordSignal,
    WithdrawResearchConsent,
)
from trajectory.crypto import MasterKey
from trajectory.demo import run_demo
from trajectory.erasure import erase
from trajectory.protocol.rules import age_on
from trajectory.research import (
    ExportError,
    StoreNotVerified,
    export_project,
    manifest_sha256,
    verify_export,
)
from trajectory.research.coding import iter_excluded
from trajectory.research.projects import Pseudonyms, project_secret
from trajectory.settings import Settings

RESEARCHER = Actor(user_id="researcher-1", role="researcher", organisation="uni-demo")
TABLES = ("trajectories", "events", "sequences", "spells", "follow_ups", "scores")


# -- helpers ---------------------------------------------------------------------------


def consent(app: TrajectoryApplication, trajectory_id: UUID) -> None:
    """Consent as the rules want it: the girl from 16, a parent before (once)."""
    t = app.get(trajectory_id)
    if t.state.research_consent:
        return
    age = age_on(t.state.date_of_birth, amsterdam_date(app.clock()))
    app.execute(
        trajectory_id,
        GiveResearchConsent(given_by="girl" if age >= 16 else "parent",
                            note="Toestemming besproken met haar moeder."),
        COORDINATOR,
    )


def withdraw(app: TrajectoryApplication, trajectory_id: UUID) -> None:
    t = app.get(trajectory_id)
    age = age_on(t.state.date_of_birth, amsterdam_date(app.clock()))
    app.execute(
        trajectory_id,
        WithdrawResearchConsent(withdrawn_by="girl" if age >= 16 else "parent",
                                reason="Wil niet meer meedoen."),
        COORDINATOR,
    )


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight demo girls (one of each story), all with research consent, in an SQLite file
    written once per module: the demo takes seconds, a copy of the file none."""
    folder = tmp_path_factory.mktemp("research-demo")
    app = TrajectoryApplication(_sqlite_settings(folder), clock=FakeClock(),
                                protocols=all_protocols())
    try:
        run_demo(app, count=8, seed=7, progress=lambda done, total: None)
        for trajectory_id in app.stored_trajectory_ids():
            consent(app, trajectory_id)
    finally:
        app.close()
    return folder


def _sqlite_settings(folder: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{folder / 'trajectory.sqlite'}",
                    snapshot_interval=10, master_key=MASTER_KEY)


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Iterator[TrajectoryApplication]:
    """The demo store, copied for one test (SQLite: what is tested here does not depend
    on the store; the tests on `girls` run on both)."""
    folder = tmp_path / "store"
    folder.mkdir()
    for source in demo_template.iterdir():
        shutil.copy(source, folder / source.name)
    app = TrajectoryApplication(_sqlite_settings(folder), clock=FakeClock(),
                                protocols=all_protocols())
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def girls(app: TrajectoryApplication) -> list[UUID]:
    """Four girls with research consent, two organisations, on both stores."""
    ids = [open_trajectory(app), open_trajectory(app), open_trajectory(app, OTHER_COORDINATOR),
           open_trajectory(app)]
    record_all(app, ids[0], phase_2_facts())
    record_all(app, ids[3], phase_2_facts())
    for trajectory_id in ids:
        consent(app, trajectory_id)
    return ids


def export(app: TrajectoryApplication, out: Path, project: str = "zonmw-3d",
           **options: Any) -> Any:
    return export_project(app, project, out, actor=RESEARCHER, **options)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def pseudonyms(out: Path) -> set[str]:
    return {row["pseudonym"] for row in read_csv(out / "trajectories.csv")}


def pseudonym_of(app: TrajectoryApplication, project: str, trajectory_id: UUID) -> str:
    assert app.keys is not None
    secret, _ = project_secret(app.keys, app.db, project, app.clock(), create=False)
    return Pseudonyms(secret).girl(trajectory_id)


def in_care(app: TrajectoryApplication) -> list[UUID]:
    """Trajectories that can still take a new fact (not closed)."""
    return [UUID(r["trajectory_id"]) for r in app.index() if r["status"] != "closed"]


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process; leave it as other tests expect it."""
    yield
    structlog.reset_defaults()


def _environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    if settings.master_key:
        monkeypatch.setenv("TRAJECTORY_MASTER_KEY", settings.master_key)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch,
            restore_logging: None) -> None:
    _environment(monkeypatch, settings)


@pytest.fixture
def demo_cli_env(demo: TrajectoryApplication, monkeypatch: pytest.MonkeyPatch,
                 restore_logging: None) -> None:
    _environment(monkeypatch, demo.settings)


# -- what leaves -------------------------------------------------------------------------


def _dates(day: date) -> set[str]:
    return {day.isoformat(), day.strftime("%d-%m-%Y"), day.strftime("%d/%m/%Y")}


def _texts(value: Any, found: set[str]) -> None:
    """Every text and date inside a value (structures, tuples, lists), recursively."""
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, datetime):
        found.add(value.isoformat())
        found |= _dates(value.date())
    elif isinstance(value, date):
        found |= _dates(value)
    elif isinstance(value, msgspec.Struct):
        for item in msgspec.structs.asdict(value).values():
            _texts(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _texts(item, found)


def what_must_not_leave(app: TrajectoryApplication) -> set[str]:
    """Names, ids, dates of birth, free text, exact dates, users and raw hashes of every
    girl in the store. Protocol names and versions are published on purpose."""
    never: dict[str, set[str]] = {}
    for event_name, name in iter_excluded():
        never.setdefault(event_name, set()).add(name)
    public = {"protocol_name", "protocol_version",
              # codes, withheld because they tell her age (they are no secret words)
              "given_by", "withdrawn_by", "consent_by", "requested_by"}
    found: set[str] = set()
    for trajectory_id in app.stored_trajectory_ids():
        found |= {str(trajectory_id), trajectory_id.hex}
        for event in app.stream(trajectory_id):
            fields = vars(event)
            for name in never.get(type(event).__name__, set()) - public:
                _texts(fields[name], found)
            _texts([event.recorded_by, event.occurred_on, event.occurred_at, event.hash,
                    event.prev_hash], found)
    # Short texts ("ots", "vmbo") are words that codes may contain; dates are 10 long.
    return {s for s in found if len(s.strip()) >= 8}


def everything_in(out: Path) -> str:
    """Every byte of every file, and every decoded Parquet cell, as one text to search."""
    import pyarrow.parquet as pq

    parts = []
    for path in sorted(out.iterdir()):
        parts.append(path.read_bytes().decode("latin-1"))
        parts.append(path.read_bytes().decode("utf-8", errors="replace"))
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            for column in table.columns:
                parts.extend("" if v is None else str(v) for v in column.to_pylist())
    return "\n".join(parts)


def test_no_name_id_birth_date_free_text_or_exact_date_leaves_in_any_format(
    demo: TrajectoryApplication, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    manifest = export(demo, out, fmt="parquet", formats=["ocel", "xes", "sav", "dta"])
    assert manifest.counts.trajectories_exported == 8
    assert {p.name for p in out.iterdir()} == {
        "manifest.json", "datapackage.json", "events.jsonocel", "events.xes",
        *(f"{t}.{x}" for t in TABLES for x in ("csv", "parquet")),
        *(f"{t}.{x}" for t in ("trajectories", "spells", "sequences", "follow_ups", "scores")
          for x in ("sav", "dta")),
    }
    haystack = everything_in(out)
    forbidden = what_must_not_leave(demo) - _dates(date.fromisoformat(
        manifest.parameters.observation_end))  # the export's own parameter
    assert len(forbidden) > 500  # names, ids, notes, dates: the scan has something to find
    # The risk profiles' codes are a public code list (the codebook's, and the Data
    # Package's schema for the suppressed column): only there may they appear.
    schema = (out / "datapackage.json").read_text()
    vocabulary = set(get_args(RiskProfile))
    assert vocabulary <= {s for s in forbidden if s in schema}
    haystack = haystack.replace(schema, "")
    leaked = sorted(s for s in forbidden if s in haystack)
    assert leaked == []
    leaked = sorted(s for s in forbidden - vocabulary if s in schema)
    assert leaked == []
    assert "Demo Meisje" not in haystack
    assert "demo-org" not in haystack


# -- reproducible --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_two_exports_of_the_same_store_are_byte_identical(
    demo: TrajectoryApplication, tmp_path: Path, fmt: str
) -> None:
    first = export(demo, tmp_path / "one", fmt=fmt)
    second = export(demo, tmp_path / "two", fmt=fmt)
    assert files(tmp_path / "one") == files(tmp_path / "two")
    assert manifest_sha256(first) == manifest_sha256(second)
    sha = json.loads((tmp_path / "one" / "manifest.json").read_bytes())["files"]
    assert set(sha) == {"datapackage.json"} | {
        f"{t}.{x}" for t in TABLES for x in (("csv", "parquet") if fmt == "parquet" else ("csv",))
    }


def test_parquet_holds_the_same_rows_as_csv(demo: TrajectoryApplication, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "export"
    manifest = export(demo, out, fmt="parquet")
    for table in TABLES:
        rows = read_csv(out / f"{table}.csv")
        parquet = pq.read_table(out / f"{table}.parquet").to_pylist()
        assert len(rows) == len(parquet) == manifest.files[f"{table}.csv"].rows
        as_text = [{k: "" if v is None else str(v) for k, v in row.items()} for row in parquet]
        assert as_text == rows
        entry = manifest.files[f"{table}.parquet"]
        assert entry.content_sha256 == manifest.files[f"{table}.csv"].sha256


# -- verifiable ----------------------------------------------------------------------------


def test_a_new_event_changes_the_root_and_verify_names_the_trajectory(
    app: TrajectoryApplication, girls: list[UUID], tmp_path: Path, cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo = app
    before = export(demo, tmp_path / "before")
    assert main(["verify", "--export", str(tmp_path / "before")]) == 0
    assert "matches the log" in capsys.readouterr().out

    changed = girls[2]
    demo.execute(changed, RecordSignal(kind="boundary_crossing", note="Grensoverschrijdend.",
                                       occurred_on="2026-01-20"), COORDINATOR)
    after = export(demo, tmp_path / "after")
    assert after.root != before.root

    assert main(["verify", "--export", str(tmp_path / "before")]) == 1
    out = capsys.readouterr().out
    name = pseudonym_of(demo, "zonmw-3d", changed)
    differs = [line for line in out.splitlines() if line.startswith("DIFFERS")]
    assert any(name in line and "trajectory" in line for line in differs)
    assert not any(other in out for other in pseudonyms(tmp_path / "before") - {name})
    assert any("root" in line for line in differs)
    assert any("count events_read" in line for line in differs)
    assert any("events.csv" in line for line in differs)


def test_a_tampered_event_stops_the_export_and_verify_names_the_trajectory(
    app: TrajectoryApplication, girls: list[UUID], tmp_path: Path
) -> None:
    demo = app
    export(demo, tmp_path / "published")
    victim = girls[3]
    data = bytearray(payload(demo, victim, 4))
    data[-1] ^= 0x01
    set_payload(demo, victim, 4, bytes(data))
    name = pseudonym_of(demo, "zonmw-3d", victim)

    with pytest.raises(StoreNotVerified) as refused:
        export(demo, tmp_path / "refused")
    assert refused.value.pseudonym == name
    assert refused.value.position == 4
    assert not (tmp_path / "refused").exists()
    assert not any(p.name.startswith(".refused") for p in tmp_path.iterdir())  # no staging

    check = verify_export(demo, tmp_path / "published", actor=RESEARCHER)
    assert not check.ok
    assert any(name in d and "does not verify at event 4" in d for d in check.differences)


def test_a_changed_file_is_named(demo: TrajectoryApplication, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export(demo, out)
    spells = out / "spells.csv"
    spells.write_text(spells.read_text() + "GFFFFFFFFFFFFFFFF,0,6,P1\n")
    check = verify_export(demo, out, actor=RESEARCHER)
    assert check.differences == [
        "spells.csv: its SHA-256 differs from the manifest's (the file was changed after"
        " the export)"
    ]


def test_an_export_is_in_the_access_log_with_its_manifest_hash(
    app: TrajectoryApplication, girls: list[UUID], tmp_path: Path
) -> None:
    demo = app
    manifest = export(demo, tmp_path / "export", client="test")
    digest = manifest_sha256(manifest)
    import hashlib

    assert hashlib.sha256((tmp_path / "export" / "manifest.json").read_bytes()).hexdigest() \
        == digest
    rows = demo.db.fetchall("SELECT * FROM access_log WHERE action = 'export'")
    assert len(rows) == 1
    row = rows[0]
    assert row["trajectory_id"] is None
    assert row["outcome"] == "ok"
    assert row["request_id"] == f"manifest-sha256:{digest}"
    assert (row["user_id"], row["role"], row["client"]) == ("researcher-1", "researcher", "test")
    check = verify_export(demo, tmp_path / "export", actor=RESEARCHER)
    assert check.ok
    assert check.notes == []
    reads = demo.db.fetchall(
        "SELECT * FROM access_log WHERE action = 'read' AND request_id = ?",
        [f"manifest-sha256:{digest}"],
    )
    assert len(reads) == 1
    assert reads[0]["trajectory_id"] is None


def test_as_of_reads_the_log_as_it_was_and_later_facts_are_notes(
    app: TrajectoryApplication, girls: list[UUID], tmp_path: Path, clock: FakeClock
) -> None:
    demo = app
    # Facts are recorded at the application's clock (a microsecond after her previous
    # fact where several share one moment).
    as_of = clock() + timedelta(seconds=1)
    clock.advance(minutes=5)
    first = export(demo, tmp_path / "first", as_of=as_of)
    assert first.parameters.as_of == as_of.isoformat()
    clock.advance(minutes=1)
    later = girls[1]
    demo.execute(later, RecordSignal(kind="loverboy", note="Nieuw signaal."), COORDINATOR)
    export(demo, tmp_path / "again", as_of=as_of)
    assert files(tmp_path / "first") == files(tmp_path / "again")
    check = verify_export(demo, tmp_path / "first", actor=RESEARCHER)
    assert check.ok
    assert check.notes == [
        f"trajectory {pseudonym_of(demo, 'zonmw-3d', later)}: 1 event(s) recorded after the"
        " as-of time (not part of this export)"
    ]


# -- pseudonyms, consent, erasure ------------------------------------------------------------


def test_pseudonyms_are_stable_within_a_project_and_differ_across_projects(
    app: TrajectoryApplication, girls: list[UUID], tmp_path: Path
) -> None:
    demo = app
    export(demo, tmp_path / "a1", project="study-a")
    demo.execute(girls[0],
                 RecordSignal(kind="loverboy", note="Nieuw signaal."), COORDINATOR)
    export(demo, tmp_path / "a2", project="study-a")
    export(demo, tmp_path / "b", project="study-b")
    a1, a2, b = (pseudonyms(tmp_path / n) for n in ("a1", "a2", "b"))
    assert a1 == a2
    assert len(a1) == 4
    assert not a1 & b
    assert len(b) == 4
    assert demo.keys is not None
    secret_a, made = project_secret(demo.keys, demo.db, "study-a", demo.clock(), create=True)
    secret_b, _ = project_secret(demo.keys, demo.db, "study-b", demo.clock(), create=False)
    assert not made
    assert secret_a != secret_b
    assert Pseudonyms(secret_a).organisation("org-a") != Pseudonyms(
        secret_b).organisation("org-a")
    stored = demo.db.fetchall("SELECT * FROM research_projects ORDER BY name")
    assert [r["name"] for r in stored] == ["study-a", "study-b"]
    assert all(secret_a.hex() not in str(r) and len(r["wrapped_secret"]) > 40 for r in stored)


def test_a_key_rotation_keeps_every_project_pseudonym(
    app: TrajectoryApplication, girls: list[UUID], tmp_path: Path
) -> None:
    demo = app
    export(demo, tmp_path / "before", project="study-a")
    assert demo.keys is not None
    demo.keys.rotate(MasterKey.generate(), demo.clock())
    export(demo, tmp_path / "after", project="study-a")
    assert files(tmp_path / "before") == files(tmp_path / "after")


def test_withdrawn_consent_and_erasure_leave_her_out_of_the_next_export(
    app: TrajectoryApplication, girls: list[UUID], tmp_path: Path
) -> None:
    demo = app
    before = export(demo, tmp_path / "before")
    withdrawn, erased = girls[1], girls[2]
    withdraw(demo, withdrawn)
    organisation = demo.get(erased).state.organisation
    erase(demo, erased, by=Actor(user_id="admin", role="admin", organisation=organisation),
          reason="verzoek ingewilligd", legal_ground="request-granted")
    after = export(demo, tmp_path / "after")
    gone = {pseudonym_of(demo, "zonmw-3d", t) for t in (withdrawn, erased)}
    assert pseudonyms(tmp_path / "after") == pseudonyms(tmp_path / "before") - gone
    for table in ("events", "sequences", "spells"):
        assert not gone & {r["pseudonym"] for r in read_csv(tmp_path / "after" / f"{table}.csv")}
    assert (after.counts.left_out_no_consent, after.counts.left_out_erased) == (1, 1)
    assert after.counts.trajectories_exported == before.counts.trajectories_exported - 2
    manifest_text = (tmp_path / "after" / "manifest.json").read_text()
    assert not any(p in manifest_text for p in gone)  # counted, never listed

    check = verify_export(demo, tmp_path / "before", actor=RESEARCHER)
    reasons = {d for d in check.differences if "now left out" in d}
    assert reasons == {
        f"trajectory {pseudonym_of(demo, 'zonmw-3d', withdrawn)}: in the export, but now left"
        " out (no research consent)",
        f"trajectory {pseudonym_of(demo, 'zonmw-3d', erased)}: in the export, but now left out"
        " (erased)",
    }


def test_girls_without_consent_are_counted_not_listed(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    with_consent = open_trajectory(app, intake_date=date(2025, 6, 2))
    open_trajectory(app, intake_date=date(2025, 6, 2))
    open_trajectory(app, OTHER_COORDINATOR, intake_date=date(2025, 6, 2))
    consent(app, with_consent)
    manifest = export(app, tmp_path / "export")
    assert pseudonyms(tmp_path / "export") == {pseudonym_of(app, "zonmw-3d", with_consent)}
    assert manifest.counts.left_out_no_consent == 2
    assert manifest.counts.trajectories_in_store == 3
    assert [h[0] for h in manifest.heads] == [pseudonym_of(app, "zonmw-3d", with_consent)]


# -- states and weeks ------------------------------------------------------------------------


def test_spells_and_weeks_follow_the_events_day_by_day(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    from trajectory.commands import EndRunaway, ReportRunaway, TransitionPhase

    intake = date(2025, 9, 1)
    t = open_trajectory(app, intake_date=intake)

    def on(day: int) -> str:
        return (intake + timedelta(days=day)).isoformat()

    record_all(app, t, [msgspec.structs.replace(c, occurred_on=on(1)) for c in phase_2_facts()])
    record_all(app, t, [
        TransitionPhase(to_phase=2, reason="Stabiel.", occurred_on=on(30)),
        ReportRunaway(from_where="De groep", occurred_on=on(40)),
        EndRunaway(ending="returned", occurred_on=on(45)),
        # the checks after her return, then she moves away with nothing arranged (argued)
        *[msgspec.structs.replace(c, occurred_on=on(46)) for c in phase_2_facts()[:2]],
        left_care(note="Verhuisd.", occurred_on=on(80)),
    ])
    consent(app, t)  # today, after closure: not an event of her observation
    manifest = export(app, tmp_path / "export")
    out = tmp_path / "export"
    (girl,) = read_csv(out / "trajectories.csv")
    spells = [(int(r["begin"]), int(r["end"]), r["state"]) for r in read_csv(out / "spells.csv")]
    assert spells == [(0, 29, "P1"), (30, 39, "P2"), (40, 44, "RUN"), (45, 79, "P2"),
                      (80, 80, "END")]
    (row,) = read_csv(out / "sequences.csv")
    weeks = [row[f"W{w}"] for w in range(1, 14)]
    assert weeks == ["P1"] * 4 + ["P2"] * 8 + ["END"]
    assert (girl["days_p1"], girl["days_p2"], girl["runaway_days"]) == ("30", "45", "5")
    assert (girl["observed_days"], girl["censored"], girl["state_end"]) == ("80", "0", "END")
    assert (girl["phases_reached"], girl["runaways"], girl["closure_reason"]) == (
        "2", "1", "moved_away")
    assert manifest.counts.events_after_observation == 1  # the consent
    days = [int(r["day"]) for r in read_csv(out / "events.csv")]
    assert days == sorted(days)
    assert days[0] == 0
    assert days[-1] == 80


def test_weeks_in_each_state_add_up_to_the_days_in_it(
    demo: TrajectoryApplication, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    export(demo, out)
    spells: dict[str, list[tuple[int, int, str]]] = {}
    for r in read_csv(out / "spells.csv"):
        spells.setdefault(r["pseudonym"], []).append((int(r["begin"]), int(r["end"]),
                                                      r["state"]))
    girls = {r["pseudonym"]: r for r in read_csv(out / "trajectories.csv")}
    for row in read_csv(out / "sequences.csv"):
        name = row.pop("pseudonym")
        weeks = [s for s in row.values() if s != "CEN"]
        girl, own = girls[name], spells[name]
        observed = int(girl["observed_days"])
        in_care = [s for s in own if s[2] != "END"]
        days: dict[str, int] = {}
        for begin, end, state in in_care:
            days[state] = days.get(state, 0) + end - begin + 1
        assert sum(days.values()) == observed
        phases = [c for c in girl if c.startswith("days_p")]
        assert phases == ["days_p1", "days_p2", "days_p3"]  # the default protocol's
        for column in phases:
            assert int(girl[column]) == days.get(f"P{column[6:]}", 0)
        assert int(girl["runaway_days"]) == days.get("RUN", 0)
        assert int(girl["aftercare_days"]) == days.get("AFT", 0)
        assert len(weeks) == -(-observed // 7) + (girl["censored"] == "0")
        assert (weeks[-1] == "END") == (girl["censored"] == "0")
        if girl["censored"] == "1":
            assert observed % 28 == 0
            assert observed > 0
        # Only weeks with a change of state, and an incomplete last week, round.
        bound = len({b // 7 for b, _, _ in in_care[1:]}) + (observed % 7 != 0)
        for state, n in days.items():
            if bound:
                assert abs(weeks.count(state) - n / 7) < bound
            else:
                assert weeks.count(state) * 7 == n


# -- the small-cell check ----------------------------------------------------------------------


def _girls(app: TrajectoryApplication, count: int, **overrides: Any) -> list[UUID]:
    out = []
    for n in range(count):
        identity = Identity(name=f"Meisje {n}", date_of_birth=overrides.pop("dob", None)
                            or date(2010, 5, 1), home_region="Utrecht")
        t = open_trajectory(app, intake_date=date(2025, 6, 2), identity=identity, **overrides)
        consent(app, t)
        out.append(t)
    return out


def test_a_rare_organisation_is_generalised_away_and_reported(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    _girls(app, 6)
    (odd,) = _girls(app, 1, actor=OTHER_COORDINATOR) if False else [
        open_trajectory(app, OTHER_COORDINATOR, intake_date=date(2025, 6, 2),
                        identity=Identity(name="Anders", date_of_birth=date(2010, 5, 1),
                                          home_region="Utrecht"))
    ]
    consent(app, odd)
    manifest = export(app, tmp_path / "export")
    check = manifest.small_cell_check
    # Alone in her organisation at every level: only withholding every value of hers
    # (4 cells; she then matches every girl) or the organisation of all seven (7 cells)
    # protects her; either is over the budget: the export is marked failed, with the
    # plan that loses fewer cells.
    assert [(c.column, c.level, c.cells_suppressed) for c in check.columns] == [
        ("organisation", 0, 1), ("age_band", 0, 1), ("intake_period", 0, 1),
        ("risk_profiles", 0, 1)]
    assert (check.rows, check.cells_suppressed, check.rows_in_small_cells_after) == (7, 4, 0)
    assert check.passed is False
    assert check.failures == ["4 of 28 quasi-identifier cells suppressed: over the budget"
                              " of 10%"]
    assert check.rows_in_small_cells_before == 1
    rows = read_csv(tmp_path / "export" / "trajectories.csv")
    assert sorted((r["organisation"] != "", r["age_band"], r["intake_period"],
                   r["risk_profiles"], r["qi_suppressed"]) for r in rows) == [
        (False, "", "", "", "1"),
        *[(True, "14-15", "2025-06", "influenceable|traumatised", "0")] * 6]


def test_a_girl_alone_in_her_age_band_is_generalised_not_suppressed(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    usual = _girls(app, 5)
    (alone,) = _girls(app, 1, dob=date(2008, 1, 1))  # 17 at intake: another age band
    manifest = export(app, tmp_path / "export")
    check = manifest.small_cell_check
    assert [c.level for c in check.columns] == [0, 1, 0, 0]  # 2-year bands -> wider
    assert (check.cells_suppressed, check.classes, check.smallest_class, check.passed) == (
        0, 1, 6, True)
    assert check.columns[1].cells_generalised == 6
    rows = {r["pseudonym"]: r for r in read_csv(tmp_path / "export" / "trajectories.csv")}
    her = rows[pseudonym_of(app, "zonmw-3d", alone)]
    assert (her["age_band"], her["intake_period"], her["qi_suppressed"]) == (
        "14-17", "2025-06", "0")
    assert her["organisation"].startswith("O")
    assert len(her["organisation"]) == 11
    # Her consent today lies after her censoring day (whole 4-week periods): not exported.
    assert her["events"] == "1"
    assert her["victim_status_intake"] == "suspected"
    for t in usual:
        row = rows[pseudonym_of(app, "zonmw-3d", t)]
        assert (row["age_band"], row["intake_period"], row["qi_suppressed"]) == (
            "14-17", "2025-06", "0")


# -- the command line and refusals --------------------------------------------------------------


def test_export_and_verify_on_the_command_line(
    demo: TrajectoryApplication, tmp_path: Path, demo_cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "cli-export"
    # Outside an approved project: refused, saying why
    assert main(["export", "--project", "zonmw-3d", "--out", str(out)]) == 1
    refused = capsys.readouterr().err
    assert "export refused (project-unknown)" in refused
    assert not out.exists()
    approved_project(demo, "zonmw-3d", researcher=RESEARCHER.user_id, approve=False)
    assert main(["export", "--project", "zonmw-3d", "--out", str(out)]) == 1
    assert "export refused (project-not-approved)" in capsys.readouterr().err
    approved_project(demo, "zonmw-3d", researcher=RESEARCHER.user_id)
    # Eight girls cannot be k-anonymous within the budget: written, but marked failed
    assert main(["export", "--project", "zonmw-3d", "--out", str(out),
                 "--format", "parquet"]) == 1
    printed = capsys.readouterr()
    assert "exported 8 trajectories" in printed.out
    assert "manifest sha256" in printed.out
    assert "FAILED" in printed.out
    assert "the export FAILED its disclosure checks" in printed.err
    assert main(["verify", "--export", str(out)]) == 0
    (out / "events.parquet").write_bytes(b"PAR1 not really")
    assert main(["verify", "--export", str(out)]) == 1
    assert "DIFFERS events.parquet" in capsys.readouterr().out
    assert main(["export", "--project", "zonmw-3d", "--out", str(out)]) == 1
    assert "not an empty directory" in capsys.readouterr().err
    assert main(["export", "--project", "bad name", "--out", str(tmp_path / "x")]) == 1
    assert main(["export", "--project", "p", "--out", str(tmp_path / "y"),
                 "--as-of", "yesterday"]) == 2


def test_verify_needs_a_manifest_and_a_known_project(
    demo: TrajectoryApplication, tmp_path: Path
) -> None:
    with pytest.raises(ExportError, match="cannot read"):
        verify_export(demo, tmp_path, actor=RESEARCHER)
    export(demo, tmp_path / "export", project="known")
    manifest = tmp_path / "export" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"project": "known"',
                                                     '"project": "unknown"'))
    with pytest.raises(ExportError, match="no research project 'unknown'"):
        verify_export(demo, tmp_path / "export", actor=RESEARCHER)
    assert demo.db.fetchone("SELECT name FROM research_projects WHERE name = 'unknown'") is None
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{}")
    with pytest.raises(ExportError, match="not an export manifest"):
        verify_export(demo, tmp_path / "bad", actor=RESEARCHER)


def test_an_io_problem_leaves_no_partial_export(
    demo: TrajectoryApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trajectory.access_log import AccessLog

    def refuse(self: AccessLog, entry: object) -> None:
        raise RuntimeError("the access log cannot be written")

    monkeypatch.setattr(AccessLog, "append", refuse)
    with pytest.raises(RuntimeError):
        export(demo, tmp_path / "exports" / "export")
    assert list((tmp_path / "exports").iterdir()) == []


def test_demo_consent_touches_demo_girls_only(app: TrajectoryApplication) -> None:
    from trajectory.research.democonsent import consent_demo_girls

    demo_coordinator = Actor(user_id="demo-coord-9", role="coordinator",
                             organisation="demo-org-test")
    demo_girls = [open_trajectory(app, demo_coordinator) for _ in range(6)]
    real = open_trajectory(app)
    given, without = consent_demo_girls(app)
    assert given + without == 6
    assert given == sum(app.get(t).state.research_consent for t in demo_girls)
    assert not app.get(real).state.research_consent
    assert consent_demo_girls(app) == (0, without)  # consent is not given twice


def test_a_fact_recorded_while_exporting_is_not_taken_for_tampering(
    app: TrajectoryApplication, girls: list[UUID]
) -> None:
    from trajectory.research.export import read_verified

    stale = {str(girls[0]): (1, "0" * 64)}  # the index as read before a fact was recorded
    events = read_verified(app, girls[0], stale)
    assert len(events) == app.current_version(girls[0])


def test_events_removed_from_the_end_stop_the_export(
    app: TrajectoryApplication, girls: list[UUID], tmp_path: Path
) -> None:
    from tests.test_verify import stored_id, tamper

    last = app.current_version(girls[0])
    tamper(app, "DELETE FROM EVENTS WHERE originator_id = ? AND originator_version = ?",
           stored_id(app, girls[0]), last)
    with pytest.raises(StoreNotVerified, match="the index records"):
        export(app, tmp_path / "export")


def test_an_export_as_one_archive_is_the_same_every_time(
    demo: TrajectoryApplication, tmp_path: Path
) -> None:
    import zipfile

    from trajectory.research import write_archive

    export(demo, tmp_path / "export")
    first, second = io.BytesIO(), io.BytesIO()
    write_archive(tmp_path / "export", first)
    write_archive(tmp_path / "export", second)
    assert first.getvalue() == second.getvalue()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == sorted(p.name for p in (tmp_path / "export").iterdir())
        assert archive.read("manifest.json") == (tmp_path / "export" / "manifest.json"
                                                 ).read_bytes()


def test_demo_consent_runs_from_the_settings_without_the_command_line(tmp_path: Path) -> None:
    # given a store named by the environment only
    env = {**os.environ, "TRAJECTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}"}
    script = (
        "import sys\n"
        "from trajectory.research import democonsent\n"
        "assert democonsent.main() == 0\n"
        "assert 'trajectory.cli' not in sys.modules, 'it borrowed the command line'\n"
    )
    # when the demo consent runs on it as a module of its own
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    # then it builds its own application, without the command line's
    assert done.returncode == 0, done.stderr
    assert "research consent recorded for 0 demo girls" in done.stdout
