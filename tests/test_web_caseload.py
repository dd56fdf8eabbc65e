"""The caseload as a care team reads it (review finding M5): the coloured signals explained
in words, closed files out of the way unless asked for, the girls who are missing always on
top whatever the filter, and cards that say how old she is, how long she has been gone and,
in aftercare, when someone last reached her."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from tests.builders import intake, left_care, phase_2_facts, record_all
from tests.web_support import GIRL, HANDED_OVER_GIRL, ORG_A, World
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor
from trajectory.commands import (
    AcceptHandover,
    CloseTrajectory,
    RecordAftercareContact,
    ReportRunaway,
    StartAftercare,
)

COORDINATOR = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
AFTERCARE = Actor(user_id="aftercare", role="aftercare", organisation="Nazorg Westhoek")
RUNAWAY_GIRL = "Mira Vermist"
CLOSED_GIRL = HANDED_OVER_GIRL


def _open(world: World, name: str, intake_date: date, born: date = date(2010, 4, 1)) -> UUID:
    identity = Identity(name=name, date_of_birth=born, home_region="Utrecht")
    return world.app.open_trajectory(
        intake(identity=identity, intake_date=intake_date), COORDINATOR
    ).trajectory_id


def runaway_without_overdue_items(world: World) -> UUID:
    """A girl who ran away 4 days before the clock's day (2-3-2026), with every early fact
    recorded, so that nothing of hers is overdue: only her running away is urgent."""
    tid = _open(world, RUNAWAY_GIRL, date(2026, 2, 20), born=date(2011, 1, 15))
    record_all(world.app, tid, phase_2_facts(), COORDINATOR)
    world.app.execute(
        tid, ReportRunaway(from_where="de groep", occurred_on="2026-02-26"), COORDINATOR
    )
    return tid


def closed_file(world: World) -> None:
    """The handed-over girl, accepted, leaves care to live at home: a closed file, and not
    out of view (her handover was warm)."""
    world.app.execute(world.handed_over, AcceptHandover(), AFTERCARE)
    world.app.execute(
        world.handed_over,
        CloseTrajectory(reason="moved_away", destination="home_with_parents"),
        COORDINATOR,
    )


def in_aftercare(world: World) -> None:
    """The handed-over girl accepted and in aftercare from 2-3-2026, reached that day;
    then the clock moves on 9 days, to 11-3-2026."""
    world.app.execute(world.handed_over, AcceptHandover(), AFTERCARE)
    world.app.execute(world.handed_over, StartAftercare(destination="home_with_parents"),
                      COORDINATOR)
    world.app.execute(world.handed_over, RecordAftercareContact(channel="visit"), AFTERCARE)
    world.clock.advance(days=9)


def test_the_caseload_explains_its_colours_in_words(world: World) -> None:
    # given her caseload
    with world.browser("coordinator") as b:
        # when she opens it
        page = b.get("/app/caseload")
    # then a legend says what a red, an orange and a plain edge mean
    assert page.status_code == 200
    assert 'class="legend"' in page.text
    assert "Rood: weggelopen of uit beeld" in page.text
    assert "Oranje: minstens één punt is te laat" in page.text
    assert "Grijs" in page.text


def test_closed_files_are_hidden_unless_she_asks_for_them(world: World) -> None:
    # given a closed file beside the girls in care
    closed_file(world)
    with world.browser("coordinator") as b:
        # when she opens the caseload
        default = b.get("/app/caseload")
        # then the closed file is not among the active girls
        assert CLOSED_GIRL not in default.text
        # and the status choice "all, closed included" shows it
        everything = b.get("/app/caseload?status=all")
        assert CLOSED_GIRL in everything.text
        assert "gesloten dossiers ook" in everything.text
        only_closed = b.get("/app/caseload?status=closed")
        assert CLOSED_GIRL in only_closed.text


def test_a_missing_girl_stays_on_top_whatever_the_filter(world: World) -> None:
    # given a girl who ran away 4 days ago with nothing overdue, and girls with overdue items
    runaway_without_overdue_items(world)
    with world.browser("coordinator") as b:
        # when she keeps only girls with overdue items, or only phase 2
        overdue = b.get("/app/caseload?overdue=1")
        phase_2 = b.get("/app/caseload?phase=2")
    # then the missing girl is still there, first, and the card says how long she is gone
    for page in (overdue, phase_2):
        assert RUNAWAY_GIRL in page.text
    assert overdue.text.index(RUNAWAY_GIRL) < overdue.text.index(GIRL)
    assert "4 dagen geleden" in overdue.text


def test_a_girl_out_of_view_stays_whatever_the_filter_a_closed_one_after_those_in_care(
    world: World,
) -> None:
    # given a girl in aftercare nobody reached for five weeks (out of view), and a girl
    # who left care without a warm handover, her file closed (out of view too)
    in_aftercare(world)
    world.clock.advance(days=26)
    left = _open(world, "Eva Vertrokken", date(2026, 1, 5))
    world.app.execute(left, left_care(), COORDINATOR)
    with world.browser("coordinator") as b:
        # when she keeps only phase 2, or opens the caseload as it comes
        phase_2 = b.get("/app/caseload?phase=2")
        default = b.get("/app/caseload")
    # then both are there, marked out of view, though neither is in phase 2 and one
    # file is closed
    for page in (phase_2, default):
        assert HANDED_OVER_GIRL in page.text
        assert "Eva Vertrokken" in page.text
        assert "Uit beeld" in page.text
    # and the closed file comes after the girls still in care
    assert default.text.index(GIRL) < default.text.index("Eva Vertrokken")
    assert default.text.index(HANDED_OVER_GIRL) < default.text.index("Eva Vertrokken")


def test_a_card_says_her_age_and_in_aftercare_her_last_contact(world: World) -> None:
    # given a girl born 1-4-2010 (15 on 11-3-2026), handed over, in aftercare since 2-3 and
    # reached that day
    in_aftercare(world)
    with world.browser("coordinator") as b:
        page = b.get("/app/caseload")
    card = page.text[page.text.index(HANDED_OVER_GIRL):]
    card = card[: card.index("</li>\n")]
    # then her card says her age, her coordinator and her last contact, and days in
    # aftercare, not in phase
    assert "15 jaar" in card
    assert "Coördinator: Marieke de Graaf" in card
    assert "Laatste contact: 2-3-2026" in card
    assert "Dagen in nazorg: 9" in card
    assert "Dagen in fase" not in card


def test_a_search_without_hits_says_so_once(world: World) -> None:
    # given a name nobody has
    with world.browser("coordinator") as b:
        # when she searches for it
        found = b.submit("/app/caseload", {"q": "niemand"})
    # then the page says once that nobody was found
    assert found.status_code == 200
    assert "0 gevonden" in found.text
    assert "Geen meisjes gevonden" not in found.text
    # and the name stays out of the log
    assert "niemand" not in " ".join(str(e).lower() for e in world.access())
