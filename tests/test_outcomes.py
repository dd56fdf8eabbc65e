"""Outcomes as facts (issue 15, part 1): revictimisation, and the follow-up measurements at
the protocol's moments, recorded in care, in aftercare and after closure, and due as
attention items for whoever holds the girl. Over real HTTP, on both stores.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.api_support import assert_problem
from tests.chain_support import Chain, chain_fixture  # noqa: F401
from tests.conftest import FakeClock
from trajectory.protocol.follow_up import add_months
from trajectory.protocol.loader import ProtocolError, default_protocol, parse_protocol

REVICTIMISATION = {"kind": "loverboy_contact", "day_is": "became_known",
                   "known_via": "girl_told", "police_involved": True}
MEASUREMENT: dict[str, Any] = {
    "living_situation": "independent", "school_or_work": "school",
    "qualification": "vmbo", "revictimised_since": False, "runaways_since": 0,
    "loverboy_contact": "none",
    "instruments": [{"name": "SDQ", "version": "2019", "total": 14,
                     "subscales": {"emotional": 5, "conduct": 2.5}}],
}
CLOSE = {"reason": "aftercare_completed"}


def _events(chain: Chain, tid: str) -> list[dict[str, Any]]:
    response = chain.coordinator.get(f"/trajectories/{tid}/events")
    assert response.status_code == 200, response.text
    body = response.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


def _last(chain: Chain, tid: str, event_type: str) -> dict[str, Any]:
    found = [e for e in _events(chain, tid) if e["type"] == event_type]
    assert found, [e["type"] for e in _events(chain, tid)]
    return found[-1]


# -- revictimisation ---------------------------------------------------------------------------


def test_revictimisation_is_recorded_in_care_in_aftercare_and_after_closure(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl in care
    tid = chain.girl()
    # when her coordinator reports a loverboy contact that became known
    chain.ok(chain.coordinator, tid, "revictimisations", REVICTIMISATION)
    # then it is recorded with where she was, read from her file
    event = _last(chain, tid, "RevictimisationReported")
    assert event["data"]["stage"] == "in_care"
    assert event["data"]["police_involved"] is True
    assert event["data"]["day_is"] == "became_known"
    # when she is in aftercare, her aftercare worker reports one too
    chain.in_aftercare(tid)
    clock.advance(days=10)
    chain.ok(chain.aftercare, tid, "revictimisations",
             {"kind": "exploitation", "known_via": "police", "police_involved": True})
    assert _last(chain, tid, "RevictimisationReported")["data"]["stage"] == "aftercare"
    # and after the file is closed, her coordinator still reports one
    chain.ok(chain.aftercare, tid, "aftercare/end", {"reason": "plan completed"})
    chain.ok(chain.coordinator, tid, "closure", CLOSE)
    clock.advance(days=20)
    chain.ok(chain.coordinator, tid, "revictimisations",
             {"kind": "exploitation", "known_via": "chain_partner", "police_involved": False})
    assert _last(chain, tid, "RevictimisationReported")["data"]["stage"] == "after_closure"


def test_a_backdated_revictimisation_has_the_stage_of_its_day(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl who left care for aftercare 40 days after intake
    tid = chain.girl()
    intake_day = chain.today()
    clock.advance(days=40)
    chain.in_aftercare(tid)
    # when a contact that happened while she was in care is reported now
    chain.ok(chain.aftercare, tid, "revictimisations",
             {**REVICTIMISATION, "day_is": "happened",
              "occurred_on": (intake_day + timedelta(days=10)).isoformat()})
    # then its stage is "in care", not where she is today
    assert _last(chain, tid, "RevictimisationReported")["data"]["stage"] == "in_care"


def test_a_revictimisation_without_its_shape_is_refused_naming_the_field(chain: Chain) -> None:
    tid = chain.girl()
    problem = assert_problem(
        chain.post(chain.coordinator, tid, "revictimisations",
                   {"kind": "exploitation", "police_involved": False}), 422)
    assert "known_via" in str(problem)
    problem = assert_problem(
        chain.post(chain.coordinator, tid, "revictimisations",
                   {**REVICTIMISATION, "stage": "in_care"}), 422)
    assert "stage" in str(problem)


# -- the protocol's moments --------------------------------------------------------------------


def test_the_protocol_says_when_follow_ups_are_measured_and_defaults_without_the_table() -> None:
    protocol = default_protocol()
    assert protocol.follow_up.months_after_care == (0, 6, 12, 24)
    text = """
