"""Leaving residential care is a decision with a destination (issue 14, part 1).

Every ending of care records where she goes; ending care without a warm handover is
refused unless argued, and then she is out of view at once, until a contact reaches her; a
transfer mid-care needs the handover package like the end of care. Told over real HTTP,
on both stores.
"""

from __future__ import annotations

from uuid import UUID

from tests.api_support import PACKAGE
from tests.chain_support import EXTERNAL, Chain, chain_fixture  # noqa: F401
from tests.conftest import FakeClock
from trajectory.clock import amsterdam_date

ARGUED = {"reason": "left_suddenly", "argument": "She left the group at night and moved in"
          " with an aunt in another region; she refuses any contact with the organisation."}


def test_ending_care_without_a_destination_is_refused_naming_the_field(chain: Chain) -> None:
    # given a girl in care after a warm handover
    tid = chain.girl()
    chain.warm_handover(tid)
    # when care ends (aftercare starts, or the trajectory closes) without saying where she goes
    for sub, body in (("aftercare", {"plan": "weekly"}),
                      ("closure", {"reason": "turned_adult_left_care"})):
        problem = chain.refused(chain.aftercare if sub == "aftercare" else chain.coordinator,
                                tid, sub, body, "destination-required")
        # then the refusal names the field
        assert problem["unmet"] == ["destination"]
        assert "destination" in problem["detail"]
    # and with a destination, aftercare starts
    chain.ok(chain.aftercare, tid, "aftercare", {"plan": "weekly", "destination": "independent"})


def test_leaving_care_without_a_warm_handover_is_refused_unless_argued(chain: Chain) -> None:
    # given a girl in care with nothing arranged
    tid = chain.girl()
    closing = {"reason": "own_decision", "destination": "unknown"}
    # when she is closed without a handover: refused, listing what is missing
    problem = chain.refused(chain.coordinator, tid, "closure", closing, "handover-required")
    assert problem["unmet"] == ["handover-prepared", "handover-meeting", "handover-accepted"]
    assert chain.out_of_view(tid) == []
    # an argument of nothing is no argument
    chain.refused(chain.coordinator, tid, "closure",
                  {**closing, "without_handover": {"reason": "she_refused", "argument": " "}},
                  "without-handover-argument-required")
    # when it is argued, it is recorded, and she is out of view at once
    chain.ok(chain.coordinator, tid, "closure", {**closing, "without_handover": ARGUED})
    state = chain.app.get(UUID(tid)).state
    assert state.status == "closed"
    assert state.destination == "unknown"
    assert state.left_without_handover_on == amsterdam_date(chain.app.clock())
    assert chain.out_of_view(tid) == ["left-without-handover"]


def test_a_transfer_mid_care_needs_the_handover_package(chain: Chain) -> None:
    # given a girl in care, to be transferred to another organisation
    tid = chain.girl()
    transfer = {"reason": "transferred", "destination": "other_youth_care",
                "responsible_next": "Jeugdzorg Elders", "without_handover": ARGUED}
    # when she is transferred without a package: refused, even when argued
    problem = chain.refused(chain.coordinator, tid, "closure", transfer,
                            "handover-package-required")
    assert problem["unmet"] == ["handover-prepared"]
    # when the package is prepared for the external receiver, the argued transfer goes
    chain.ok(chain.coordinator, tid, "handover", {
        "receiving_organisation": "Jeugdzorg Elders", "external_receiver": EXTERNAL,
        "package": PACKAGE})
    chain.ok(chain.coordinator, tid, "closure", transfer)
    assert chain.app.get(UUID(tid)).state.destination == "other_youth_care"


