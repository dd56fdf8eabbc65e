"""The rules of the chain after care (issue 14, parts 2, 5, 7 and 8): the handover goes to
a real aftercare worker of this installation or to a named external receiver; only a
contact that reached her counts; the decision on care after 18 is due six months before
her birthday; a runaway in aftercare is recorded, and its checks block a phase advance and
the end of care. Over real HTTP, on both stores.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from tests.api_support import PACKAGE
from tests.builders import COORDINATOR, phase_2_facts
from tests.chain_support import EXTERNAL, Chain, chain_fixture  # noqa: F401
from tests.conftest import FakeClock

RUNAWAY_CHECKS = ["medical-after-runaway", "safety-after-runaway"]
SAFETY = {"instrument": "structured", "physical_safety": "concerns",
          "experienced_safety": "unsafe", "risks": ["internet_social_media"],
          "runaway_risk": "high", "measures": ["police_involved"], "police_involved": True}
MEDICAL = {"needs": ["sti_test"], "provider": "Centrum Seksueel Geweld"}


# -- the handover goes to someone ------------------------------------------------------------


def test_the_receiving_worker_is_an_active_aftercare_worker_of_this_installation(
    chain: Chain,
) -> None:
    # given a coordinator, another aftercare worker who left, and a girl in care
    users = chain.live.services.users
    users.add(name="Bea Vertrokken", role="aftercare", organisation="Nazorg West",
              now=chain.app.clock(), user_id="after-gone")
    users.revoke("Bea Vertrokken", chain.app.clock())
    tid = chain.girl()

    def handover(worker: str) -> dict[str, Any]:
        return {"receiving_organisation": "Nazorg West", "receiving_worker": worker,
                "package": PACKAGE}

    # when the handover names her by her name, a made-up id, a revoked worker or a
    # coordinator: refused, and nothing recorded
    before = chain.app.current_version(UUID(tid))
    for worker in ("Anna Nazorg", "after-999", "after-gone", COORDINATOR.user_id):
        chain.refused(chain.coordinator, tid, "handover", handover(worker),
                      "receiving-worker-unknown")
    assert chain.app.current_version(UUID(tid)) == before
    # then her id, as the list of aftercare workers gives it, is accepted
    chain.ok(chain.coordinator, tid, "handover", handover("after-1"))


def test_a_handover_goes_to_exactly_one_receiver(chain: Chain) -> None:
    tid = chain.girl()
    base = {"receiving_organisation": "Jeugdzorg Elders", "package": PACKAGE}
    chain.refused(chain.coordinator, tid, "handover", base, "receiver-required")
    chain.refused(chain.coordinator, tid, "handover",
                  {**base, "receiving_worker": "after-1", "external_receiver": EXTERNAL},
                  "receiver-ambiguous")
    chain.refused(chain.coordinator, tid, "handover",
                  {**base, "external_receiver": {**EXTERNAL, "worker": "  "}},
                  "external-receiver-incomplete")
    chain.ok(chain.coordinator, tid, "handover", {**base, "external_receiver": EXTERNAL})


def test_an_external_receivers_acceptance_is_her_coordinators_record_of_its_confirmation(
    chain: Chain,
) -> None:
    # given a warm handover meeting with a receiver outside this installation
    tid = chain.girl()
    chain.ok(chain.coordinator, tid, "handover", {
        "receiving_organisation": "Jeugdzorg Elders", "external_receiver": EXTERNAL,
        "package": PACKAGE})
    chain.ok(chain.coordinator, tid, "handover/meeting", {
        "girl_present": True, "sending_worker_present": True, "receiving_worker_present": True})
    # when her coordinator records the acceptance without saying how it was confirmed
    chain.refused(chain.coordinator, tid, "handover/acceptance", {},
                  "handover-confirmation-required")
    # then with the confirmation it is recorded
    chain.ok(chain.coordinator, tid, "handover/acceptance",
             {"confirmation": "by e-mail from M. de Vries"})
    assert chain.app.get(UUID(tid)).state.has("handover-accepted")


def test_a_coordinator_does_not_accept_for_a_worker_of_this_installation(chain: Chain) -> None:
    tid = chain.girl()
    chain.ok(chain.coordinator, tid, "handover", {
        "receiving_organisation": "Nazorg West", "receiving_worker": "after-1",
        "package": PACKAGE})
    chain.ok(chain.coordinator, tid, "handover/meeting", {
        "girl_present": True, "sending_worker_present": True, "receiving_worker_present": True})
    chain.refused(chain.coordinator, tid, "handover/acceptance", {"confirmation": "by phone"},
                  "handover-wrong-receiver")


# -- contacts with an outcome ----------------------------------------------------------------


def test_a_contact_that_did_not_reach_her_leaves_her_overdue_and_then_out_of_view(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl in aftercare with weekly contact agreed in the package
    tid = chain.girl()
    chain.in_aftercare(tid, {**PACKAGE, "contact_every_days": 7})
    started = chain.today()
    assert chain.attention(tid)["aftercare-contact"]["due_on"] == str(started + timedelta(7))
    # when eight days pass and a message is not answered
    clock.advance(days=8)
    chain.ok(chain.aftercare, tid, "aftercare-contacts",
             {"channel": "message", "outcome": "not_reached", "note": "WhatsApp, no reply"})
    # then the contact is still overdue (the interval is the package's week)
    item = chain.attention(tid)["aftercare-contact"]
    assert item == {"code": "aftercare-contact", "due_on": str(started + timedelta(7)),
                    "overdue": True}
    assert chain.out_of_view(tid) == ["aftercare-contact-overdue"]
    # when two more attempts fail (the protocol's three)
    for channel in ("phone", "visit"):
        chain.ok(chain.aftercare, tid, "aftercare-contacts",
                 {"channel": channel, "outcome": "not_reached"})
    # then she is out of view for the failed attempts too
    assert set(chain.out_of_view(tid)) == {"aftercare-contact-overdue", "contact-attempts-failed"}
    # when a contact reaches her, she is in view, and the next is due a week later
    chain.ok(chain.aftercare, tid, "aftercare-contacts", {"channel": "video", "outcome": "reached"})
    assert chain.out_of_view(tid) == []
    assert chain.attention(tid)["aftercare-contact"]["due_on"] == str(
        chain.today() + timedelta(7))


# -- turning 18 ---------------------------------------------------------------------------------


def eighteen_in(today: date, days: int) -> date:
    """A date of birth whose 18th birthday is `days` from `today`."""
    birthday = today + timedelta(days=days)
    return birthday.replace(year=birthday.year - 18)


def test_the_continuation_after_18_is_due_six_months_before_her_birthday(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl in care who turns 18 in 200 days
    tid = chain.girl(eighteen_in(chain.today(), 200))
    birthday = chain.today() + timedelta(days=200)
    assert "continuation-after-18" not in chain.attention(tid)
    # when six months before her birthday come
    clock.advance(days=200 - 183)
    # then the decision is on her attention list, due on her birthday
    item = chain.attention(tid)["continuation-after-18"]
    assert item == {"code": "continuation-after-18", "due_on": str(birthday), "overdue": False}
    # a refusal of her own needs its argument
    chain.refused(chain.coordinator, tid, "continuation-after-18", {"decision": "refused"},
                  "continuation-argument-required")
    # when the decision is recorded, the item is gone
    chain.ok(chain.coordinator, tid, "continuation-after-18",
             {"decision": "extended_youth_care", "argument": "verlengde jeugdhulp tot 21"})
    assert "continuation-after-18" not in chain.attention(tid)


def test_in_aftercare_the_continuation_item_stays_and_aftercare_goes_on_after_18(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl in aftercare who turns 18 in 30 days, with nothing decided
    tid = chain.girl(eighteen_in(chain.today(), 30))
    chain.in_aftercare(tid)
    assert "continuation-after-18" in chain.attention(tid)
    # when she turns 18 and more
    clock.advance(days=40)
    # then the item is overdue, and her aftercare goes on: contacts, details, the decision
    assert chain.attention(tid)["continuation-after-18"]["overdue"] is True
    chain.ok(chain.aftercare, tid, "aftercare-contacts", {"channel": "visit"})
    chain.ok(chain.aftercare, tid, "aftercare/contact-details",
             {"phone": "06-12345678", "address": "Kerkstraat 1, Utrecht"})
    chain.ok(chain.aftercare, tid, "continuation-after-18",
             {"decision": "aftercare_by_organisation"})
    assert "continuation-after-18" not in chain.attention(tid)


# -- after a runaway ----------------------------------------------------------------------------


def test_a_runaway_in_aftercare_is_recorded_and_its_checks_block_the_end_of_care(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl in aftercare
    tid = chain.girl()
    chain.in_aftercare(tid)
    # when she runs away and returns (the aftercare worker records it)
    chain.ok(chain.aftercare, tid, "runaways", {"from_where": "her flat"})
    clock.advance(days=3)
    chain.ok(chain.aftercare, tid, "runaways/return", {"ending": "returned"})
    # then the medical assessment and the new safety analysis are on her list, in aftercare
    attention = chain.attention(tid)
    assert set(RUNAWAY_CHECKS) <= set(attention)
    # and closing is refused until they are done (or waived with a justification)
    closing = {"reason": "aftercare_completed"}
    problem = chain.refused(chain.coordinator, tid, "closure", closing, "entry-criteria-unmet")
    assert problem["unmet"] == RUNAWAY_CHECKS
    chain.refused(chain.coordinator, tid, "closure", {**closing, "waivers": [
        {"criterion": "medical-after-runaway", "justification": " "}]}, "waiver-invalid")
    # when both are recorded in aftercare, the list is clear and closing goes
    chain.ok(chain.coordinator, tid, "medical-assessments", MEDICAL)
    chain.ok(chain.coordinator, tid, "safety-analyses", SAFETY)
    assert not set(RUNAWAY_CHECKS) & set(chain.attention(tid))
    chain.ok(chain.coordinator, tid, "closure", closing)


def test_the_checks_after_a_runaway_block_a_phase_advance_and_aftercare_unless_waived(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl with everything for phase 2, who ran away and returned
    tid = chain.girl()
    for command in phase_2_facts():
        chain.app.execute(UUID(tid), command, COORDINATOR)
    clock.advance(days=30)
    chain.ok(chain.coordinator, tid, "runaways", {"from_where": "school"})
    chain.ok(chain.coordinator, tid, "runaways/return", {"ending": "found"})
    # when she would advance: both checks are unmet
    problem = chain.refused(chain.coordinator, tid, "phase-transitions",
                            {"to_phase": 2, "reason": "stable"}, "entry-criteria-unmet")
    assert problem["unmet"] == RUNAWAY_CHECKS
    # then waived with a justification, the advance goes
    chain.ok(chain.coordinator, tid, "phase-transitions", {
        "to_phase": 2, "reason": "stable",
        "waivers": [{"criterion": c, "justification": "assessed by the GP the same night"}
                    for c in RUNAWAY_CHECKS]})
    # and the end of care asks them again, unless waived there too
    chain.ok(chain.coordinator, tid, "handover", {
        "receiving_organisation": "Nazorg West", "receiving_worker": "after-1",
        "package": PACKAGE})
    chain.ok(chain.coordinator, tid, "handover/meeting", {
        "girl_present": True, "sending_worker_present": True, "receiving_worker_present": True})
    chain.ok(chain.aftercare, tid, "handover/acceptance", {})
    start = {"destination": "supported_housing"}
    problem = chain.refused(chain.aftercare, tid, "aftercare", start, "entry-criteria-unmet")
    assert problem["unmet"] == RUNAWAY_CHECKS
    # a handover criterion is not waived at the end of care: argued `without_handover` is
    # the way, on closure
    chain.refused(chain.aftercare, tid, "aftercare", {**start, "waivers": [
        {"criterion": "handover-accepted", "justification": "x"}]}, "waiver-invalid")
    chain.ok(chain.aftercare, tid, "aftercare", {**start, "waivers": [
        {"criterion": c, "justification": "done by the GP"} for c in RUNAWAY_CHECKS]})
