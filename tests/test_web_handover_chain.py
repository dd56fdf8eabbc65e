"""The chain on the pages: the coordinator picks the receiving worker from a list and names
the people around her; the aftercare worker finds the girl by name in her list, reads how
to reach her, records how to reach her and her contacts with their outcome, reads why she
is out of view, and prints the package (as her coordinator does from the girl's page)."""

from __future__ import annotations

from tests.web_support import (
    AFTERCARE_ORG,
    HANDED_OVER_GIRL,
    Page,
    World,
    csrf_of,
    sqlite_only,
)
from trajectory.bounded import PrepareHandover
from trajectory.web import forms as f
from trajectory.web.i18n import Translator


def test_the_coordinator_picks_the_receiving_worker_by_name_not_by_typing_an_id(
    world: World,
) -> None:
    # given a girl of the coordinator's organisation
    with world.browser("coordinator") as b:
        # when she opens the handover form
        page = b.get(f"/app/trajectories/{world.girl}/forms/handover")
        assert page.status_code == 200, page.text
        # then the receiving worker is a select of the aftercare workers, by name with
        # organisation, and there is no free text for it
        html = Page.of(page.text)
        assert not html.find("input", name="receiving_worker")
        assert len(html.find("select", name="receiving_worker")) == 1
        worker = f'<option value="aftercare">Fatima El Idrissi ({AFTERCARE_ORG})</option>'
        assert worker in page.text
        assert f">Eva Bakker ({AFTERCARE_ORG})</option>" in page.text
        assert "researcher (" not in page.text
        # and she can name the people around her, and the agreed contact frequency
        assert html.find("select", name="parties.0.role")
        assert html.find("input", name="parties.2.contact")
        assert html.find("input", name="package.contact_every_days")


def test_the_rows_of_people_around_her_are_read_and_empty_rows_left_out() -> None:
    # given the handover form as the coordinator fills it in (the receiver from the list)
    spec = f.BY_SLUG["handover"]
    t = Translator("nl")
    fields = [
        fl for fl in f.fields_of(spec, t, f.Context(aftercare_workers=[("w1", "Anna", "N")]))
        if not fl.name.startswith("external_receiver.")
    ]
    form = {
        "receiving_organisation": ["Nazorg Westhoek"],
        "receiving_worker": ["w1"],
        "package.sexual_development": ["x"], "package.loverboy_problem": ["x"],
        "package.safety_plan": ["x"], "package.agreements": ["x"],
        "package.aftercare_plan": ["x"], "package.contact_every_days": ["7"],
        "parties.0.role": ["wijkagent"], "parties.0.name": ["Kees Agent"],
        "parties.0.contact": ["06-1"],
        "parties.1.role": [""], "parties.1.name": [""],
        "parties.2.role": ["school"], "parties.2.name": ["De Brug"],
    }
    # when it is read
    command = f.decode(spec, fields, form, t)
    # then the receiver is the picked worker and the two filled rows are the parties
    assert isinstance(command, PrepareHandover)
    assert command.receiving_worker == "w1"
    assert command.package.contact_every_days == 7
    assert [(p.role, p.name, p.contact) for p in command.parties] == [
        ("wijkagent", "Kees Agent", "06-1"), ("school", "De Brug", ""),
    ]


def test_her_list_shows_the_girl_by_name_and_age(world: World) -> None:
    # given a girl handed over to the aftercare worker, the meeting held
    with world.browser("aftercare") as b:
        # when she opens her list
        listing = b.get("/app/handovers")
        # then she finds the girl by name and age, not by a code
        assert HANDED_OVER_GIRL in listing.text
        assert "Traject " + str(world.handed_over)[:8] not in listing.text
        assert "jaar" in listing.text
    # and the list is in the access log, naming the girl shown
    entries = world.access(world.handed_over)
    assert any(e["action"] == "search" and e["user_id"] == "aftercare" for e in entries)


@sqlite_only
def test_the_aftercare_worker_reaches_her_records_contacts_and_prints(world: World) -> None:
    tid = world.handed_over
    with world.browser("aftercare") as b:
        page = b.get(f"/app/handovers/{tid}")
        assert page.status_code == 200, page.text
        # she reads who the girl is, when she turns 18 and who sent her
        assert HANDED_OVER_GIRL in page.text
        assert "wordt 18 op" in page.text
        assert "Marieke de Graaf" in page.text  # the sending coordinator, by name
        # she records how to reach her
        done = b.submit(f"/app/trajectories/{tid}/forms/aftercare-contact-details",
                        {"phone": "06-12345678", "address": "Dorpsstraat 1",
                         "school_or_work": "ROC Zeeland"}, follow_redirects=False)
        assert done.status_code == 303, done.text
        page = b.get(f"/app/handovers/{tid}")
        assert 'href="tel:06-12345678"' in page.text
        assert "ROC Zeeland" in page.text
        # she accepts and starts aftercare
        b.post(f"/app/trajectories/{tid}/forms/handover-acceptance",
               {"csrf_token": csrf_of(page.text)})
        b.submit(f"/app/trajectories/{tid}/forms/aftercare-start",
                 {"plan": "bezoek", "destination": "independent"})
        page = b.get(f"/app/handovers/{tid}")
        # the contact form asks for the outcome, with nothing chosen for her
        html = Page.of(page.text)
        outcomes = html.find("input", name="outcome")
        assert {o.attrs.get("value") for o in outcomes} == {"reached", "not_reached"}
        assert not any("checked" in o.attrs for o in outcomes)
    world.clock.advance(days=29)
    with world.browser("aftercare") as b:
        page = b.get(f"/app/handovers/{tid}")
        assert "Geen contact heeft haar bereikt" in page.text
        # a message without an answer leaves her out of view, listed with its note
        b.post(f"/app/trajectories/{tid}/forms/aftercare-contact", {
            "csrf_token": csrf_of(page.text), "channel": "message", "outcome": "not_reached",
            "note": "geen antwoord op app",
        })
        page = b.get(f"/app/handovers/{tid}")
        assert "geen antwoord op app" in page.text
        assert "niet bereikt" in page.text
        assert 'role="alert"' in page.text
        # a visit that reaches her clears the warning
        b.post(f"/app/trajectories/{tid}/forms/aftercare-contact", {
            "csrf_token": csrf_of(page.text), "channel": "visit", "outcome": "reached",
            "note": "thuis gesproken",
        })
        page = b.get(f"/app/handovers/{tid}")
        assert "thuis gesproken" in page.text
        assert 'class="badge alarm" role="alert"' not in page.text
        # she prints the package from the handover page
        assert f'href="/app/trajectories/{tid}/handover.pdf"' in page.text
        pdf = b.get(f"/app/trajectories/{tid}/handover.pdf")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert str(tid)[:8].encode() in pdf.content
    prints = [e for e in world.access(tid) if e["action"] == "print-handover"]
    assert [e["user_id"] for e in prints] == ["aftercare"]


def test_her_coordinator_prints_the_package_from_the_girls_page(world: World) -> None:
    tid = world.handed_over
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{tid}")
        assert f'href="/app/trajectories/{tid}/handover.pdf"' in page.text
        pdf = b.get(f"/app/trajectories/{tid}/handover.pdf")
        assert pdf.content.startswith(b"%PDF")
    with world.browser("aftercare-other") as b:
        assert b.get(f"/app/trajectories/{tid}/handover.pdf").status_code == 404
