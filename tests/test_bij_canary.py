"""The citizen service number canary (issue 20): a girl's number, once taken in, is never
in a log line, a research export, the access log or readable anywhere in the database;
only her encrypted file, and the CBS delivery made for the purpose, hold it.

One distinctive number flows through every path that touches it (intake over HTTP, a
refused intake, closure, the outcome, the CBS delivery, the outcome indicators, a research
export), with every log line captured as JSON; then every place is searched for it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
import structlog

from tests.api_support import INTAKE, ORG_A
from tests.builders import left_care
from tests.live import live_server
from tests.project_support import approved_project
from trajectory.application import Actor, TrajectoryApplication
from trajectory.bij.report import Period, produce
from trajectory.commands import GiveResearchConsent, RecordCareOutcome
from trajectory.logs import configure_logging
from trajectory.research.export import export_project

CANARY = "918273651"  # passes the eleven-test; nothing else in the store looks like it
REFUSED = "918273652"  # fails it


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Every log line of the test, as the server writes them anywhere but a terminal."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("debug", stream, console=False)
    yield stream
    structlog.reset_defaults()


def database_text(app: TrajectoryApplication) -> str:
    """Every value of every table of the store, as text (bytes decoded both ways)."""
    if app.dialect == "sqlite":
        tables = [r["name"] for r in app.db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        tables = [r["table_name"] for r in app.db.fetchall(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")]
    parts: list[str] = []
    for table in tables:
        for row in app.db.fetchall(f'SELECT * FROM "{table}"'):
            for value in row.values():
                if isinstance(value, (bytes, bytearray, memoryview)):
                    raw = bytes(value)
                    parts += [raw.decode("latin-1"), raw.hex()]
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def test_a_bsn_never_appears_in_logs_exports_or_the_database_in_readable_form(
    app: TrajectoryApplication, json_logs: io.StringIO, tmp_path: Path
) -> None:
    coordinator = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
    # given a girl taken in over HTTP with her number, and an intake refused for a wrong one
    with live_server(app) as live:
        token = live.token("coordinator", "coordinator", ORG_A, user_id="coordinator")
        quality = live.token("quality", "quality", ORG_A, user_id="quality")
        with live.client(token) as http, live.client(quality) as officer:
            refused = http.post("/trajectories", json={
                **INTAKE, "identity": {**INTAKE["identity"], "bsn": REFUSED}})
            assert refused.status_code == 409
            body = {**INTAKE, "identity": {**INTAKE["identity"], "bsn": CANARY},
                    "municipality": "0344", "referrer": "judicial",
                    "care_form": "residential_other"}
            created = http.post("/trajectories", json=body)
            assert created.status_code == 201, created.text
            tid = UUID(created.json()["id"])
            assert CANARY in http.get(f"/trajectories/{tid}/events").text  # hers to read
            # when her care ends, the outcome is recorded and the figures are read
            app.execute(tid, left_care("own_decision", occurred_on="2026-02-20"), coordinator)
            app.execute(tid, RecordCareOutcome(satisfied="yes", without_help="yes",
                                               informant="girl"), coordinator)
            app.execute(tid, GiveResearchConsent(given_by="parent"), coordinator)
            outcomes = officer.get("/quality/outcomes", params={"from": "2026-01",
                                                                "to": "2026-03"})
            assert outcomes.status_code == 200
            assert CANARY not in outcomes.text
    # and the CBS delivery is made (the one place meant to hold it)
    made = produce(app, Period(2026, 1), Actor(user_id="q", role="quality",
                                               organisation=ORG_A))
    assert CANARY in made.csv()
    # and a research export is made
    approved_project(app, "canary", researcher="researcher")
    out = tmp_path / "export"
    export_project(app, "canary", out, actor=Actor(user_id="researcher", role="researcher",
                                                   organisation="uni"))
    exported = "\n".join(p.read_bytes().decode("latin-1") for p in out.iterdir())
    # then the number is in no log line, no exported file, and nowhere in the database
    logs = json_logs.getvalue()
    assert logs.count("\n") > 10  # the logs had something to say
    for number in (CANARY, REFUSED):
        assert number not in logs
        assert number not in exported
        assert number not in database_text(app)
    assert date(2026, 2, 20).isoformat() not in exported  # the scan reads what it should
