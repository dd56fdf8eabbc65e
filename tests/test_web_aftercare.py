"""The aftercare worker's pages: only her handovers, the handover view, accepting the
handover, recording aftercare contacts, and the warning when a girl goes out of view."""

from __future__ import annotations

import re

from tests.builders import left_care
from tests.web_support import HANDED_OVER_GIRL, World, csrf_of, sqlite_only


def test_the_aftercare_worker_sees_only_her_handovers(world: World) -> None:
    short = str(world.handed_over)[:8]
    with world.browser("aftercare") as b:
        listing = b.get("/app/handovers")
        assert listing.status_code == 200
        assert short in listing.text
        assert str(world.girl)[:8] not in listing.text
        page = b.get(f"/app/handovers/{world.handed_over}")
        assert page.status_code == 200
        assert "overdrachtsgesprek gehouden" in page.text
        assert "no contact with prohibited contacts" in page.text  # the safety plan
        # who she is, from the warm handover meeting on; not her file (the medical care)
        assert HANDED_OVER_GIRL in page.text
        assert "Centrum Seksueel Geweld" not in page.text
        assert b.get(f"/app/handovers/{world.girl}").status_code == 404
    with world.browser("aftercare-other") as other:
        assert short not in other.get("/app/handovers").text
        assert other.get(f"/app/handovers/{world.handed_over}").status_code == 404
    reads = [e for e in world.access(world.handed_over) if e["action"] == "read"]
    assert [(e["user_id"], e["outcome"]) for e in reads] == [
        ("aftercare", "ok"), ("aftercare-other", "denied")
    ]


def test_she_accepts_the_handover_starts_aftercare_and_records_a_contact(world: World) -> None:
    tid = world.handed_over
    with world.browser("aftercare") as b:
        page = b.get(f"/app/handovers/{tid}")
        assert "Overdracht aanvaarden" in page.text
        accepted = b.post(
            f"/app/trajectories/{tid}/forms/handover-acceptance",
            {"csrf_token": csrf_of(page.text), "expected_version": str(world.version(tid))},
            follow_redirects=False,
        )
        assert accepted.status_code == 303, accepted.text
        assert accepted.headers["location"].startswith(f"/app/handovers/{tid}")
        after = b.get(accepted.headers["location"])
        assert ">aanvaard<" in after.text
        started = b.submit(f"/app/trajectories/{tid}/forms/aftercare-start",
                           {"plan": "wekelijks bezoek", "destination": "independent"},
                           follow_redirects=False)
        assert started.status_code == 303, started.text
        contact = b.submit(f"/app/trajectories/{tid}/forms/aftercare-contact",
                           {"kind": "visit", "note": "thuisbezoek, gaat goed"},
                           follow_redirects=False)
        assert contact.status_code == 303, contact.text
        view = b.get(f"/app/handovers/{tid}")
        assert "in nazorg" in view.text
        assert "Laatste contact" in view.text
    state = world.app.get(tid).state
    assert state.status == "aftercare"
    assert state.has("aftercare-contact")
    writes = [e for e in world.access(tid) if e["action"] == "write" and e["outcome"] == "ok"]
    assert [e["user_id"] for e in writes] == ["aftercare"] * 3


@sqlite_only
def test_another_worker_cannot_accept_the_handover(world: World) -> None:
    tid = world.handed_over
    version = world.version(tid)
    with world.browser("aftercare-other") as b:
        page = b.get("/app/handovers")
        answer = b.post(f"/app/trajectories/{tid}/forms/handover-acceptance",
                        {"csrf_token": csrf_of(page.text)})
        assert answer.status_code == 404
        assert b.get(f"/app/trajectories/{tid}/forms/safety-analysis").status_code == 403
    assert world.version(tid) == version


@sqlite_only
def test_a_girl_without_contact_for_four_weeks_is_out_of_view(world: World) -> None:
    tid = world.handed_over
    with world.browser("aftercare") as b:
        page = b.get(f"/app/handovers/{tid}")
        b.post(f"/app/trajectories/{tid}/forms/handover-acceptance",
               {"csrf_token": csrf_of(page.text)})
        b.submit(f"/app/trajectories/{tid}/forms/aftercare-start",
                 {"plan": "bezoek", "destination": "independent"})
        assert "uit beeld" not in b.get(f"/app/handovers/{tid}").text
    world.clock.advance(days=29)
    with world.browser("aftercare") as b:
        view = b.get(f"/app/handovers/{tid}")
        assert "Zij dreigt uit beeld te raken" in view.text
        listing = b.get("/app/handovers")
        assert "1 uit beeld" in listing.text


@sqlite_only
def test_accepting_the_handover_with_a_double_click_records_it_once(world: World) -> None:
    # given the handover view with its accept button
    tid = world.handed_over
    version = world.version(tid)
    with world.browser("aftercare") as b:
        page = b.get(f"/app/handovers/{tid}")
        key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
        assert key is not None, "the accept button's form carries no idempotency key"
        sent = {"csrf_token": csrf_of(page.text), "expected_version": str(version),
                "idempotency_key": key.group(1)}
        # when it is pressed twice
        first = b.post(f"/app/trajectories/{tid}/forms/handover-acceptance", sent,
                       follow_redirects=False)
        second = b.post(f"/app/trajectories/{tid}/forms/handover-acceptance", sent,
                        follow_redirects=False)
    # then both answers lead to the same page, and the acceptance is recorded once
    assert first.status_code == second.status_code == 303, second.text
    assert second.headers["location"] == first.headers["location"]
    assert world.version(tid) == version + 1


def test_after_closure_the_handover_page_is_gone_for_her(world: World) -> None:
    # given the aftercare worker, who reads the handover page of the girl handed to her
    with world.browser("aftercare") as b:
        assert b.get(f"/app/handovers/{world.handed_over}").status_code == 200
        # when her coordinator closes the trajectory
        world.app.execute(world.handed_over, left_care("transferred"),
                          world.actor("coordinator"))
        # then the page answers as for a file that does not exist
        assert b.get(f"/app/handovers/{world.handed_over}").status_code == 404


@sqlite_only
def test_the_closure_form_ends_care_without_a_handover_argued_in_its_fieldset(
    world: World,
) -> None:
    # given a girl in care with nothing arranged, and her coordinator at the closure form
    tid = world.girl
    with world.browser("coordinator") as b:
        form = b.get(f"/app/trajectories/{tid}/forms/closure")
        assert 'name="without_handover.argument"' in form.text
        assert 'name="destination"' in form.text
        # when she closes it without arguing the missing handover: refused, nothing recorded
        version = world.version(tid)
        refused = b.submit(f"/app/trajectories/{tid}/forms/closure",
                           {"reason": "own_decision", "destination": "unknown"})
        assert refused.status_code == 409, refused.text
        assert world.version(tid) == version
        # when she argues it in the fieldset: closed, and the girl is out of view
        closed = b.submit(f"/app/trajectories/{tid}/forms/closure", {
            "reason": "own_decision", "destination": "unknown",
            "without_handover.reason": "she_refused",
            "without_handover.argument": "Zij wilde geen overdracht en vertrok.",
        }, follow_redirects=False)
        assert closed.status_code == 303, closed.text
    assert world.app.get(tid).state.left_without_handover_on is not None
