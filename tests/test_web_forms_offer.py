"""Forms that only offer what can apply: the permission levels of her kind within the
phase's cap, only the next phase with the waivers that work, one police question in the
safety analysis, the runaway's time, report number and who was told, required markers
exactly where the server requires a value, and every error at its field."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.builders import phase_2_facts, record_all
from tests.live import Live, live_server
from tests.web_support import Element, Page, World, csrf_of, sqlite_only
from trajectory.aggregates.events.runaway import RunawayReported
from trajectory.application import TrajectoryApplication
from trajectory.commands import ChangePermission, RecordSafetyAnalysis, ReportRunaway
from trajectory.web.forms import FORMS


def options_of(html: str, name: str) -> list[str]:
    """The values a select offers (the empty "choose" option left out)."""
    found = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert found is not None, f"no select {name}"
    return [v for v in re.findall(r'<option value="([^"]*)"', found.group(1)) if v]


def invalid_names(html: str) -> set[str]:
    """The names of the inputs marked invalid (a group of checkboxes: its fieldset's id)."""
    page = Page.of(html)
    names = set()
    for e in page.elements:
        if e.attrs.get("aria-invalid") == "true":
            names.add(e.attrs.get("name") or e.attrs.get("data-name") or e.attrs["id"])
    return names


def required_names(html: str) -> set[str]:
    """The names of the inputs the form marks as required (a fieldset by data-name)."""
    page = Page.of(html)
    names = set()
    for e in page.elements:
        if e.tag in ("input", "select", "textarea") and "required" in e.attrs:
            names.add(e.attrs["name"])
        if e.tag == "fieldset" and e.attrs.get("data-required") == "true":
            names.add(e.attrs["data-name"])
    return names


def error_beside(html: str, element: Element) -> str:
    """The message an invalid input points at with aria-describedby."""
    ids = element.attrs.get("aria-describedby", "").split()
    for i in ids:
        found = re.search(rf'id="{re.escape(i)}"[^>]*>([^<]+)<', html)
        if found and i.endswith("-error"):
            return found.group(1)
    raise AssertionError(f"no error beside {element.attrs}")


# -- permissions (review M1) --------------------------------------------------------------


@sqlite_only
def test_the_permission_form_offers_only_her_kinds_levels_within_the_phase_cap(
    world: World,
) -> None:
    with world.browser("coordinator") as b:
        internet = b.get(f"/app/trajectories/{world.girl}/forms/permission?kind=internet")
        assert options_of(internet.text, "level") == ["none", "supervised"]
        assert options_of(internet.text, "kind") == ["internet"]
        assert "Maximum in fase 1: onder toezicht" in internet.text
        assert "Nu: geen" in internet.text
        leave = b.get(f"/app/trajectories/{world.girl}/forms/permission?kind=leave")
        assert options_of(leave.text, "level") == ["none", "accompanied"]
        # Opened without a kind: each kind's levels under its own heading, within its cap.
        every = b.get(f"/app/trajectories/{world.girl}/forms/permission")
        groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', every.text, re.S)
        offered = {label: re.findall(r'value="([^"]+)"', body) for label, body in groups}
        assert offered["internet"] == ["none", "supervised"]
        assert offered["verlof"] == ["none", "accompanied"]
        assert "free" not in offered["telefoon"]
        # Above the cap is still refused below the form, as before.
        refused = b.submit(f"/app/trajectories/{world.girl}/forms/permission?kind=internet",
                           {"kind": "internet", "level": "free"})
        assert refused.status_code == 409
    world.app.execute(world.girl, ChangePermission(kind="internet", level="supervised"),
                      world.actor("coordinator"))
    with world.browser("coordinator") as b:
        now = b.get(f"/app/trajectories/{world.girl}/forms/permission?kind=internet")
        assert "Nu: onder toezicht" in now.text


# -- phase transition (review M2) ---------------------------------------------------------


@sqlite_only
def test_the_phase_form_offers_only_the_next_phase_and_links_each_unmet_criterion(
    world: World,
) -> None:
    with world.browser("coordinator") as b:
        form = b.get(f"/app/trajectories/{world.girl}/forms/phase-transition")
        assert options_of(form.text, "to_phase") == ["2"]
        unmet = re.findall(
            r'<div class="waiver unmet" data-criterion="([^"]+)">.*?<a href="([^"]+)"',
            form.text, re.S,
        )
        assert {code for code, _ in unmet} >= {"safety-analysis", "education"}
        for code, link in unmet:
            assert link == f"/app/trajectories/{world.girl}/forms/{code}"


@sqlite_only
def test_a_waiver_without_justification_is_refused_at_its_justification(world: World) -> None:
    facts = [f for f in phase_2_facts() if type(f).__name__ != "ArrangeEducation"]
    record_all(world.app, world.girl, facts, world.actor("coordinator"))
    path = f"/app/trajectories/{world.girl}/forms/phase-transition"
    with world.browser("coordinator") as b:
        form = b.get(path)
        assert "Voorwaarden buiten beschouwing laten" in form.text
        without = b.submit(path, {"to_phase": "2", "reason": "stabiel", "waive.education": "1"})
        assert without.status_code == 409
        page = Page.of(without.text)
        (field,) = page.find("textarea", name="justification.education")
        assert field.attrs.get("aria-invalid") == "true"
        assert error_beside(without.text, field)
        assert 'href="#just-education"' in without.text
        assert 'name="waive.education" value="1" checked' in without.text
    assert world.app.get(world.girl).state.phase == 1  # (with one: test_web_care)


@sqlite_only
def test_the_waiver_hint_shows_only_beside_waiver_controls(world: World) -> None:
    record_all(world.app, world.girl, phase_2_facts(), world.actor("coordinator"))
    world.clock.advance(days=40)
    with world.browser("coordinator") as b:
        form = b.get(f"/app/trajectories/{world.girl}/forms/phase-transition")
        assert 'name="waive.' not in form.text
        assert "Voorwaarden buiten beschouwing laten" not in form.text


# -- the safety analysis (review M3) ------------------------------------------------------


@sqlite_only
def test_the_safety_analysis_asks_about_police_once_and_names_every_missing_field(
    world: World,
) -> None:
    path = f"/app/trajectories/{world.girl}/forms/safety-analysis"
    with world.browser("coordinator") as b:
        form = b.get(path)
        assert 'value="police_involved"' not in form.text
        assert form.text.count('name="police_involved"') == 1
        empty = b.submit(path, {})
        assert empty.status_code == 422
        assert invalid_names(empty.text) == {
            "instrument", "physical_safety", "experienced_safety", "runaway_risk"
        }
        assert "Controleer de gemarkeerde velden" in empty.text
        for name in ("instrument", "physical_safety", "experienced_safety", "runaway_risk"):
            assert f'href="#f-{name.replace("_", "-")}"' in empty.text
    assert world.version(world.girl) == 1


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def test_a_police_measure_beside_no_police_is_refused_below_every_entry_point(
    live: Live, app: TrajectoryApplication
) -> None:
    from tests.api_support import INTAKE

    http = live.client(live.token("coordinator", "coordinator", "org-a", user_id="coord-1"))
    try:
        tid = http.post("/trajectories", json=INTAKE).json()["id"]
        body = {"instrument": "structured", "physical_safety": "concerns",
                "experienced_safety": "unsafe", "runaway_risk": "high",
                "measures": ["police_involved"], "police_involved": False}
        refused = http.post(f"/trajectories/{tid}/safety-analyses", json=body)
        assert refused.status_code == 409, refused.text
        assert refused.json()["rule"] == "police-involvement-contradicted"
        agreed = http.post(f"/trajectories/{tid}/safety-analyses",
                           json={**body, "police_involved": True})
        assert agreed.status_code == 201, agreed.text
    finally:
        http.close()


def test_the_contradiction_is_refused_by_the_command_too(
    app: TrajectoryApplication,
) -> None:
    from tests.builders import COORDINATOR, intake
    from trajectory.aggregates.errors import RuleRefused

    tid = app.open_trajectory(intake(), COORDINATOR).trajectory_id
    with pytest.raises(RuleRefused) as refused:
        app.execute(tid, RecordSafetyAnalysis(
            instrument="structured", physical_safety="safe", experienced_safety="safe",
            runaway_risk="low", measures=["police_involved"], police_involved=False,
        ), COORDINATOR)
    assert refused.value.code == "police-involvement-contradicted"
    assert app.current_version(tid) == 1


# -- the runaway (review M4) --------------------------------------------------------------


@sqlite_only
def test_a_runaway_is_reported_with_its_time_report_number_and_who_was_told(
    world: World,
) -> None:
    path = f"/app/trajectories/{world.girl}/forms/runaway"
    with world.browser("coordinator") as b:
        form = b.get(path)
        assert 'name="missing_since"' in form.text
        assert 'name="police_report_number"' in form.text
        assert set(re.findall(r'name="informed" value="([^"]+)"', form.text)) == {
            "parents", "guardian", "gi", "police", "other"
        }
        bad = b.submit(path, {"from_where": "school", "police_report_number": "<script>"})
        assert bad.status_code == 422
        assert invalid_names(bad.text) == {"police_report_number"}
        done = b.submit(path, {"from_where": "school", "missing_since": "21:30",
                               "police_report_number": "PL0900-2026123456",
                               "informed": ["parents", "police"]}, follow_redirects=False)
        assert done.status_code == 303, done.text
        history = b.get(f"/app/trajectories/{world.girl}/history")
        assert "PL0900-2026123456" in history.text
        assert "21:30" in history.text
    (reported,) = [e for e in world.app.stream(world.girl) if isinstance(e, RunawayReported)]
    assert reported.missing_since == "21:30"
    assert reported.police_report_number == "PL0900-2026123456"
    assert reported.informed == ("parents", "police")


def test_the_runaway_command_takes_the_new_fields_with_defaults() -> None:
    plain = ReportRunaway(from_where="school")
    assert plain.missing_since == ""
    assert plain.police_report_number == ""
    assert plain.informed == []


@sqlite_only
def test_the_return_form_asks_the_time_of_return(world: World) -> None:
    world.app.execute(world.girl, ReportRunaway(from_where="school"), world.actor("coordinator"))
    with world.browser("coordinator") as b:
        form = b.get(f"/app/trajectories/{world.girl}/forms/runaway-return")
        assert form.status_code == 200, form.text
        assert 'name="returned_at"' in form.text


# -- required markers and errors at their fields (review H3) -----------------------------


@sqlite_only
@pytest.mark.parametrize("who", ["coordinator", "aftercare"])
def test_every_form_marks_required_exactly_what_an_empty_submit_refuses(
    world: World, who: str
) -> None:
    girl = world.girl if who == "coordinator" else world.handed_over
    with world.browser(who) as b:
        for spec in FORMS:
            if who not in spec.roles:
                continue
            path = f"/app/trajectories/{girl}/forms/{spec.slug}"
            form = b.get(path)
            assert form.status_code == 200, (spec.slug, form.text)
            marked = required_names(form.text)
            answer = b.post(path, {"csrf_token": csrf_of(form.text)})
            refused = invalid_names(answer.text) if answer.status_code == 422 else set()
            assert marked == refused, (spec.slug, marked, refused)
            page = Page.of(answer.text)
            tops = [e for e in page.find("a") if e.attrs.get("href", "").startswith("#f-")]
            assert len(tops) == len(refused), spec.slug
            # Filled in only where marked, decoding refuses no field left empty (a rule
            # may still ask for one on a condition, as a 409: a reason for "other").
            filled = b.post(path, {"csrf_token": csrf_of(form.text),
                                   **marked_filled_in(form.text)})
            unmarked = invalid_names(filled.text) - marked if filled.status_code == 422 else set()
            assert not unmarked, (spec.slug, unmarked)


def marked_filled_in(html: str) -> dict[str, str | list[str]]:
    """A plausible value for every field the form marks required (and no other)."""
    values: dict[str, str | list[str]] = {}
    for name in required_names(html):
        select = re.search(rf'<select[^>]*name="{re.escape(name)}"', html)
        checks = re.findall(rf'name="{re.escape(name)}" value="([^"]+)"', html)
        kind = re.search(rf'<input type="(\w+)"[^>]*name="{re.escape(name)}"', html)
        if select:
            values[name] = options_of(html, name)[0] if options_of(html, name) else ""
        elif checks:
            values[name] = checks[:1]
        elif kind and kind.group(1) == "date":
            values[name] = "2026-03-02"
        elif kind and kind.group(1) == "number":
            values[name] = "1"
        else:
            values[name] = "psycholoog\nmaatschappelijk werker"
    return values


@sqlite_only
def test_the_handover_package_fields_are_required_and_refused_at_each(world: World) -> None:
    path = f"/app/trajectories/{world.girl}/forms/handover"
    with world.browser("coordinator") as b:
        form = b.get(path)
        marked = required_names(form.text)
        assert {"package.sexual_development", "package.loverboy_problem",
                "package.safety_plan", "package.aftercare_plan"} <= marked
        answer = b.submit(path, {"receiving_organisation": "Nazorg Westhoek",
                                 "receiving_worker": "aftercare",
                                 "package.sexual_development": "leeftijdsadequaat"})
        assert answer.status_code == 422, answer.text
        assert invalid_names(answer.text) == {
            "package.loverboy_problem", "package.safety_plan", "package.aftercare_plan"
        }


@sqlite_only
def test_one_discipline_is_refused_at_the_disciplines(world: World) -> None:
    path = f"/app/trajectories/{world.girl}/forms/care-analysis"
    with world.browser("coordinator") as b:
        form = b.get(path)
        assert "disciplines" in required_names(form.text)
        assert "Eén per regel; ten minste 2." in form.text
        answer = b.submit(path, {"disciplines": "psycholoog"})
        assert answer.status_code in (409, 422)
        assert invalid_names(answer.text) == {"disciplines"}
        assert 'href="#f-disciplines"' in answer.text


INTAKE_FORM = {
    "intake_date": "2026-02-20", "victim_status": "suspected",
    "risk_profiles": ["traumatised"], "setting": "residential", "referral_source": "politie",
    "legal_framework": "OTS", "identity.name": "Fenna Nieuw",
    "identity.date_of_birth": "2011-06-01", "identity.home_region": "Zeeland",
}


@sqlite_only
def test_a_refusal_of_a_nested_field_lands_on_its_input(world: World) -> None:
    with world.browser("coordinator") as b:
        # Refused by the write path (a date before 1900), named `identity.date_of_birth`.
        early = b.submit("/app/trajectories/new",
                         {**INTAKE_FORM, "identity.date_of_birth": "1850-01-01"})
        assert early.status_code == 422, early.text
        assert invalid_names(early.text) == {"identity.date_of_birth"}
        (born,) = Page.of(early.text).find("input", name="identity.date_of_birth")
        assert error_beside(early.text, born)
        assert 'href="#f-identity-date-of-birth"' in early.text
        # Refused by a rule of the domain, naming the field.
        later = b.submit("/app/trajectories/new",
                         {**INTAKE_FORM, "identity.date_of_birth": "2026-03-01"})
        assert invalid_names(later.text) == {"identity.date_of_birth"}
        # A row of the people around her, named by its number.
        path = f"/app/trajectories/{world.girl}/forms/handover"
        party = b.submit(path, {
            "receiving_organisation": "Nazorg Westhoek", "receiving_worker": "aftercare",
            "package.sexual_development": "leeftijdsadequaat",
            "package.loverboy_problem": "loverboyproblematiek bevestigd",
            "package.safety_plan": "geen contact met verboden contacten",
            "package.aftercare_plan": "wekelijks bezoek", "parties.1.role": "school",
        })
        assert invalid_names(party.text) == {"parties.1.name"}
        assert 'href="#f-parties-1-name"' in party.text


def test_the_api_takes_the_runaways_new_fields_as_optional(live: Live) -> None:
    from tests.api_support import INTAKE

    http = live.client(live.token("coordinator", "coordinator", "org-a", user_id="coord-1"))
    try:
        tid = http.post("/trajectories", json=INTAKE).json()["id"]
        bad = http.post(f"/trajectories/{tid}/runaways",
                        json={"from_where": "school", "police_report_number": "12 34; drop"})
        assert bad.status_code == 422, bad.text
        assert "police_report_number" in bad.text
        late = http.post(f"/trajectories/{tid}/runaways",
                         json={"from_where": "school", "missing_since": "25:00"})
        assert late.status_code == 422, late.text
        done = http.post(f"/trajectories/{tid}/runaways", json={
            "from_where": "school", "missing_since": "21:30",
            "police_report_number": "PL0900-2026123456", "informed": ["guardian", "gi"]})
        assert done.status_code == 201, done.text
        back = http.post(f"/trajectories/{tid}/runaways/return",
                         json={"ending": "found", "returned_at": "06:15"})
        assert back.status_code == 201, back.text
        events = http.get(f"/trajectories/{tid}/events").json()
        text = str(events)
        assert "PL0900-2026123456" in text
        assert "06:15" in text
    finally:
        http.close()


@sqlite_only
def test_a_permission_form_sent_again_offers_the_same_levels(world: World) -> None:
    path = f"/app/trajectories/{world.girl}/forms/permission?kind=internet"
    with world.browser("coordinator") as b:
        form = b.get(path)
        (action,) = [e.attrs["action"] for e in Page.of(form.text).find("form")
                     if "/forms/" in e.attrs.get("action", "")]
        assert action.endswith("/forms/permission?kind=internet")
        again = b.post(action, {"csrf_token": csrf_of(form.text), "kind": "internet"})
        assert again.status_code == 422
        assert options_of(again.text, "level") == ["none", "supervised"]
