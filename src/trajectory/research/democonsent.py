"""Research consent for demo girls, so that the export can be tried on the demo data.

`trajectory demo` writes girls without research consent, as intake does. This records
consent for most of them (about four in five), as their coordinators would (through the
command, through the one write path, so the rules check who may give it: the girl from
16, a parent before; and every consent is access-logged as her coordinator's), and
leaves the rest without, so that an export shows girls left out too. It touches only
trajectories of demo organisations (`demo-...`), never real ones.

    .venv/bin/python -m trajectory.research.democonsent
"""

from __future__ import annotations

import sys
from uuid import UUID

from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.vocabulary import ConsentGiver
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import GiveResearchConsent
from trajectory.protocol.rules import age_on
from trajectory.writing import WritePath

DEMO_PREFIX = "demo-"


def consent_demo_girls(
    app: TrajectoryApplication, path: WritePath | None = None
) -> tuple[int, int]:
    """Record consent for about four in five demo girls; returns (given, left without).

    `path` is the write path to record through (by default one over `app`)."""
    given = without = 0
    path = path or WritePath(app)
    today = amsterdam_date(app.clock())
    for row in app.index():
        if not str(row["organisation"]).startswith(DEMO_PREFIX):
            continue
        t = app.get(UUID(str(row["trajectory_id"])))
        if t.state.research_consent:
            continue
        if int(str(t.id.int)[-1]) < 2:  # about one in five stays without consent
            without += 1
            continue
        coordinator = Actor(user_id=t.state.coordinator, role="coordinator",
                            organisation=t.state.organisation)
        giver: ConsentGiver = "girl" if age_on(t.state.date_of_birth, today) >= 16 else "parent"
        try:
            path.record(coordinator, t.id, GiveResearchConsent(given_by=giver, note="Demo."))
        except RuleRefused:
            without += 1
            continue
        given += 1
    return given, without


def main() -> int:
    from trajectory.composition import build_application
    from trajectory.logs import configure_logging
    from trajectory.settings import Settings

    settings = Settings.from_env()
    configure_logging("warning")
    # The application from the composition root: no read model is needed to record facts
    # (they follow the log), so nothing of the command line's set-up is.
    app = build_application(settings)
    try:
        given, without = consent_demo_girls(app)
    finally:
        app.close()
    print(f"research consent recorded for {given} demo girls; {without} left without")
    return 0


if __name__ == "__main__":
    sys.exit(main())
