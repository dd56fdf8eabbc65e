"""The organisation's own duties: a stream per organisation, hash-chained and verified;
core elements 1 and 9 evidenced from it; overdue improvement actions on the quality list;
the quality officer's and the inspector's roles. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import structlog

from tests.builders import intake
from tests.conftest import FakeClock
from trajectory.access_log import AccessLog
from trajectory.aggregates.errors import RuleRefused, VersionConflict
from trajectory.application import Actor, TrajectoryApplication
from trajectory.identity.users import ROLE_SCOPES, ROLES
from trajectory.organisation import commands as oc
from trajectory.organisation.aggregate import organisation_id
from trajectory.organisation.elements import element_1, element_9, open_actions
from trajectory.organisation.store import OrganisationStore
from trajectory.organisation.writing import NotPermitted, OrganisationWrites
from trajectory.settings import Settings
from trajectory.verify import verify_store

ORG = "Stichting Zonnebloem"
OFFICER = Actor(user_id="q-1", role="quality", organisation=ORG)
TODAY = date(2026, 3, 2)  # the FakeClock's day


@pytest.fixture
def writes(app: TrajectoryApplication) -> OrganisationWrites:
    return OrganisationWrites(app)


def _duties_for_element_1(writes: OrganisationWrites) -> None:
    writes.record(OFFICER, oc.RecordTraining(staff_name="Anja de Vries", training="basic",
                                             occurred_on="2025-09-10"))
    writes.record(OFFICER, oc.RecordTraining(staff_name="Bram Jansen", training="deepening",
                                             occurred_on="2025-10-01"))
    writes.record(OFFICER, oc.AppointAandachtsfunctionaris(staff_name="Bram Jansen",
                                                           occurred_on="2024-01-15"))
    writes.record(OFFICER, oc.RecordReflectionSession(kind="intervisie", participants=6,
                                                      occurred_on="2026-01-20"))


def test_the_quality_officer_records_her_organisations_duties_on_its_own_stream(
    app: TrajectoryApplication, writes: OrganisationWrites
) -> None:
    # Given nothing recorded: both organisation-level elements are missing
    store = OrganisationStore(app.db)
    assert store.load(ORG) is None
    assert element_1(None, TODAY).status == "missing"
    assert element_9(None, TODAY).status == "missing"
    # When her quality officer records trainings, an appointment and a reflection
    _duties_for_element_1(writes)
    # Then they are one stream, with an id from the organisation's name, opened once
    stream = store.load(ORG)
    assert stream is not None
    assert stream.id == organisation_id(ORG) == organisation_id(ORG)
    assert stream.version == 5  # opened + four facts
    assert [t.staff_name for t in stream.state.trainings] == ["Anja de Vries", "Bram Jansen"]
    # and element 1 is evidenced from them; element 9 still missing
    one = element_1(stream.state, TODAY)
    assert one.status == "evidenced", one
    assert one.evidenced_on == date(2026, 1, 20)
    assert one.due_on == date(2025, 9, 10) + timedelta(days=365)
    assert element_9(stream.state, TODAY).status == "missing"
    # When the pedagogical climate is assessed, element 9 is evidenced
    writes.record(OFFICER, oc.RecordClimateAssessment(
        instrument="GLIS", score="3.8", conclusion="open, safe climate",
        occurred_on="2025-11-11"))
    stream = store.load(ORG)
    assert stream is not None
    nine = element_9(stream.state, TODAY)
    assert nine.status == "evidenced"
    assert nine.evidenced_on == date(2025, 11, 11)
    # A year after the basic training, without a new one, element 1 is missing again
    later = element_1(stream.state, date(2026, 9, 11))
    assert later.status == "missing"
    assert later.missing == ["basic-training"]


def test_element_1_needs_every_part_token_facts_are_not_enough(
    app: TrajectoryApplication, writes: OrganisationWrites
) -> None:
    # Given only a training (a token fact)
    writes.record(OFFICER, oc.RecordTraining(staff_name="Anja de Vries", training="basic",
                                             occurred_on="2026-01-10"))
    stream = OrganisationStore(app.db).load(ORG)
    assert stream is not None
    # Then element 1 is missing, naming what is missing
    one = element_1(stream.state, TODAY)
    assert one.status == "missing"
    assert one.missing == ["expert-training", "aandachtsfunctionaris", "reflection"]
    # An appointment that ended does not count
    writes.record(OFFICER, oc.AppointAandachtsfunctionaris(
        staff_name="Bram Jansen", occurred_on="2025-01-01", until_on=date(2026, 1, 1)))
    stream = OrganisationStore(app.db).load(ORG)
    assert stream is not None
    assert "aandachtsfunctionaris" in element_1(stream.state, TODAY).missing
    # A climate assessment of more than a year ago does not evidence element 9
    writes.record(OFFICER, oc.RecordClimateAssessment(
        instrument="GLIS", score="3.1", occurred_on="2025-02-01"))
    stream = OrganisationStore(app.db).load(ORG)
    assert stream is not None
    assert element_9(stream.state, TODAY).status == "missing"


def test_an_overdue_improvement_action_is_an_attention_item_until_it_is_done(
    app: TrajectoryApplication, writes: OrganisationWrites, clock: FakeClock
) -> None:
    # Given a signal analysis whose improvement action was due yesterday
    written = writes.record(OFFICER, oc.RecordSignalAnalysis(
        signal_kinds=["loverboy", "runaway"], period_from="2025-10", period_to="2025-12",
        analysis="runaways cluster on weekend leave", action="two staff on weekend evenings",
        owner="Anja de Vries", due_on=date(2026, 3, 1), occurred_on="2026-01-15"))
    analysis = written.positions[-1]
    stream = OrganisationStore(app.db).load(ORG)
    assert stream is not None
    # Then it is overdue on the quality list
    [item] = open_actions(stream.state, TODAY)
    assert (item.code, item.analysis, item.due_on, item.overdue) == (
        "improvement-action", analysis, date(2026, 3, 1), True)
    # When it is carried out, it leaves the list
    writes.record(OFFICER, oc.CompleteImprovementAction(analysis=analysis))
    stream = OrganisationStore(app.db).load(ORG)
    assert stream is not None
    assert open_actions(stream.state, TODAY) == []
    assert stream.state.analyses[analysis].done_on == TODAY
    # and cannot be carried out twice
    with pytest.raises(RuleRefused) as refused:
        writes.record(OFFICER, oc.CompleteImprovementAction(analysis=analysis))
    assert refused.value.code == "already-done"


def test_refusals_record_nothing(app: TrajectoryApplication, writes: OrganisationWrites) -> None:
    _duties_for_element_1(writes)
    store = OrganisationStore(app.db)
    with pytest.raises(RuleRefused) as refused:
        writes.record(OFFICER, oc.CompleteImprovementAction(analysis=2))
    assert refused.value.code == "analysis-unknown"
    with pytest.raises(RuleRefused) as refused:
        writes.record(OFFICER, oc.RecordSignalAnalysis(
            signal_kinds=["loverboy"], period_from="2026-02", period_to="2026-01",
            analysis="a", action="b", owner="c", due_on=date(2026, 4, 1)))
    assert refused.value.code == "period-invalid"
    with pytest.raises(RuleRefused) as refused:
        writes.record(OFFICER, oc.RecordTraining(staff_name="A", training="basic",
                                                 occurred_on="2026-03-09"))
    assert refused.value.code == "occurred-in-future"
    with pytest.raises(VersionConflict):
        writes.record(OFFICER, oc.RecordTraining(staff_name="A", training="basic"),
                      expected_version=2)
    with pytest.raises(NotPermitted):
        writes.record(Actor(user_id="c", role="coordinator", organisation=ORG),
                      oc.RecordTraining(staff_name="A", training="basic"))
    assert store.version(ORG) == 5


def test_a_retry_with_the_same_key_records_nothing_new_and_every_write_is_logged(
    app: TrajectoryApplication, writes: OrganisationWrites
) -> None:
    before = AccessLog(app.db).count()
    command = oc.RecordTraining(staff_name="Anja de Vries", training="basic")
    first = writes.record(OFFICER, command, idempotency_key="k-1", request_digest="d")
    again = writes.record(OFFICER, command, idempotency_key="k-1", request_digest="d")
    assert again.replayed
    assert again.answer == first.answer
    assert OrganisationStore(app.db).version(ORG) == 2
    rows = app.db.fetchall(
        "SELECT action, outcome, role, organisation FROM access_log ORDER BY entry_id")
    assert AccessLog(app.db).count() == before + 2
    assert [(r["action"], r["outcome"], r["role"]) for r in rows[-2:]] == [
        ("write", "ok", "quality"), ("write", "replayed", "quality")]


def test_verify_checks_organisation_streams_and_names_tampering(
    app: TrajectoryApplication, writes: OrganisationWrites
) -> None:
    # Given a stream beside a girl's trajectory
    coordinator = Actor(user_id="c-1", role="coordinator", organisation=ORG)
    app.open_trajectory(intake(), coordinator)
    _duties_for_element_1(writes)
    report = verify_store(app)
    assert report.ok
    assert report.organisations == 1
    # When a stored fact is altered behind the application's back (the trigger dropped)
    stream = str(organisation_id(ORG))
    with app.db.transaction() as tx:
        if app.dialect == "sqlite":
            tx.execute("DROP TRIGGER organisation_events_no_update")
        else:
            tx.execute("ALTER TABLE organisation_events DISABLE TRIGGER"
                       " organisation_events_append_only")
        tx.execute(
            "UPDATE organisation_events SET payload = REPLACE(payload, 'Anja', 'Anna')"
            " WHERE organisation_id = ? AND position = 2", [stream])
    # Then verify names the stream and the position
    report = verify_store(app)
    assert not report.ok
    [finding] = report.organisation_findings
    assert finding.position == 2
    assert "altered" in finding.problem


def test_the_new_roles_carry_their_scopes() -> None:
    assert {"quality", "inspector"} <= set(ROLES)
    assert ROLE_SCOPES["quality"] == ("read", "write")
    assert ROLE_SCOPES["inspector"] == ("read",)



STORED_SHAPE = {
    "OrganisationStreamOpened": ("organisation",),
    "TrainingRecorded": ("staff_name", "training"),
    "AandachtsfunctionarisAppointed": ("staff_name", "until_on"),
    "ReflectionSessionHeld": ("kind", "participants"),
    "PedagogicalClimateAssessed": ("instrument", "score", "conclusion"),
    "SignalAnalysisRecorded": ("signal_kinds", "period_from", "period_to", "analysis",
                               "action", "owner", "due_on"),
    "ImprovementActionCompleted": ("analysis",),
}
"""The organisation stream's stored contract: an event's fields are never renamed or
removed (a field added later needs a default; see `aggregates.hashing`)."""


def test_the_stored_shape_of_the_organisation_events_is_kept() -> None:
    import dataclasses

    from trajectory.organisation.events import EVENTS

    common = {"originator_id", "originator_version", "timestamp", "originator_topic",
              "occurred_on", "recorded_by", "prev_hash", "hash"}
    found = {
        cls.__name__: tuple(f.name for f in dataclasses.fields(cls) if f.name not in common)
        for cls in EVENTS
    }
    for name, fields in STORED_SHAPE.items():
        assert found[name][: len(fields)] == fields, name
        added = found[name][len(fields):]
        defaults = {f.name: f.default for f in dataclasses.fields(
            next(c for c in EVENTS if c.__name__ == name))}
        assert all(defaults[a] is not dataclasses.MISSING for a in added), (name, added)
    assert set(found) == set(STORED_SHAPE)


def test_the_demo_organisations_show_one_in_order_one_behind_and_one_silent(
    app: TrajectoryApplication,
) -> None:
    from trajectory.demo import ORGANISATIONS
    from trajectory.organisation.demo import record_demo_duties

    assert record_demo_duties(app, ORGANISATIONS) > 0
    store = OrganisationStore(app.db)
    first, second, third = (store.load(org) for org in ORGANISATIONS)
    assert first is not None
    assert second is not None
    assert third is None
    assert [e.status for e in (element_1(first.state, TODAY), element_9(first.state, TODAY))
            ] == ["evidenced", "evidenced"]
    assert open_actions(first.state, TODAY)[0].overdue is False
    assert element_9(second.state, TODAY).status == "missing"
    assert open_actions(second.state, TODAY)[0].overdue is True
    # a second run adds nothing
    assert record_demo_duties(app, ORGANISATIONS) == 0
    assert verify_store(app).ok


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process; leave it as other tests expect it."""
    yield
    structlog.reset_defaults()


