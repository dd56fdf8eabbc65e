"""The printable handover package over real HTTP on both stores: a PDF (one page per
section) for her coordinator and the receiving worker, carrying the short id, the day and
who printed it; each print access-logged; nobody else gets it."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from uuid import UUID

import httpx
import pytest

from tests.api_support import INTAKE, PACKAGE
from tests.live import Live, live_server
from trajectory.application import TrajectoryApplication
from trajectory.handover_pdf import handover_pdf
from trajectory.views import HandoverIdentityOut, HandoverOut
from trajectory.web.i18n import Translator

ORG = "Stichting Zonnebloem"


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def ok(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def handed_over(coordinator: httpx.Client) -> str:
    tid = ok(coordinator.post("/trajectories", json=INTAKE))
    ok(coordinator.post(f"/trajectories/{tid}/comensha-decisions",
                        json={"decision": "registered_by_name", "consent_by": "parent"}))
    ok(coordinator.post(f"/trajectories/{tid}/handover", json={
        "receiving_organisation": "Nazorg Westhoek", "receiving_worker": "after-1",
        "package": PACKAGE,
    }))
    return tid


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def test_her_coordinator_and_the_receiving_worker_print_the_package(
    live: Live, app: TrajectoryApplication
) -> None:
    with (
        live.client(live.token("Carla", "coordinator", ORG, user_id="coord-1")) as coordinator,
        live.client(live.token("Anna", "aftercare", "Nazorg Westhoek", user_id="after-1")) as w,
        live.client(live.token("Bea", "aftercare", "Nazorg Oost", user_id="after-2")) as other,
        live.client(live.token("Dora", "coordinator", "Elders", user_id="coord-9")) as stranger,
    ):
        _prints(app, coordinator, w, other, stranger)


def _prints(
    app: TrajectoryApplication,
    coordinator: httpx.Client,
    worker: httpx.Client,
    other: httpx.Client,
    stranger: httpx.Client,
) -> None:
    # given a girl whose handover to Anna is prepared
    tid = handed_over(coordinator)
    # when her coordinator prints the package
    response = coordinator.get(f"/trajectories/{tid}/handover.pdf")
    # then she gets a PDF of four pages (one per section), carrying the short id
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert tid[:8] in response.headers["content-disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert tid[:8].encode() in pdf
    assert pages(pdf) == 4
    # and so does the receiving worker
    assert worker.get(f"/trajectories/{tid}/handover.pdf").content.startswith(b"%PDF")
    # but no other worker, no other organisation's coordinator
    assert other.get(f"/trajectories/{tid}/handover.pdf").status_code == 404
    assert stranger.get(f"/trajectories/{tid}/handover.pdf").status_code == 404
    # and each print is in the access log, by whom
    rows = app.db.fetchall(
        "SELECT user_id, outcome FROM access_log WHERE action = 'print-handover'"
        " AND trajectory_id = ? ORDER BY at", [tid],
    )
    assert [(r["user_id"], r["outcome"]) for r in rows] == [("coord-1", "ok"), ("after-1", "ok")]


def _text(pdf: bytes) -> str:
    """The PDF's text streams, inflated (the glyphs of a TrueType font are ids, so only
    what the metadata carries is readable as such)."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(out)


def test_the_package_renders_dutch_text_with_the_bundled_font() -> None:
    # given a handover view with Dutch words and accents
    view = HandoverOut(
        id=UUID("12345678-1234-5678-1234-567812345678"),
        version=3, state="meeting_held", receiving_organisation="Nazorg Westhoek",
        receiving_worker="after-1", prepared_on=None, meeting_on=None, accepted_on=None,
        package=None, contacts_to_watch=[], restored_contacts=[], education_arranged_on=None,
        qualification_on=None, aftercare_started_on=None, last_aftercare_contact_on=None,
        next_contact_due_on=None, out_of_view=False, age=16, adult=False,
        identity=HandoverIdentityOut(name="Noëlle Çelik", date_of_birth=date(2010, 5, 5),
                                     home_region="Zeeland", contact_details=None),
    )
    # when it is printed in Dutch
    pdf = handover_pdf(view, Translator("nl"), printed_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
                       printed_by="Carla", name_of=lambda u: "Anna")
    # then it is a PDF with the DejaVu font embedded, four pages, the short id in its title
    assert pdf.startswith(b"%PDF")
    assert b"DejaVuSans" in pdf
    assert b"/Title (Overdrachtspakket 12345678)" in pdf
    assert pages(pdf) == 4
    assert _text(pdf)  # the pages have content
