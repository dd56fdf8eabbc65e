"""The handover chain told over real HTTP: a coordinator and a receiving aftercare worker
of this installation, a girl in care, and the steps of the warm handover. Shared by the
tests of leaving care and of the chain after care."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.api_support import PACKAGE, assert_problem
from tests.builders import COORDINATOR, intake
from tests.live import Live, live_server
from trajectory.aggregates.events.intake import Identity
from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import DecideComenshaRegistration
from trajectory.protocol.out_of_view import out_of_view

EXTERNAL = {"organisation": "Jeugdzorg Elders", "worker": "M. de Vries",
            "contact": "030-1234567, m.devries@example.org"}


@dataclass
class Chain:
    live: Live
    app: TrajectoryApplication
    coordinator: httpx.Client
    aftercare: httpx.Client

    def today(self) -> date:
        return amsterdam_date(self.app.clock())

    def girl(self, date_of_birth: date = date(2010, 4, 1)) -> str:
        """A girl in care with her CoMensha decision on record (the package asks it)."""
        identity = Identity(name="Test Meisje", date_of_birth=date_of_birth,
                            home_region="Utrecht")
        tid = self.app.open_trajectory(
            intake(intake_date=self.today(), identity=identity), COORDINATOR
        ).trajectory_id
        self.app.execute(
            tid, DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
            COORDINATOR,
        )
        return str(tid)

    def post(self, who: httpx.Client, tid: str, sub: str, body: dict[str, Any]) -> httpx.Response:
        return who.post(f"/trajectories/{tid}/{sub}", json=body)

    def ok(self, who: httpx.Client, tid: str, sub: str, body: dict[str, Any]) -> None:
        response = self.post(who, tid, sub, body)
        assert response.status_code == 201, response.text

    def refused(
        self, who: httpx.Client, tid: str, sub: str, body: dict[str, Any], rule: str
    ) -> dict[str, Any]:
        problem = assert_problem(self.post(who, tid, sub, body), 409)
        assert problem["rule"] == rule, problem
        return problem

    def warm_handover(self, tid: str, package: dict[str, Any] = PACKAGE) -> None:
        """Prepared for the aftercare worker, met with her and the girl, accepted."""
        self.ok(self.coordinator, tid, "handover", {
            "receiving_organisation": "Nazorg West", "receiving_worker": "after-1",
            "package": package})
        self.ok(self.coordinator, tid, "handover/meeting", {
            "girl_present": True, "sending_worker_present": True,
            "receiving_worker_present": True})
        self.ok(self.aftercare, tid, "handover/acceptance", {})

    def in_aftercare(self, tid: str, package: dict[str, Any] = PACKAGE) -> None:
        self.warm_handover(tid, package)
        self.ok(self.aftercare, tid, "aftercare", {"destination": "independent"})

    def attention(self, tid: str) -> dict[str, dict[str, Any]]:
        summary = self.coordinator.get(f"/trajectories/{tid}")
        assert summary.status_code == 200, summary.text
        return {item["code"]: item for item in summary.json()["attention"]}

    def out_of_view(self, tid: str) -> list[str]:
        t = self.app.get(UUID(tid))
        return [o.reason for o in out_of_view(t.state, self.app.protocol_of(t), self.today())]


@pytest.fixture(name="chain")
def chain_fixture(app: TrajectoryApplication) -> Iterator[Chain]:
    """The chain (a test module imports this to use it as `chain`)."""
    with live_server(app) as live:
        coordinator = live.token("coordinator", "coordinator", COORDINATOR.organisation,
                                 user_id=COORDINATOR.user_id)
        aftercare = live.token("Anna Nazorg", "aftercare", "Nazorg West", user_id="after-1")
        with live.client(coordinator) as c, live.client(aftercare) as a:
            yield Chain(live, app, c, a)
