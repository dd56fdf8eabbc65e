"""This week (review: "Mijn week / agenda"): every due and overdue item of her girls, the
overdue first, then day by day for the coming seven days, each a link to its form and to
the girl; the weeks after it one link away. The items are the caseload's own (one rule
for what is due), the page is access-logged naming every girl it shows."""

from __future__ import annotations

from datetime import date

from tests.builders import intake
from tests.web_support import GIRL, HANDED_OVER_GIRL, ORG_A, OTHER_GIRL, World
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor

COORDINATOR = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
NEW_GIRL = "Fleur Nieuwkomer"


def new_girl(world: World) -> str:
    """A girl taken in on 27-2-2026: her safety analysis and education are due on Friday
    6-3-2026, in the week of the clock's day (Monday 2-3-2026)."""
    identity = Identity(name=NEW_GIRL, date_of_birth=date(2011, 5, 5), home_region="Utrecht")
    opened = world.app.open_trajectory(
        intake(identity=identity, intake_date=date(2026, 2, 27)), COORDINATOR
    )
    return str(opened.trajectory_id)


def between(text: str, start: str, end: str) -> str:
    """The text from `start` to the first `end` after it."""
    at = text.index(start)
    return text[at: text.index(end, at)]


def test_this_week_lists_her_overdue_items_first_then_each_day(world: World) -> None:
    # given a girl with overdue items and a new girl whose first items fall due on Friday
    fresh = new_girl(world)
    with world.browser("coordinator") as b:
        # when she opens this week
        page = b.get("/app/week")
    assert page.status_code == 200
    text = page.text
    # then the overdue items come first, as their own group, each linked to its form
    overdue = between(text, "Te laat", "maandag 2-3-2026")
    assert f"/app/trajectories/{world.girl}/forms/safety-analysis" in overdue
    assert f'href="/app/trajectories/{world.girl}"' in overdue
    assert GIRL in overdue
    # and each of the seven days has its heading, in Dutch, the new girl's items on Friday
    for day in ("maandag 2-3-2026", "dinsdag 3-3-2026", "woensdag 4-3-2026",
                "donderdag 5-3-2026", "zaterdag 7-3-2026", "zondag 8-3-2026"):
        assert day in text
    friday = between(text, "vrijdag 6-3-2026", "zaterdag 7-3-2026")
    assert f"/app/trajectories/{fresh}/forms/safety-analysis" in friday
    assert NEW_GIRL in friday
    # and another organisation's girl is not on it
    assert OTHER_GIRL not in text
    # and a link leads to the next week
    assert 'href="/app/week?week=1"' in text


def test_a_later_week_shows_that_weeks_items_without_the_overdue(world: World) -> None:
    # given the handed-over girl, whose handover is to be accepted by 16-3-2026
    with world.browser("coordinator") as b:
        # when she goes two weeks ahead
        page = b.get("/app/week?week=2")
    # then that week's item is there, from Monday 16-3, and the overdue group is not
    assert page.status_code == 200
    assert "maandag 16-3-2026" in page.text
    assert HANDED_OVER_GIRL in page.text
    assert "Te laat" not in page.text
    assert GIRL not in page.text
    # and links lead a week back and a week on
    assert 'href="/app/week?week=1"' in page.text
    assert 'href="/app/week?week=3"' in page.text


def test_this_week_is_logged_naming_every_girl_it_shows(world: World) -> None:
    before = len(world.access())
    with world.browser("coordinator") as b:
        b.get("/app/week")
    new = [e for e in world.access()[before:] if e["action"] == "search"]
    assert len(new) == 1
    shown = set(str(new[0]["shown"]).split())
    assert str(world.girl) in shown
    assert str(world.other_girl) not in shown


def test_the_menu_leads_to_this_week_with_its_count(world: World) -> None:
    with world.browser("coordinator") as b:
        page = b.get("/app/caseload")
    assert 'href="/app/week"' in page.text
    menu = between(page.text, 'href="/app/week"', "</li>")
    assert "Deze week" in menu
    assert 'class="nav-count"' in menu


def test_the_aftercare_worker_sees_the_week_of_the_girls_handed_over_to_her(
    world: World,
) -> None:
    # given a girl handed over to her, to be accepted by 16-3-2026
    with world.browser("aftercare") as b:
        # when she opens the week of 16-3
        page = b.get("/app/week?week=2")
    # then the acceptance is there, with a link to the handover page, and nothing else
    assert page.status_code == 200
    assert HANDED_OVER_GIRL in page.text
    assert f'href="/app/handovers/{world.handed_over}"' in page.text
    assert f"/app/trajectories/{world.handed_over}/forms/handover-acceptance" in page.text
    assert f"/app/trajectories/{world.handed_over}\"" not in page.text
    assert GIRL not in page.text


def test_this_week_is_not_for_a_researcher(world: World) -> None:
    with world.browser("researcher") as b:
        assert b.get("/app/week").status_code == 403
