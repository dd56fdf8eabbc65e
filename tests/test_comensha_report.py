"""The CoMensha report itself, apart from the decision: sent on a day, by a role, after a
decision to register her; acknowledged by CoMensha on a later day, under a reference that
stays in the encrypted event. And her nationality at intake, which old intakes lack.

The audit found only the decision recorded: nothing said that a report was sent or
confirmed, so the national figures could not count registrations at all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from tests.builders import COORDINATOR, intake, open_trajectory
from tests.conftest import FakeClock
from tests.live import live_server
from tests.web_support import World
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.chain import ComenshaReportAcknowledged, ComenshaReportSent
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.hashing import canonical_bytes
from trajectory.application import TrajectoryApplication
from trajectory.commands import (
    CorrectEntry,
    DecideComenshaRegistration,
    RecordComenshaAcknowledgement,
    ReportToComensha,
)
from trajectory.facts import FACTS
from trajectory.projections import setup_projections

REGISTER = DecideComenshaRegistration(
    decision="registered_by_date_of_birth", argument="consent would harm the relationship"
)


def refusal(app: TrajectoryApplication, tid: UUID, command: Any) -> RuleRefused:
    with pytest.raises(RuleRefused) as refused:
        app.execute(tid, command, COORDINATOR)
    return refused.value


def test_a_report_follows_a_decision_to_register_her(app: TrajectoryApplication) -> None:
    # given a girl with no CoMensha decision yet
    tid = open_trajectory(app)
    # when her coordinator records a report sent, then it is refused: decide first
    assert refusal(app, tid, ReportToComensha()).code == "comensha-report-without-decision"
    # and after a decision not to register, still refused
    app.execute(tid, DecideComenshaRegistration(
        decision="not_registered", argument="potential victim only"), COORDINATOR)
    assert refusal(app, tid, ReportToComensha()).code == "comensha-report-without-decision"
    # when the decision is to register her, the report is recorded
    app.execute(tid, REGISTER, COORDINATOR)
    recorded = app.execute(tid, ReportToComensha(sent_by="designated_officer"), COORDINATOR)
    assert recorded.version == 4


def test_an_acknowledgement_comes_after_a_report_and_once_per_report(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a girl with a decision to register her, and no report yet
    tid = open_trajectory(app)
    app.execute(tid, REGISTER, COORDINATOR)
    ack = RecordComenshaAcknowledgement(reference="CM-2026-0001")
    # when CoMensha's acknowledgement is recorded before any report, it is refused
    assert refusal(app, tid, ack).code == "comensha-report-not-sent"
    # given the report sent on 20 February
    app.execute(tid, ReportToComensha(occurred_on="2026-02-20"), COORDINATOR)
    # then an acknowledgement dated before that day is refused
    early = RecordComenshaAcknowledgement(reference="CM-2026-0001", occurred_on="2026-02-19")
    assert refusal(app, tid, early).code == "comensha-acknowledged-before-sent"
    # and one on the day after is recorded, once
    app.execute(tid, RecordComenshaAcknowledgement(
        reference="CM-2026-0001", occurred_on="2026-02-21"), COORDINATOR)
    assert refusal(app, tid, ack).code == "comensha-report-already-acknowledged"


def test_a_report_marked_in_error_is_no_report_to_acknowledge(
    app: TrajectoryApplication,
) -> None:
    # given a report sent, then marked in error (it was another girl's)
    tid = open_trajectory(app)
    app.execute(tid, REGISTER, COORDINATOR)
    position = app.execute(tid, ReportToComensha(), COORDINATOR).version
    app.execute(tid, CorrectEntry(position=position, action="mark_in_error",
                                  reason="another girl's report"), COORDINATOR)
    # when an acknowledgement is recorded, then it is refused: no report counts
    assert refusal(app, tid, RecordComenshaAcknowledgement(reference="x")).code == (
        "comensha-report-not-sent"
    )


def test_the_report_is_declared_once_with_its_route_and_form() -> None:
    sent, acknowledged = FACTS.of(ReportToComensha), FACTS.of(RecordComenshaAcknowledgement)
    assert (sent.event, sent.path, sent.slug) == (
        ComenshaReportSent, "comensha-reports", "comensha-report")
    assert (acknowledged.event, acknowledged.path, acknowledged.slug) == (
        ComenshaReportAcknowledged, "comensha-reports/acknowledgements",
        "comensha-acknowledgement")
    assert sent.roles == acknowledged.roles == ("coordinator",)


def test_over_http_the_report_and_its_acknowledgement_keep_the_reference_out_of_read_models(
    app: TrajectoryApplication,
) -> None:
    canary = "CM-kanarie-7731"
    with live_server(app) as live:
        token = live.token("coord", "coordinator", COORDINATOR.organisation,
                           user_id=COORDINATOR.user_id)
        with live.client(token) as http:
            opened = http.post("/trajectories", json={
                "intake_date": "2026-01-05", "victim_status": "suspected",
                "nationality": "foreign", "risk_profiles": ["traumatised"],
                "setting": "residential", "referral_source": "police",
                "legal_framework": "ots",
                "identity": {"name": "Test", "date_of_birth": "2010-04-01",
                             "home_region": "Utrecht"},
            })
            assert opened.status_code == 201, opened.text
            base = f"/trajectories/{opened.json()['id']}"
            # when the acknowledgement comes first: 409, the rule named
            early = http.post(f"{base}/comensha-reports/acknowledgements",
                              json={"reference": canary})
            assert early.status_code == 409
            assert early.json()["rule"] == "comensha-report-not-sent"
            # and a report before a decision: 409 naming the missing decision
            undecided = http.post(f"{base}/comensha-reports", json={})
            assert undecided.status_code == 409
            assert undecided.json()["unmet"] == ["comensha-decision"]
            # and an unknown sender role: 422 naming the field
            wrong = http.post(f"{base}/comensha-reports", json={"sent_by": "the girl"})
            assert wrong.status_code == 422
            assert "sent_by" in wrong.text
            # when decided, sent and acknowledged
            assert http.post(f"{base}/comensha-decisions", json={
                "decision": "registered_by_name", "consent_by": "parent"}).status_code == 201
            assert http.post(f"{base}/comensha-reports",
                             json={"occurred_on": "2026-02-10"}).status_code == 201
            acknowledged = http.post(f"{base}/comensha-reports/acknowledgements",
                                     json={"reference": canary, "occurred_on": "2026-02-12"})
            assert acknowledged.status_code == 201, acknowledged.text
            history = http.get(f"{base}/events").json()
    # then both facts are in her history, the reference with the acknowledgement
    last = {e["type"]: e for e in history}
    assert last["ComenshaReportSent"]["data"]["sent_by"] == "coordinator"
    assert last["ComenshaReportAcknowledged"]["data"]["reference"] == canary
    assert last["ComenshaReportAcknowledged"]["occurred_on"] == "2026-02-12"
    # and no read model's row holds the reference
    setup_projections(app).catch_up()
    for table in app.db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    ) if app.db.dialect == "sqlite" else app.db.fetchall(
        "SELECT table_name AS name FROM information_schema.tables"
        " WHERE table_schema = current_schema()"
    ):
        name = str(table["name"])
        if name.startswith(("national_figures", "caseload", "core_elements", "handover")):
            assert canary not in str(app.db.fetchall(f"SELECT * FROM {name}"))


def test_an_intake_without_nationality_hashes_as_before_and_reads_as_unknown(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given an intake as it was recorded before nationality was asked, and one with it
    clock.now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    old = open_trajectory(app)
    new = app.open_trajectory(intake(nationality="dutch"), COORDINATOR).trajectory_id
    first_old = _first_event(app, old)
    first_new = _first_event(app, new)
    # then the old one reads "unknown", and its hashed bytes do not name the field
    assert first_old.nationality == "unknown"
    assert first_new.nationality == "dutch"
    topic = get_topic(TrajectoryOpened)
    assert b"nationality" not in _hashed(topic, first_old)
    assert b'"nationality":"dutch"' in _hashed(topic, first_new)
    assert app.get(old).state.intake_date == date(2026, 1, 5)


def _first_event(app: TrajectoryApplication, tid: UUID) -> TrajectoryOpened:
    first = next(iter(app.repository.event_store.get(tid, lte=1)))
    assert isinstance(first, TrajectoryOpened)
    return first


def _hashed(topic: str, event: TrajectoryOpened) -> bytes:
    from trajectory.aggregates.hashing import added_fields

    return canonical_bytes(topic, dict(event.__dict__), added_fields(TrajectoryOpened))


def test_the_pages_ask_her_nationality_and_record_the_report_in_dutch(world: World) -> None:
    with world.browser("coordinator") as b:
        # given the intake form: it asks her nationality
        intake_form = b.get("/app/trajectories/new")
        assert intake_form.status_code == 200
        for words in ("Nationaliteit", "Nederlands", "niet-Nederlands"):
            assert words in intake_form.text, words
        # when her coordinator reports her to CoMensha before any decision
        path = f"/app/trajectories/{world.girl}/forms/comensha-report"
        form = b.get(path)
        for words in ("Melding bij CoMensha vastleggen", "Gemeld door", "aandachtsfunctionaris"):
            assert words in form.text, words
        refused = b.submit(path, {"sent_by": "coordinator", "occurred_on": "2026-02-27"})
        # then the page says in Dutch what comes first, and records nothing
        assert "volgt op een besluit om haar te registreren" in refused.text
        version = world.version(world.girl)
        # and after a decision to register her, the report is recorded
        world.app.execute(world.girl, REGISTER, world.actor("coordinator"))
        done = b.submit(path, {"sent_by": "designated_officer", "occurred_on": "2026-02-27"},
                        follow_redirects=False)
        assert done.status_code == 303, done.text
        page = b.get(f"/app/trajectories/{world.girl}/history")
        assert "Gemeld bij CoMensha" in page.text[page.text.index('id="h-history"'):]
    assert world.version(world.girl) == version + 2


def test_her_nationality_does_not_leave_for_research() -> None:
    # a quasi-identifier: the national figures count it (suppressed), research gets none
    from trajectory.research.coding import coders, event_columns

    assert "nationality" not in {c.column.name for c in coders(TrajectoryOpened)}
    assert "nationality" not in {c.name for c in event_columns()}
    # and CoMensha's reference stays in the log; who sent the report leaves as a code
    assert [c.column.name for c in coders(ComenshaReportAcknowledged)] == []
    assert [c.column.name for c in coders(ComenshaReportSent)] == ["sent_by"]


def test_a_decision_to_register_asks_for_the_report_until_it_is_sent(
    app: TrajectoryApplication,
) -> None:
    from trajectory.protocol.attention import attention_items

    def due(tid: UUID) -> set[str]:
        trajectory = app.get(tid)
        today = trajectory.state.intake_date
        return {i.code for i in attention_items(trajectory.state, app.protocol_of(trajectory),
                                                today)}

    # given a girl whose coordinator decided to register her with CoMensha
    tid = open_trajectory(app)
    assert "comensha-report" not in due(tid)
    app.execute(tid, REGISTER, COORDINATOR)
    # then sending the report is due (the matrix counts a registration only when sent)
    assert "comensha-report" in due(tid)
    # and once it is sent, it is no longer asked
    app.execute(tid, ReportToComensha(sent_by="designated_officer"), COORDINATOR)
    assert "comensha-report" not in due(tid)
    # and a decision not to register asks for no report
    other = open_trajectory(app)
    app.execute(other, DecideComenshaRegistration(
        decision="not_registered", argument="potential victim only"), COORDINATOR)
    assert "comensha-report" not in due(other)
