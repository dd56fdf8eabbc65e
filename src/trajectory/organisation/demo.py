"""The demo organisations' own duties: synthetic staff, trainings, reflection, climate
assessments and signal analyses, so that the quality officer's and the inspector's pages
have something to show. Written through the organisation write path, each fact judged on
its own day (dated back from today).

One organisation has every duty in order; one has an improvement action overdue and no
recent climate assessment; the third recorded nothing (both elements missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import Clock, amsterdam_date
from trajectory.organisation import commands as oc
from trajectory.organisation.store import OrganisationStore
from trajectory.organisation.writing import OrganisationWrites


def _facts(today: date, in_order: bool) -> list[tuple[int, oc.OrganisationCommand]]:
    """(days before today, command) of one organisation."""
    facts: list[tuple[int, oc.OrganisationCommand]] = [
        (900, oc.AppointAandachtsfunctionaris(staff_name="Demo Medewerker Bakker")),
        (200, oc.RecordTraining(staff_name="Demo Medewerker Jansen", training="basic")),
        (190, oc.RecordTraining(staff_name="Demo Medewerker Bakker", training="deepening")),
        (60, oc.RecordReflectionSession(kind="intervisie", participants=7)),
        (30, oc.RecordReflectionSession(kind="case_reflection", participants=5)),
    ]
    climate_days = 120 if in_order else 500
    facts.append((climate_days, oc.RecordClimateAssessment(
        instrument="Demo klimaatlijst", score="3,9",
        conclusion="Open en veilig leefklimaat; meer inspraak bij huisregels.")))
    month = (today - timedelta(days=45)).isoformat()[:7]
    facts.append((40, oc.RecordSignalAnalysis(
        signal_kinds=["runaway", "loverboy"], period_from=month, period_to=month,
        analysis="Weglopen vooral na weekendverlof.",
        action="Terugkomgesprek na elk weekendverlof.", owner="Demo Medewerker Jansen",
        due_on=today - timedelta(days=10 if not in_order else -20))))
    return sorted(facts, key=lambda f: -f[0])


def _at(moment: datetime) -> Clock:
    """A clock that reads the day a demo fact happened (so that it is judged on it)."""
    return lambda: moment


def record_demo_duties(app: TrajectoryApplication, organisations: Sequence[str]) -> int:
    """The duties of the demo organisations that recorded none yet; returns how many
    facts were written."""
    today = amsterdam_date(app.clock())
    store = OrganisationStore(app.db)
    written = 0
    for n, organisation in enumerate(organisations[:2]):
        if store.load(organisation) is not None:
            continue
        quality = Actor(user_id="demo-quality", role="quality", organisation=organisation)
        for days, command in _facts(today, in_order=n == 0):
            day = today - timedelta(days=days)
            writes = OrganisationWrites(app, clock=_at(datetime.combine(day, time(10), tzinfo=UTC)))
            writes.record(quality, command)
            written += 1
    return written
