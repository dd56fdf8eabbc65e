"""The coordinator's pages: her caseload and a logged search by name, intake, the
trajectory page (timeline, caps, history with corrections, as of a day), and forms that
record facts, with the protocol's refusals in plain Dutch and the unmet criteria linked
to the forms that satisfy them."""

from __future__ import annotations

import re

from tests.builders import phase_2_facts, record_all
from tests.web_support import (
    GIRL,
    HANDED_OVER_GIRL,
    OTHER_GIRL,
    Page,
    World,
    csrf_of,
    sqlite_only,
)
from trajectory.commands import ChangePermission, CorrectEntry
from trajectory.web.forms import FORMS

SENTENCE = re.compile(r'class="sentence"[^>]*>([^<]+)<')


def test_the_caseload_shows_her_organisations_girls_most_urgent_first(world: World) -> None:
    with world.browser("coordinator") as b:
        page = b.get("/app/caseload")
        assert page.status_code == 200
        assert GIRL in page.text
        assert HANDED_OVER_GIRL in page.text
        assert OTHER_GIRL not in page.text  # another organisation's girl
        # the girl with overdue items (no safety analysis, education...) comes first
        assert page.text.index(GIRL) < page.text.index(HANDED_OVER_GIRL)
        assert "te laat" in page.text
        assert f"/app/trajectories/{world.girl}/forms/safety-analysis" in page.text
        phase_2 = b.get("/app/caseload?phase=2")
        assert GIRL not in phase_2.text
    assert any(e["action"] == "search" and e["user_id"] == "coordinator" for e in world.access())


def test_a_search_by_name_finds_her_and_is_access_logged(world: World) -> None:
    with world.browser("coordinator") as b:
        found = b.submit("/app/caseload", {"q": "noor"})
        assert found.status_code == 200
        assert GIRL in found.text
        assert HANDED_OVER_GIRL not in found.text
        nothing = b.submit("/app/caseload", {"q": "lina"})  # the other organisation's
        assert OTHER_GIRL not in nothing.text
    searched = [e for e in world.access(world.girl) if e["action"] == "search"]
    # the hit names her; the caseload pages the search came from name her among those shown
    hits = [e for e in searched if e["trajectory_id"] == str(world.girl)]
    assert [(e["user_id"], e["outcome"]) for e in hits] == [("coordinator", "ok")]
    assert all(str(world.girl) in e["shown"] for e in searched if e not in hits)
    assert not [e for e in world.access(world.other_girl) if e["action"] == "search"]
    assert "noor" not in " ".join(str(e).lower() for e in world.access())


