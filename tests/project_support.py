"""An approved research project for tests that export: proposed, approved by an admin of
every organisation in scope, and the researcher bound to it (`trajectory.research.
approvals`, the rule every export entry point asks)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.demo import ORGANISATIONS
from trajectory.identity.users import UserStore
from trajectory.research.approvals import Project, bind, decide, find_project, propose

FOREVER = date(2999, 12, 31)
EVER = (date(1900, 1, 1), date(2999, 12, 31))


def privacy_officer(organisation: str) -> Actor:
    """The admin (privacy officer) of an organisation."""
    return Actor(user_id=f"privacy-{organisation}", role="admin", organisation=organisation)


def organisations_of(app: TrajectoryApplication) -> list[str]:
    """The demo's organisations and every organisation the store holds girls of."""
    held = {str(r["organisation"]) for r in app.db.fetchall(
        "SELECT DISTINCT organisation FROM trajectory_index")}
    return sorted(held | set(ORGANISATIONS))


def approved_project(
    app: TrajectoryApplication,
    name: str = "p1",
    *,
    researcher: str,
    organisations: Iterable[str] | None = None,
    files: Iterable[str] | None = None,
    variables: Iterable[str] | None = None,
    period: tuple[date, date] = EVER,
    expires_on: date = FOREVER,
    approve: bool = True,
) -> Project:
    """Propose `name`, have every organisation in scope approve it (unless not
    `approve`) and bind `researcher` (a user name, or a user id) to it. Idempotent on
    the proposal: a project proposed already gets only the missing steps."""
    users = UserStore(app.db)
    found = users.find(researcher)
    researcher_id = found.user_id if found is not None else researcher
    now = app.clock()
    scope = list(organisations) if organisations is not None else organisations_of(app)
    if find_project(app.db, name) is None:
        proposer = Actor(user_id=researcher_id, role="researcher", organisation="uni")
        propose(app.db, proposer, name=name, purpose="a test study",
                ethics_reference="METC 2026-001", files=files, variables=variables,
                period_from=period[0], period_to=period[1], organisations=scope,
                expires_on=expires_on, now=now, today=amsterdam_date(now))
    if approve:
        for organisation in scope:
            decide(app.db, privacy_officer(organisation), name, now=now)
    project = bind(app.db, privacy_officer(scope[0]), name, researcher_id=researcher_id,
                   researcher_role="researcher", now=now)
    return project