def test_the_verify_command_names_a_tampered_organisation_stream(
    app: TrajectoryApplication, writes: OrganisationWrites, settings: Settings,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    from trajectory.cli import main

    _duties_for_element_1(writes)
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", str(settings.master_key))
    assert main(["verify"]) == 0
    assert "1 organisation streams" in capsys.readouterr().out
    # When the last fact is removed behind the application's back
    with app.db.transaction() as tx:
        if app.dialect == "sqlite":
            tx.execute("DROP TRIGGER organisation_events_no_delete")
        else:
            tx.execute("ALTER TABLE organisation_events DISABLE TRIGGER"
                       " organisation_events_append_only")
        tx.execute("DELETE FROM organisation_events WHERE position = 5")
    # Then verify fails, naming the stream
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert f"TAMPERED organisation stream {organisation_id(ORG)}" in out


@pytest.mark.parametrize(("last", "first"), [("2026-03", "2025-04"), ("2026-12", "2026-01"),
                                             ("2026-11", "2025-12")])
def test_the_inspectors_default_period_is_twelve_months(last: str, first: str) -> None:
    from trajectory.organisation.inspection import twelve_months_to

    assert twelve_months_to(last) == first


def test_a_lone_small_cell_beside_a_published_total_takes_another_with_it() -> None:
    from trajectory.organisation.inspection import suppress_row

    assert suppress_row({"evidenced": 9, "missing": 3, "due": 6}, 18) == {
        "evidenced": 9, "missing": "<5", "due": "<5"}
    assert suppress_row({"evidenced": 12, "missing": 0}, 12) == {
        "evidenced": "<5", "missing": "<5"}
    assert suppress_row({"evidenced": 2, "missing": 1}, 3) == {
        "evidenced": "<5", "missing": "<5"}
    assert suppress_row({"evidenced": 7, "missing": 5}, 12) == {"evidenced": 7, "missing": 5}