@sqlite_only
def test_an_intake_through_the_form_opens_a_trajectory(world: World) -> None:
    with world.browser("coordinator") as b:
        done = b.submit(
            "/app/trajectories/new",
            {
                "intake_date": "2026-02-20",
                "victim_status": "suspected",
                "risk_profiles": ["traumatised", "honour_related"],
                "setting": "residential",
                "referral_source": "politie",
                "legal_framework": "OTS",
                "identity.name": "Fenna Nieuw",
                "identity.date_of_birth": "2011-06-01",
                "identity.home_region": "Zeeland",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        page = b.get(done.headers["location"])
        assert page.status_code == 200
        assert "Fenna Nieuw" in page.text
        assert "Vastgelegd: Aanmelding" in page.text
    opened = [r for r in world.app.index("Stichting Zonnebloem")]
    assert len(opened) == 3


def test_a_fact_recorded_through_its_form_is_in_the_history_and_the_access_log(
    world: World,
) -> None:
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/safety-analysis"
        done = b.submit(
            path,
            {
                "occurred_on": "2026-02-27",
                "instrument": "structured safety analysis",
                "physical_safety": "concerns",
                "experienced_safety": "unsafe",
                "risks": ["internet_social_media", "runaway"],
                "runaway_risk": "high",
                "measures": ["police_involved"],
                "police_involved": "1",
                "notes": "besproken met de politie",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        page = b.get(done.headers["location"])
        assert "Vastgelegd: Veiligheidsanalyse" in page.text
        history = b.get(f"/app/trajectories/{world.girl}/history").text
        assert "Veiligheidsanalyse" in history
        assert "27-2-2026" in history
        assert "internet en sociale media, weglopen" in history
        assert "door Marieke de Graaf" in history
    t = world.app.get(world.girl)
    assert t.version == 2
    assert t.state.has("safety-analysis")
    writes = [e for e in world.access(world.girl) if e["action"] == "write"]
    assert [(e["user_id"], e["outcome"]) for e in writes] == [("coordinator", "ok")]


def test_unsupervised_internet_in_phase_1_is_refused_inline_in_dutch(world: World) -> None:
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/permission?kind=internet"
        form = b.get(path)
        assert 'value="internet" selected' in form.text
        refused = b.submit(path, {"kind": "internet", "level": "free", "reason": "ze vroeg het"})
        assert refused.status_code == 409
        sentence = SENTENCE.search(refused.text)
        assert sentence is not None
        assert sentence.group(1).startswith(
            "In fase 1 is internetgebruik alleen onder toezicht toegestaan"
        )
        assert 'data-rule="phase-permission-cap"' in refused.text
        assert 'value="supervised"' in refused.text  # what the phase allows is offered,
        assert 'value="free"' not in refused.text  # what she asked is named, not offered
        english = b.submit(path + "&lang=en", {"kind": "internet", "level": "free"})
        found = SENTENCE.search(english.text)
        assert found is not None
        assert found.group(1).startswith("In phase 1 internet use is allowed only under")
    assert world.version(world.girl) == 1
    outcomes = [e["outcome"] for e in world.access(world.girl) if e["action"] == "write"]
    assert outcomes == ["refused", "refused"]


@sqlite_only
def test_unmet_criteria_are_listed_with_links_to_the_forms_that_satisfy_them(
    world: World,
) -> None:
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/phase-transition"
        refused = b.submit(path, {"to_phase": "2", "reason": "stabiel"})
        assert refused.status_code == 409
        sentence = SENTENCE.search(refused.text)
        assert sentence is not None
        assert sentence.group(1) == "Nog niet alle voorwaarden voor fase 2 zijn vervuld."
        unmet = re.findall(
            r'<li data-criterion="([^"]+)"><a href="([^"]+)">', refused.text
        )
        assert {code for code, _ in unmet} == {
            "safety-analysis", "medical-assessment", "care-analysis", "treatment-plan",
            "placement", "education",
        }
        for code, link in unmet:
            assert link == f"/app/trajectories/{world.girl}/forms/{code}"
            assert b.get(link).status_code == 200
    assert world.version(world.girl) == 1


@sqlite_only
def test_she_advances_to_phase_2_once_the_criteria_are_met_and_the_timeline_shows_it(
    world: World,
) -> None:
    record_all(world.app, world.girl, phase_2_facts(), world.actor("coordinator"))
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}/timeline")
        assert page.text.count('class="bar phase phase-1"') == 1
        assert 'class="bar phase phase-2"' not in page.text
        done = b.submit(f"/app/trajectories/{world.girl}/forms/phase-transition",
                        {"to_phase": "2", "reason": "stabiel"}, follow_redirects=False)
        assert done.status_code == 303, done.text
        after = b.get(done.headers["location"])
        assert "Fase 2: verwerking" in after.text
        timeline = b.get(f"/app/trajectories/{world.girl}/timeline")
        assert 'class="bar phase phase-2"' in timeline.text
    assert world.app.get(world.girl).state.phase == 2


@sqlite_only
def test_a_criterion_can_be_waived_with_a_justification(world: World) -> None:
    facts = [f for f in phase_2_facts() if type(f).__name__ != "ArrangeEducation"]
    record_all(world.app, world.girl, facts, world.actor("coordinator"))
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/phase-transition"
        form = b.get(path)
        assert 'name="waive.education"' in form.text
        assert 'name="waive.safety-analysis"' not in form.text  # met: nothing to waive
        without = b.submit(path, {"to_phase": "2", "reason": "stabiel",
                                  "waive.education": "1"})
        assert without.status_code == 409
        done = b.submit(path, {"to_phase": "2", "reason": "stabiel", "waive.education": "1",
                               "justification.education": "school start na de vakantie"},
                        follow_redirects=False)
        assert done.status_code == 303, done.text
    assert world.app.get(world.girl).state.phase == 2


@sqlite_only
def test_a_field_that_does_not_fit_is_named_beside_its_input(world: World) -> None:
    with world.browser("coordinator") as b:
        answer = b.submit(f"/app/trajectories/{world.girl}/forms/medical-assessment",
                          {"provider": ""})
        assert answer.status_code == 422
        page = Page.of(answer.text)
        invalid = [e for e in page.elements if e.attrs.get("aria-invalid") == "true"]
        assert invalid
        assert "Dit veld is verplicht." in answer.text
    assert world.version(world.girl) == 1


@sqlite_only
def test_the_trajectory_page_shows_caps_attention_and_history(world: World) -> None:
    world.app.execute(world.girl, ChangePermission(kind="phone", level="supervised",
                                                   reason="afspraak"),
                      world.actor("coordinator"))
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}")
        assert page.status_code == 200
        text = Page.of(page.text).all_text()
        assert "Traject van Noor Verborgen" in text
        assert "Fase 1: stabilisatie" in text
        assert "onder toezicht" in text  # the phone level, and the caps
        assert "veiligheidsanalyse" in text  # an attention item
        history = b.get(f"/app/trajectories/{world.girl}/history").text
        assert "Vrijheid gewijzigd" in history
        timeline = b.get(f"/app/trajectories/{world.girl}/timeline").text
        assert '<svg class="timeline"' in timeline
    assert [e["action"] for e in world.access(world.girl)][-1] == "read"


def test_the_page_as_of_a_day_shows_what_was_known_then(world: World) -> None:
    world.clock.advance(days=1)
    world.app.execute(world.girl, ChangePermission(kind="phone", level="supervised",
                                                   reason="afspraak"),
                      world.actor("coordinator"))
    with world.browser("coordinator") as b:
        earlier = b.get(f"/app/trajectories/{world.girl}/history",
                        params={"as_of": "2026-03-02"})
        assert earlier.status_code == 200
        assert "zoals het bekend was op 2-3-2026" in earlier.text
        assert "Vrijheid gewijzigd" not in earlier.text
        now = b.get(f"/app/trajectories/{world.girl}/history")
        assert "Vrijheid gewijzigd" in now.text
        before = b.get(f"/app/trajectories/{world.girl}", params={"as_of": "2026-02-01"})
        assert before.status_code == 404
        assert "Op 1-2-2026 was dit dossier nog niet vastgelegd." in before.text


@sqlite_only
def test_a_correction_is_shown_beside_what_it_corrects(world: World) -> None:
    record_all(world.app, world.girl, phase_2_facts()[:1], world.actor("coordinator"))
    world.app.execute(world.girl, CorrectEntry(position=2, reason="instrument was SAVRY"),
                      world.actor("coordinator"))
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}/history")
        entry = page.text[page.text.index('id="entry-2"'):]
        entry = entry[: entry.index("</li>")]
        assert "Gecorrigeerd door nr. 3: instrument was SAVRY" in entry
        assert 'href="#entry-2"' in page.text  # the correction points back
        form = b.get(f"/app/trajectories/{world.girl}/forms/correction?position=2")
        assert 'value="2"' in form.text


@sqlite_only
def test_every_form_opens_with_every_input_labelled(world: World) -> None:
    with world.browser("coordinator") as b:
        for spec in FORMS:
            if "coordinator" not in spec.roles:
                continue
            page = b.get(f"/app/trajectories/{world.girl}/forms/{spec.slug}")
            assert page.status_code == 200, spec.slug
            parsed = Page.of(page.text)
            assert not parsed.unlabelled(), (spec.slug, parsed.unlabelled())
            assert not parsed.external_urls(), spec.slug


def test_another_organisations_girl_is_not_found_and_the_attempt_logged(world: World) -> None:
    with world.browser("coordinator") as b:
        for path in (f"/app/trajectories/{world.other_girl}",
                     f"/app/trajectories/{world.other_girl}/forms/safety-analysis"):
            answer = b.get(path)
            assert answer.status_code == 404
            assert OTHER_GIRL not in answer.text
        missing = b.get("/app/trajectories/not-a-uuid")
        assert missing.status_code == 404
    denied = [e for e in world.access(world.other_girl) if e["outcome"] == "denied"]
    assert len(denied) == 2


@sqlite_only
def test_an_aftercare_worker_may_not_open_the_coordinators_pages(world: World) -> None:
    with world.browser("aftercare") as b:
        for path in ("/app/caseload", f"/app/trajectories/{world.handed_over}",
                     f"/app/trajectories/{world.handed_over}/forms/safety-analysis",
                     "/app/quality"):
            assert b.get(path).status_code == 403, path


# -- one write path: the API's input rules, and a form sent twice ------------------------------

INTAKE_FORM = {
    "intake_date": "2026-02-20",
    "victim_status": "suspected",
    "risk_profiles": ["traumatised"],
    "setting": "residential",
    "referral_source": "politie",
    "legal_framework": "OTS",
    "identity.name": "Fenna Nieuw",
    "identity.date_of_birth": "2011-06-01",
    "identity.home_region": "Zeeland",
}
SAFETY_FORM = {
    "occurred_on": "2026-02-27",
    "instrument": "structured safety analysis",
    "physical_safety": "concerns",
    "experienced_safety": "unsafe",
    "runaway_risk": "high",
}
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def field_error(html: str, field_id: str) -> str | None:
    found = re.search(rf'id="{field_id}-error">([^<]+)<', html)
    return found.group(1) if found else None


def key_of(html: str) -> str:
    found = _KEY.search(html)
    assert found is not None, "the form carries no idempotency key"
    return found.group(1)


@sqlite_only
def test_an_intake_dated_before_1900_is_refused_at_its_field_as_the_api_refuses_it(
    world: World,
) -> None:
    # given a signed-in coordinator and the trajectories her organisation has
    opened = len(world.app.index())
    with world.browser("coordinator") as b:
        # when she sends the intake form dated 1850, born in 1850 too
        too_early = {**INTAKE_FORM, "intake_date": "1850-01-01",
                     "identity.date_of_birth": "1850-03-01"}
        refused = b.submit("/app/trajectories/new", too_early)
        # then the page names the first date that does not fit, in Dutch, at its field
        assert refused.status_code == 422, refused.text
        assert field_error(refused.text, "f-intake-date") == "Deze datum ligt vóór 1-1-1900."
        assert 'value="1850-01-01"' in refused.text  # what she typed stays on the form
        # and a date of birth in 1850 alone is named at its own field
        born = b.submit("/app/trajectories/new",
                        {**INTAKE_FORM, "identity.date_of_birth": "1850-03-01"})
        assert born.status_code == 422
        assert field_error(born.text, "f-identity-date-of-birth") == (
            "Deze datum ligt vóór 1-1-1900."
        )
        # and in English with the API's words for the same field
        english = b.submit("/app/trajectories/new?lang=en", too_early)
        assert english.status_code == 422
        assert field_error(english.text, "f-intake-date") == "before 1900-01-01"
    # and nothing was recorded
    assert len(world.app.index()) == opened
    writes = [e for e in world.access() if e["action"] == "write"]
    assert [e["outcome"] for e in writes] == ["rejected", "rejected", "rejected"]


@sqlite_only
def test_a_fact_dated_before_1900_is_refused_at_its_field(world: World) -> None:
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/safety-analysis"
        refused = b.submit(path, {**SAFETY_FORM, "occurred_on": "1899-12-31"})
        assert refused.status_code == 422, refused.text
        assert field_error(refused.text, "f-occurred-on") == "Deze datum ligt vóór 1-1-1900."
    assert world.version(world.girl) == 1


@sqlite_only
def test_a_fact_form_sent_twice_records_the_fact_once_and_answers_alike(world: World) -> None:
    # given the safety analysis form, opened once (one key for this form)
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/safety-analysis"
        form = b.get(path)
        filled = {"csrf_token": csrf_of(form.text), "idempotency_key": key_of(form.text),
                  "expected_version": "1", **SAFETY_FORM}
        # when it is sent twice, as a double click does
        first = b.post(path, filled, follow_redirects=False)
        second = b.post(path, filled, follow_redirects=False)
        # then both answers send her to the same page
        assert first.status_code == 303, first.text
        assert second.status_code == 303, second.text
        assert second.headers["location"] == first.headers["location"]
        # and a form opened again carries a new key
        assert key_of(b.get(path).text) != filled["idempotency_key"]
    # and the fact was recorded once
    assert world.version(world.girl) == 2
    writes = [e["outcome"] for e in world.access(world.girl) if e["action"] == "write"]
    assert writes == ["ok", "replayed"]


@sqlite_only
def test_an_intake_form_sent_twice_opens_one_trajectory(world: World) -> None:
    opened = len(world.app.index())
    with world.browser("coordinator") as b:
        form = b.get("/app/trajectories/new")
        filled = {"csrf_token": csrf_of(form.text), "idempotency_key": key_of(form.text),
                  **INTAKE_FORM}
        first = b.post("/app/trajectories/new", filled, follow_redirects=False)
        second = b.post("/app/trajectories/new", filled, follow_redirects=False)
        assert first.status_code == 303, first.text
        assert second.status_code == 303, second.text
        assert second.headers["location"] == first.headers["location"]
    assert len(world.app.index()) == opened + 1


@sqlite_only
def test_a_form_shown_again_after_a_mistake_keeps_its_key(world: World) -> None:
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/safety-analysis"
        form = b.get(path)
        key = key_of(form.text)
        wrong = b.post(path, {"csrf_token": csrf_of(form.text), "idempotency_key": key,
                              **SAFETY_FORM, "occurred_on": "1850-01-01"})
        assert wrong.status_code == 422
        assert key_of(wrong.text) == key
        done = b.post(path, {"csrf_token": csrf_of(form.text), "idempotency_key": key,
                             **SAFETY_FORM}, follow_redirects=False)
        assert done.status_code == 303, done.text
    assert world.version(world.girl) == 2


@sqlite_only
def test_a_form_sent_again_with_other_values_is_refused_and_then_saved_as_new(
    world: World,
) -> None:
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/safety-analysis"
        form = b.get(path)
        key = key_of(form.text)
        sent = {"csrf_token": csrf_of(form.text), "idempotency_key": key, **SAFETY_FORM}
        assert b.post(path, sent, follow_redirects=False).status_code == 303
        # when the same form (back in the browser) is sent with another value
        changed = b.post(path, {**sent, "runaway_risk": "medium"})
        # then nothing is recorded, she is told why, and the form has a new key
        assert changed.status_code == 422
        assert "al eerder verstuurd en vastgelegd" in changed.text
        assert 'value="medium" selected' in changed.text
        fresh = key_of(changed.text)
        assert fresh != key
        assert world.version(world.girl) == 2
        # and saving it again records it as a fact of its own
        again = b.post(path, {**sent, "runaway_risk": "medium", "idempotency_key": fresh},
                       follow_redirects=False)
        assert again.status_code == 303, again.text
    assert world.version(world.girl) == 3


def test_the_caseload_page_logs_one_entry_naming_every_girl_it_showed(world: World) -> None:
    # given her caseload shows two girls of her organisation (not the other one's)
    before = len(world.access())
    with world.browser("coordinator") as b:
        # when she opens the caseload page
        page = b.get("/app/caseload")
    assert page.status_code == 200
    assert GIRL in page.text
    assert HANDED_OVER_GIRL in page.text
    # then one entry names the girls the page showed, and only those
    new = [e for e in world.access()[before:] if e["action"] == "search"]
    assert len(new) == 1
    (entry,) = new
    shown = set(str(entry["shown"]).split())
    assert str(world.girl) in shown
    assert str(world.other_girl) not in shown
    # and each girl's own log shows that her name was on that page
    for girl in shown:
        mine = [e for e in world.access(girl) if e["entry_id"] == entry["entry_id"]]
        assert [e["shown"] for e in mine] == [str(entry["shown"]).split()]