def test_a_transfer_after_a_warm_handover_needs_no_argument(chain: Chain) -> None:
    # given a girl handed over warmly to an external receiver (her coordinator records the
    # receiver's confirmation)
    tid = chain.girl()
    chain.ok(chain.coordinator, tid, "handover", {
        "receiving_organisation": "Jeugdzorg Elders", "external_receiver": EXTERNAL,
        "package": PACKAGE})
    chain.ok(chain.coordinator, tid, "handover/meeting", {
        "girl_present": True, "sending_worker_present": True, "receiving_worker_present": True})
    chain.ok(chain.coordinator, tid, "handover/acceptance",
             {"confirmation": "Confirmed by e-mail from M. de Vries"})
    transfer = {"reason": "transferred", "destination": "other_youth_care"}
    # when an argument for a missing handover is given anyway: refused as pointless
    chain.refused(chain.coordinator, tid, "closure", {**transfer, "without_handover": ARGUED},
                  "without-handover-pointless")
    # and without it the transfer is recorded; she is in view
    chain.ok(chain.coordinator, tid, "closure", transfer)
    assert chain.out_of_view(tid) == []


def test_aftercare_start_after_a_warm_handover_refuses_a_pointless_argument(
    chain: Chain,
) -> None:
    tid = chain.girl()
    chain.warm_handover(tid)
    chain.refused(chain.aftercare, tid, "aftercare",
                  {"destination": "independent", "without_handover": ARGUED},
                  "without-handover-pointless")


def test_aftercare_start_without_a_warm_handover_is_refused(chain: Chain) -> None:
    # given a girl whose handover was prepared but never held warmly
    tid = chain.girl()
    chain.ok(chain.coordinator, tid, "handover", {
        "receiving_organisation": "Nazorg West", "receiving_worker": "after-1",
        "package": PACKAGE})
    # when aftercare would start: the handover is missing (the default protocol's entry
    # criteria for aftercare), argued or not: an argument does not replace them
    for body in ({"destination": "independent"},
                 {"destination": "independent", "without_handover": ARGUED}):
        problem = chain.refused(chain.coordinator, tid, "aftercare", body,
                                "entry-criteria-unmet")
        assert problem["unmet"] == ["handover-meeting", "handover-accepted"]


def test_closing_after_aftercare_keeps_the_destination_of_its_start(chain: Chain) -> None:
    # given a girl in aftercare, who went to live independently
    tid = chain.girl()
    chain.warm_handover(tid)
    chain.ok(chain.aftercare, tid, "aftercare", {"destination": "independent"})
    chain.ok(chain.aftercare, tid, "aftercare/end", {"reason": "stable"})
    # when the trajectory is closed without a destination: the one recorded stands
    chain.ok(chain.coordinator, tid, "closure", {"reason": "aftercare_completed"})
    assert chain.app.get(UUID(tid)).state.destination == "independent"


def test_a_girl_closed_without_a_handover_is_out_of_view_until_a_contact_reaches_her(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl who left care without a handover (argued)
    tid = chain.girl()
    chain.ok(chain.coordinator, tid, "closure",
             {"reason": "own_decision", "destination": "unknown", "without_handover": ARGUED})
    clock.advance(days=3)
    # when her coordinator tries to reach her and does not: she stays out of view
    chain.ok(chain.coordinator, tid, "aftercare-contacts",
             {"channel": "phone", "outcome": "not_reached", "note": "no answer"})
    assert chain.out_of_view(tid) == ["left-without-handover"]
    # when a contact reaches her: she is in view again
    chain.ok(chain.coordinator, tid, "aftercare-contacts",
             {"channel": "visit", "outcome": "reached", "note": "met her at her aunt's"})
    assert chain.out_of_view(tid) == []
    # and a closed file takes no more contacts once she is in view
    chain.refused(chain.coordinator, tid, "aftercare-contacts",
                  {"channel": "phone", "outcome": "reached"}, "trajectory-closed")


def test_a_girl_closed_with_a_handover_takes_no_aftercare_contact(chain: Chain) -> None:
    tid = chain.girl()
    chain.warm_handover(tid)
    chain.ok(chain.coordinator, tid, "closure",
             {"reason": "turned_adult_left_care", "destination": "adult_care"})
    chain.refused(chain.coordinator, tid, "aftercare-contacts",
                  {"channel": "phone", "outcome": "reached"}, "trajectory-closed")