[protocol]
name = "bare"
version = "1"
[[phase]]
number = 1
name = "one"
label = "One"
[phase.caps]
internet = "supervised"
social_media = "none"
phone = "supervised"
leave = "none"
contact_with_boys = "none"
[phase.network]
safe = "supervised"
unknown = "none"
risky = "none"
[aftercare]
entry_criteria = ["handover-prepared", "handover-meeting", "handover-accepted"]
"""
    assert parse_protocol(text, "bare.toml").follow_up.months_after_care == (0, 6, 12, 24)
    own = parse_protocol(text + "[follow_up]\nmonths_after_care = [3, 18]\nwithin_days = 14\n",
                         "own.toml")
    assert own.follow_up.months_after_care == (3, 18)
    assert own.follow_up.within_days == 14
    with pytest.raises(ProtocolError) as refused:
        parse_protocol(text + "[follow_up]\nmonths_after_care = [12, 6]\n", "bad.toml")
    assert refused.value.key == "follow_up.months_after_care"


# -- follow-up measurements ------------------------------------------------------------------------


def test_follow_ups_are_due_for_whoever_holds_her_and_each_record_clears_its_moment(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl in care: no follow-up is due yet
    tid = chain.girl()
    assert "follow-up" not in chain.attention(tid)
    # when the warm handover meeting is held, the measurement at the end of care is due
    chain.warm_handover(tid)
    assert "follow-up" in chain.attention(tid)
    # and once she has left care for aftercare, 30 days from that day
    clock.advance(days=5)
    chain.ok(chain.aftercare, tid, "aftercare", {"destination": "independent"})
    left = chain.today()
    item = chain.attention(tid)["follow-up"]
    assert item["due_on"] == (left + timedelta(days=30)).isoformat()
    # when the aftercare worker measures at the end of care
    chain.ok(chain.aftercare, tid, "follow-ups", {**MEASUREMENT, "moment": 0})
    # then the next moment is due: six months after she left, plus the window
    item = chain.attention(tid)["follow-up"]
    assert item["due_on"] == (add_months(left, 6) + timedelta(days=30)).isoformat()
    # and the scores are kept as given
    measured = _last(chain, tid, "FollowUpMeasured")["data"]
    assert measured["instruments"][0]["subscales"] == {"emotional": 5, "conduct": 2.5}
    # when the file is closed, the follow-ups stay due for her coordinator
    chain.ok(chain.aftercare, tid, "aftercare/end", {"reason": "plan completed"})
    chain.ok(chain.coordinator, tid, "closure", CLOSE)
    attention = chain.attention(tid)
    assert list(attention) == ["follow-up"]
    # and a record that it was not possible clears the moment too
    chain.ok(chain.coordinator, tid, "follow-ups/not-possible",
             {"moment": 6, "reason": "not_reached"})
    item = chain.attention(tid)["follow-up"]
    assert item["due_on"] == (add_months(left, 12) + timedelta(days=30)).isoformat()
    assert _last(chain, tid, "FollowUpNotPossible")["data"]["reason"] == "not_reached"
    # and after the last moment nothing is due
    chain.ok(chain.coordinator, tid, "follow-ups", {**MEASUREMENT, "moment": 12})
    chain.ok(chain.coordinator, tid, "follow-ups/not-possible",
             {"moment": 24, "reason": "refused"})
    assert chain.attention(tid) == {}


def test_a_follow_up_is_for_a_moment_of_her_protocol_once_and_after_care_after_it_ended(
    chain: Chain,
) -> None:
    tid = chain.girl()
    # a moment the protocol does not have
    chain.refused(chain.coordinator, tid, "follow-ups", {**MEASUREMENT, "moment": 7},
                  "follow-up-moment-unknown")
    # six months after care, while she is in care
    chain.refused(chain.coordinator, tid, "follow-ups", {**MEASUREMENT, "moment": 6},
                  "follow-up-not-yet")
    # the end of care may be measured in her last weeks; twice is refused
    chain.ok(chain.coordinator, tid, "follow-ups", {**MEASUREMENT, "moment": 0})
    chain.refused(chain.coordinator, tid, "follow-ups/not-possible",
                  {"moment": 0, "reason": "refused"}, "follow-up-recorded")
    # another reason needs a note
    chain.in_aftercare(tid)
    chain.refused(chain.aftercare, tid, "follow-ups/not-possible",
                  {"moment": 6, "reason": "other"}, "reason-required")
    chain.ok(chain.aftercare, tid, "follow-ups/not-possible",
             {"moment": 6, "reason": "other", "note": "moved abroad"})


def test_a_closed_file_in_the_caseload_has_only_its_follow_up_and_comes_after_active_girls(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl closed from care without a warm handover 40 days ago, her follow-ups
    # overdue, and a girl in care with nothing overdue yet
    closed = chain.girl()
    chain.ok(chain.coordinator, closed, "closure", {
        **CLOSE, "reason": "own_decision", "destination": "unknown",
        "without_handover": {"reason": "she_refused", "argument": "she left the region"}})
    clock.advance(days=40)
    active = chain.girl()
    # when the caseload is read
    response = chain.coordinator.get("/trajectories")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    rows = {i["id"]: i for i in items}
    # then the closed file carries its follow-up, overdue, and nothing else
    assert [a["code"] for a in rows[closed]["attention"]] == ["follow-up"]
    assert rows[closed]["overdue"] == 1
    assert date.fromisoformat(rows[closed]["next_due_on"]) < chain.today()
    # and it comes after the girl still in care
    order = [i["id"] for i in items]
    assert order.index(active) < order.index(closed)
