"""Beleidsinformatie Jeugd, part 1: the data items recorded where they arise (issue 20).

At intake her citizen service number (checked with the eleven-test, kept in her encrypted
identity), sex, municipality, referrer, form of care and whether care started in crisis; at
the end of care the protocol's reason of ending; the outcome questions as a fact of their
own. Through the one write path, on both stores.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from tests.api_support import INTAKE, ORG_A, assert_problem
from tests.builders import intake, left_care
from tests.live import live_server
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.closure import TrajectoryClosed
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.outcomes import CareOutcomeRecorded, GoalOutcome
from trajectory.aggregates.hashing import event_hash
from trajectory.application import Actor, TrajectoryApplication
from trajectory.bij.codes import end_reason_of
from trajectory.bij.rules import bsn_valid
from trajectory.commands import RecordCareOutcome
from trajectory.views import opening_event
from trajectory.writing import WritePath

COORDINATOR = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
VALID_BSN = "111222333"  # 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3-3 = 66, a multiple of 11
INVALID_BSN = "111222334"


def with_bsn(bsn: str, **overrides: Any) -> Any:
    return intake(identity=Identity(name="Lieke Test", date_of_birth=date(2010, 4, 1),
                                    home_region="Utrecht", bsn=bsn), **overrides)


@pytest.mark.parametrize(
    ("bsn", "valid"),
    [("111222333", True), ("123456782", True), ("111222334", False), ("12345678", False),
     ("1234567890", False), ("000000000", False), ("11122233a", False), ("", False)],
)
def test_the_eleven_test(bsn: str, valid: bool) -> None:
    assert bsn_valid(bsn) is valid


def test_an_invalid_bsn_is_refused_naming_the_field(app: TrajectoryApplication) -> None:
    # given a coordinator at intake
    path = WritePath(app)
    # when she gives a number that fails the eleven-test
    with pytest.raises(RuleRefused) as refused:
        path.open(COORDINATOR, with_bsn(INVALID_BSN))
    # then the intake is refused with the rule, naming the field, never the number
    assert refused.value.code == "bsn-invalid"
    assert refused.value.fields == ("identity.bsn",)
    assert INVALID_BSN not in refused.value.message
    assert app.index() == []


def test_the_api_refuses_an_invalid_bsn_naming_the_field(app: TrajectoryApplication) -> None:
    with live_server(app) as live:
        token = live.token("coordinator", "coordinator", ORG_A, user_id="coordinator")
        with live.client(token) as http:
            # when an intake is sent with a number that fails the eleven-test
            body = {**INTAKE, "identity": {**INTAKE["identity"], "bsn": INVALID_BSN}}
            refused = http.post("/trajectories", json=body)
            # then 409 with the rule code and the field
            problem = assert_problem(refused, 409)
            assert problem["rule"] == "bsn-invalid"
            assert problem["unmet"] == ["identity.bsn"]
            assert INVALID_BSN not in refused.text
            # and a valid one is taken in, with the items of the protocol
            body = {**INTAKE, "identity": {**INTAKE["identity"], "bsn": VALID_BSN},
                    "municipality": "0344", "referrer": "certified_institution",
                    "care_form": "residential_other", "started_in_crisis": True}
            accepted = http.post("/trajectories", json=body)
            assert accepted.status_code == 201, accepted.text
            opened = opening_event(app.stream(UUID(accepted.json()["id"])))
            assert opened.identity.bsn == VALID_BSN
            assert (opened.sex, opened.municipality, opened.referrer, opened.care_form,
                    opened.started_in_crisis) == (
                "female", "0344", "certified_institution", "residential_other", True)


def test_an_unknown_municipality_is_refused_naming_the_field(app: TrajectoryApplication) -> None:
    with pytest.raises(RuleRefused) as refused:
        WritePath(app).open(COORDINATOR, with_bsn(VALID_BSN, municipality="9999"))
    assert refused.value.code == "municipality-unknown"
    assert refused.value.fields == ("municipality",)


def test_an_intake_without_the_new_items_hashes_as_before() -> None:
    # given an opening event's fields as stored before issue 20 (no bsn, no sex, ...)
    from trajectory.aggregates.events.intake import TrajectoryOpened

    identity = Identity(name="Oud", date_of_birth=date(2010, 1, 1), home_region="Utrecht")
    fields = {"identity": identity, "organisation": "o"}
    old = {"identity": {"name": "Oud", "date_of_birth": "2010-01-01",
                        "home_region": "Utrecht"}, "organisation": "o"}
    # then the new fields at their defaults leave the hash as it was
    topic = "trajectory.aggregates.events.intake:TrajectoryOpened"
    assert event_hash(topic, fields | {"sex": "unknown", "municipality": "",
                                       "referrer": None, "care_form": None,
                                       "started_in_crisis": False}, TrajectoryOpened) \
        == event_hash(topic, old, TrajectoryOpened)


@pytest.mark.parametrize(
    ("reason", "destination", "expected"),
    [("aftercare_completed", "independent", "as_planned"),
     ("transferred", "other_youth_care", "early_mutual"),
     ("own_decision", "unknown", "early_by_client"),
     ("turned_adult_left_care", "independent", "early_by_client"),
     ("moved_away", "home_with_parents", "early_moved"),
     ("other", "adult_care", "early_mutual"),
     ("other", "unknown", "early_other")],
)
def test_the_reason_of_ending_is_mapped_from_the_closure(
    reason: Any, destination: Any, expected: str
) -> None:
    assert end_reason_of(reason, destination) == expected


def test_closure_records_the_reason_of_ending_and_the_outcome_follows(
    app: TrajectoryApplication,
) -> None:
    # given a girl in care who leaves care on her own decision
    tid = app.open_trajectory(with_bsn(VALID_BSN), COORDINATOR).trajectory_id
    path = WritePath(app)
    path.record(COORDINATOR, tid, left_care("own_decision", occurred_on="2026-02-20"))
    # when the outcome questions are answered after the file was closed
    path.record(COORDINATOR, tid, RecordCareOutcome(
        satisfied="no", without_help="unknown", informant="professional",
        goals=[GoalOutcome(goal="safe at school", attained="partly")]))
    # then the closure carries the protocol's reason, and the outcome is on her file
    events = list(app.stream(tid))
    closed = next(e for e in events if isinstance(e, TrajectoryClosed))
    assert closed.end_reason == "early_by_client"
    outcome = next(e for e in events if isinstance(e, CareOutcomeRecorded))
    assert (outcome.satisfied, outcome.informant, outcome.goals[0].attained) == (
        "no", "professional", "partly")


def test_the_items_for_cbs_are_recorded_after_intake_and_count_for_the_delivery(
    app: TrajectoryApplication,
) -> None:
    from trajectory.bij.care import care_record
    from trajectory.commands import RecordYouthCareItems

    # given a girl taken in without her number and without a referrer
    tid = app.open_trajectory(with_bsn(""), COORDINATOR).trajectory_id
    path = WritePath(app)
    # when a wrong number is given later, it is refused naming the field
    with pytest.raises(RuleRefused) as refused:
        path.record(COORDINATOR, tid, RecordYouthCareItems(bsn=INVALID_BSN))
    assert (refused.value.code, refused.value.fields) == ("bsn-invalid", ("bsn",))
    # and when the right one and the referrer are recorded
    path.record(COORDINATOR, tid, RecordYouthCareItems(bsn=VALID_BSN, referrer="judicial"))
    path.record(COORDINATOR, tid, RecordYouthCareItems(municipality="0363"))
    # then her care for the delivery has them, and keeps what was not given
    record = care_record(tid, app.stream(tid))
    assert (record.bsn, record.referrer, record.municipality, record.sex) == (
        VALID_BSN, "judicial", "0363", "female")
