"""Outcomes on the pages (issue 15, part 1): the aftercare worker sees the follow-up due on
her handover page and records it with an instrument's scores; the coordinator records
outcomes on a closed file from the girl's page. In Dutch, with no code on the page."""

from __future__ import annotations

from tests.web_support import Page, World
from trajectory.commands import (
    AcceptHandover,
    CloseTrajectory,
    EndAftercare,
    StartAftercare,
)


def _in_aftercare(world: World) -> None:
    tid = world.handed_over
    aftercare = world.actor("aftercare")
    world.app.execute(tid, AcceptHandover(), aftercare)
    world.app.execute(tid, StartAftercare(destination="independent"), aftercare)


def test_the_aftercare_worker_sees_the_follow_up_due_and_records_it_with_scores(
    world: World,
) -> None:
    # given a girl in aftercare with her aftercare worker
    _in_aftercare(world)
    tid = world.handed_over
    with world.browser("aftercare") as b:
        # when she opens the girl's handover page
        page = b.get(f"/app/handovers/{tid}")
        assert page.status_code == 200, page.text
        # then the measurement at the end of care is due, with its forms, in Dutch
        assert "Effectmeting" in page.text
        assert "De meting bij het einde van de zorg" in page.text
        assert f"/trajectories/{tid}/forms/follow-up?moment=0" in page.text
        # when she records it with an instrument's total and subscale scores
        form = b.get(f"/app/trajectories/{tid}/forms/follow-up?moment=0")
        assert form.status_code == 200, form.text
        html = Page.of(form.text)
        assert html.find("input", name="instruments.0.name")
        assert html.find("textarea", name="instruments.0.subscales")
        done = b.submit(f"/app/trajectories/{tid}/forms/follow-up?moment=0", {
            "moment": "0", "living_situation": "independent", "school_or_work": "work",
            "qualification": "starting_qualification", "runaways_since": "0",
            "loverboy_contact": "none",
            "instruments.0.name": "SDQ", "instruments.0.version": "2019",
            "instruments.0.total": "14.5",
            "instruments.0.subscales": "emotioneel: 5\ngedrag: 2",
        }, follow_redirects=False)
        assert done.status_code == 303, done.text
        # then it is recorded with the scores as numbers
        measured = [e for e in world.app.stream(tid) if type(e).__name__ == "FollowUpMeasured"]
        assert len(measured) == 1
        instrument = measured[0].instruments[0]  # type: ignore[attr-defined]
        assert (instrument.name, instrument.total) == ("SDQ", 14.5)
        assert instrument.subscales == {"emotioneel": 5.0, "gedrag": 2.0}
        # and the next moment is due on her page
        page = b.get(f"/app/handovers/{tid}")
        assert "De meting 6 maanden na de zorg" in page.text
    # and her coordinator reads the scores in her history, in words
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{tid}/history")
        assert "Effectmeting vastgelegd" in page.text
        assert "Subschalen: emotioneel: 5, gedrag: 2" in page.text
        assert "Totaalscore: 14,5" in page.text  # a Dutch decimal comma


def test_a_subscale_without_a_score_is_named_beside_its_field(world: World) -> None:
    _in_aftercare(world)
    tid = world.handed_over
    with world.browser("aftercare") as b:
        answer = b.submit(f"/app/trajectories/{tid}/forms/follow-up?moment=0", {
            "moment": "0", "living_situation": "independent", "school_or_work": "work",
            "qualification": "vmbo", "runaways_since": "0", "loverboy_contact": "none",
            "instruments.0.name": "SDQ", "instruments.0.total": "10",
            "instruments.0.subscales": "emotioneel",
        }, follow_redirects=False)
        assert answer.status_code in (400, 422), answer.text
        assert "Schrijf elke subschaal als naam: score." in answer.text


def test_the_coordinator_records_outcomes_on_a_closed_file(world: World) -> None:
    # given a girl whose aftercare ended and whose file is closed
    _in_aftercare(world)
    tid = world.handed_over
    world.app.execute(tid, EndAftercare(reason="plan afgerond"), world.actor("aftercare"))
    world.app.execute(tid, CloseTrajectory(reason="aftercare_completed"),
                      world.actor("coordinator"))
    with world.browser("coordinator") as b:
        # when her coordinator opens her page
        page = b.get(f"/app/trajectories/{tid}")
        assert page.status_code == 200, page.text
        # then the follow-up is due and the outcome forms are offered
        assert "Uitkomsten na afsluiting" in page.text
        assert f"/trajectories/{tid}/forms/revictimisation" in page.text
        # when she reports a revictimisation and that a measurement was not possible
        done = b.submit(f"/app/trajectories/{tid}/forms/revictimisation", {
            "kind": "loverboy_contact", "day_is": "became_known", "known_via": "police",
            "police_involved": "on"}, follow_redirects=False)
        assert done.status_code == 303, done.text
        done = b.submit(f"/app/trajectories/{tid}/forms/follow-up-not-possible?moment=0", {
            "moment": "0", "reason": "not_reached"}, follow_redirects=False)
        assert done.status_code == 303, done.text
        # then both are in her history, in Dutch
        history = b.get(f"/app/trajectories/{tid}/history")
        assert "Herhaald slachtofferschap gemeld" in history.text
        assert "Effectmeting niet mogelijk" in history.text
        page = b.get(f"/app/trajectories/{tid}")
        assert "De meting 6 maanden na de zorg" in page.text
    types = [type(e).__name__ for e in world.app.stream(tid)]
    assert types[-2:] == ["RevictimisationReported", "FollowUpNotPossible"]
    stage = [e for e in world.app.stream(tid) if type(e).__name__ == "RevictimisationReported"]
    assert stage[0].stage == "after_closure"  # type: ignore[attr-defined]
