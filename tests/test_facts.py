"""The list of facts and everything read from it agree: the routes, the web forms, the
core-element mapping, the timeline lanes, the research coding and the aggregate's paths.

A fact added to the list shows up everywhere at once; these tests make sure nothing keeps
a list of its own that could fall behind.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from litestar.routes import HTTPRoute

from trajectory import commands as c
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.trajectory import HANDLERS
from trajectory.api.app import create_app
from trajectory.application import TrajectoryApplication
from trajectory.composition.http import build_services
from trajectory.facts import EXCHANGE_FACTS, FACTS, Evidence, EvidenceByKind, Fact
from trajectory.projections.core_elements import BY_KIND, ELEMENTS, EVIDENCE
from trajectory.research.coding import event_classes
from trajectory.web import forms
from trajectory.web.i18n import Translator
from trajectory.web.timeline import LANES

FIELDS_EVERY_EVENT_HAS = {f.name for f in dataclasses.fields(TrajectoryEvent)} | {
    "originator_id", "originator_version", "originator_topic", "timestamp",
}


def event_fields(event: type[TrajectoryEvent]) -> list[str]:
    return [f.name for f in dataclasses.fields(event) if f.name not in FIELDS_EVERY_EVENT_HAS]


def route_path(fact: Fact) -> str:
    path = fact.path.replace("{contact_id}", "{contact_id:str}").replace("{kind}", "{kind:str}")
    return f"/trajectories/{{trajectory_id:str}}/{path}"


def test_every_command_is_in_the_list_once() -> None:
    declared = {
        cls for cls in vars(c).values()
        if inspect.isclass(cls) and issubclass(cls, c.Command) and cls is not c.Command
    }
    # (the exchange's facts are recorded by the exchange only: no route, no form)
    assert declared == {fact.command for fact in FACTS} | set(EXCHANGE_FACTS)
    assert len({fact.path for fact in FACTS}) == len(FACTS)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_fact_has_its_route_with_its_roles_and_title(app: TrajectoryApplication) -> None:
    handlers = {
        (method, route.path): handler
        for route in create_app(build_services(app)).routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
    }
    for fact in FACTS:
        handler = handlers.get((fact.method, route_path(fact)))
        assert handler is not None, (fact.method, route_path(fact))
        assert handler.opt["roles"] == fact.roles, fact.path
        assert handler.summary == fact.title
        assert handler.status_code == 201


def test_every_fact_with_a_form_has_it_with_its_titles_and_roles() -> None:
    with_form = [fact for fact in FACTS if fact.form is not None]
    assert [spec.slug for spec in forms.FORMS] == [fact.slug for fact in with_form]
    nl, en = Translator("nl"), Translator("en")
    for fact in with_form:
        assert fact.form is not None
        spec = forms.BY_SLUG[fact.form.slug]
        assert (spec.command, spec.roles, spec.group) == (fact.schema, fact.roles,
                                                          fact.form.group)
        assert spec.title(en) == fact.title
        assert spec.title(nl) not in ("", fact.title), fact.title
        assert fact.form.group in forms.GROUPS


def test_every_criterion_a_fact_satisfies_links_to_its_form_where_the_coordinator_has_one(
) -> None:
    for fact in FACTS:
        for criterion in fact.criteria:
            want = fact.slug if "coordinator" in fact.roles else None
            assert forms.SATISFIED_BY[criterion] == want, criterion


def test_every_fact_has_a_dutch_event_name() -> None:
    dutch = Translator("nl")
    for fact in FACTS:
        for event in (fact.event, *fact.also):
            assert dutch.has("event", event.__name__), event.__name__
            assert dutch.event(event.__name__) != event.__name__, event.__name__


def test_the_core_element_mapping_is_the_lists() -> None:
    assert {fact.event: (fact.element.element, fact.element.code)
            for fact in FACTS if isinstance(fact.element, Evidence)} == EVIDENCE
    assert {fact.event: fact.element
            for fact in FACTS if isinstance(fact.element, EvidenceByKind)} == BY_KIND
    for element, _ in EVIDENCE.values():
        assert element in ELEMENTS
    for by_kind in BY_KIND.values():
        assert set(by_kind.elements.values()) <= set(ELEMENTS)


def test_the_timeline_shows_what_the_list_says() -> None:
    marks = {fact.event: fact.lane for fact in FACTS
             if fact.lane is not None and fact.lane.shape != "span"}
    assert marks == LANES
    for lane in marks.values():
        assert lane.css, lane


def test_every_event_of_a_fact_is_coded_for_research_and_every_event_has_a_fact() -> None:
    coded = set(event_classes())
    recorded = {e for fact in FACTS for e in (fact.event, *fact.also)}
    recorded |= set(EXCHANGE_FACTS.values())
    assert recorded <= coded
    assert coded - recorded == {TrajectoryOpened}  # intake opens; it is not a fact on one


def test_a_fact_without_rules_of_its_own_has_exactly_its_events_fields() -> None:
    """The generic path hands the command's fields to the event: they must be the same."""
    for fact in FACTS:
        fields = [name for name in fact.command.__struct_fields__ if name != "occurred_on"]
        if fact.command not in HANDLERS:
            assert fields == event_fields(fact.event), fact.command.__name__


def test_the_exchange_records_its_facts_with_rules_and_the_pages_name_them() -> None:
    dutch = Translator("nl")
    for command, event in EXCHANGE_FACTS.items():
        assert command in HANDLERS, command.__name__
        assert dutch.event(event.__name__) != event.__name__, event.__name__
