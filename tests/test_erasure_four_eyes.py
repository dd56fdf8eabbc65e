"""An irreversible act needs two people, and a lawful ground.

The security review saw an admin erase a phase-2 girl still in care on the ground
"other", with no destruction request and no password or code asked (a re-authentication
five minutes earlier was carried over), and "retention expired" accepted (and
preselected) for a file of ten months. Now an erasure is refused unless her retention
period has truly ended (the refusal names the day it does), a destruction request of hers
was granted, or a court ordered it; one admin proposes, a second of the same
organisation approves with her short id, each re-authenticated for that act alone. The
same rule answers over the API, on the pages and on the command line. After the erasure
no research export kept on the server still holds her rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest

from tests.builders import COORDINATOR, left_care, open_trajectory, phase_2_facts, record_all
from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.step_up_support import enrol, stepped_up
from tests.web_support import PASSWORD, World, csrf_of
from trajectory.access_log import AccessLog
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor, TrajectoryApplication
from trajectory.cli import main
from trajectory.commands import (
    DecideDestructionRequest,
    RequestDestruction,
    TransitionPhase,
)
from trajectory.erasure_proposals import approve, propose, short_id
from trajectory.research.kept import DestroyedExport, destroyed_notice
from trajectory.research.manifest import Manifest
from trajectory.research.projects import Pseudonyms, project_secret
from trajectory.settings import Settings

ADMIN = Actor(user_id="admin-1", role="admin", organisation="org-a")
SECOND_ADMIN = Actor(user_id="admin-2", role="admin", organisation="org-a")
OTHER_ORG_ADMIN = Actor(user_id="admin-b", role="admin", organisation="org-b")


def phase_2_girl(app: TrajectoryApplication, actor: Actor = COORDINATOR) -> UUID:
    """A girl in care, in phase 2 (what the review erased)."""
    tid = open_trajectory(app, actor)
    record_all(app, tid, [*phase_2_facts(), TransitionPhase(to_phase=2, reason="stable")], actor)
    assert app.get(tid).state.phase == 2
    return tid


def ten_month_old_closed_file(app: TrajectoryApplication) -> UUID:
    """Opened ten months ago, care ended today: twenty years to go."""
    tid = open_trajectory(app, intake_date=date(2025, 5, 2))
    app.execute(tid, left_care(), COORDINATOR)
    return tid


def granted_request(app: TrajectoryApplication, tid: UUID) -> None:
    app.execute(tid, RequestDestruction(requested_by="girl"), COORDINATOR)
    app.execute(tid, DecideDestructionRequest(granted=True), COORDINATOR)


def erased(app: TrajectoryApplication, tid: UUID) -> bool:
    assert app.keys is not None
    return app.keys.is_erased(tid)


# -- the rule, below every entry point ---------------------------------------------------------


def test_a_girl_in_care_is_refused_on_every_ground_she_has_not_met(
    app: TrajectoryApplication,
) -> None:
    # given a phase-2 girl in care, with no destruction request
    tid = phase_2_girl(app)
    # when an admin proposes to erase her: on "other", on retention, on a request, on a
    # court order without its reference
    refusals = {}
    for ground in ("other", "retention-expired", "request-granted", "court-order"):
        with pytest.raises(RuleRefused) as refused:
            propose(app, tid, by=ADMIN, reason="test", legal_ground=ground)
        refusals[ground] = refused.value.code
    # then each is refused, naming its rule, and she is not erased
    assert refusals == {
        "other": "erasure-ground-not-lawful",
        "retention-expired": "retention-not-begun",
        "request-granted": "destruction-request-not-granted",
        "court-order": "court-reference-required",
    }
    assert not erased(app, tid)
    assert app.db.fetchall("SELECT * FROM erasure_proposals") == []
    # and each attempt is on her access log as refused
    assert [(e["action"], e["outcome"]) for e in _log(app, tid)] == [("erase", "refused")] * 4


def test_a_ten_month_old_file_is_refused_naming_the_day_its_retention_ends(
    app: TrajectoryApplication,
) -> None:
    # given a file opened ten months ago, closed today (2 March 2026)
    tid = ten_month_old_closed_file(app)
    # when an admin proposes to erase it because retention expired
    with pytest.raises(RuleRefused) as refused:
        propose(app, tid, by=ADMIN, reason="retention", legal_ground="retention-expired")
    # then it is refused, naming the day twenty years after her care ended
    assert refused.value.code == "retention-not-expired"
    assert "2046-03-02" in refused.value.message


def test_the_proposer_cannot_approve_nor_an_admin_of_another_organisation(
    app: TrajectoryApplication,
) -> None:
    # given a girl whose destruction request was granted, and a proposal to erase her
    tid = phase_2_girl(app)
    granted_request(app, tid)
    proposal = propose(app, tid, by=ADMIN, reason="granted", legal_ground="request-granted")
    # when the proposer approves it herself
    with pytest.raises(RuleRefused) as refused:
        approve(app, proposal.proposal_id, by=ADMIN, confirmation=short_id(tid))
    # then it is refused by the four-eyes rule
    assert refused.value.code == "erasure-needs-two-admins"
    # and an admin of another organisation does not even find it
    from trajectory.erasure_proposals import ProposalNotFound

    with pytest.raises(ProposalNotFound):
        approve(app, proposal.proposal_id, by=OTHER_ORG_ADMIN, confirmation=short_id(tid))
    # yet the attempt is on her log, as denied, and one on no proposal at all is on record
    with pytest.raises(ProposalNotFound):
        approve(app, "no-such-proposal", by=OTHER_ORG_ADMIN, confirmation="00000000")
    attempts = [(e["user_id"], e["outcome"]) for e in AccessLog(app.db).for_trajectory(str(tid))
                if e["action"] == "erase"]
    assert (OTHER_ORG_ADMIN.user_id, "denied") in attempts
    nowhere = app.db.fetchall("SELECT user_id, outcome FROM access_log WHERE action = 'erase'"
                              " AND trajectory_id IS NULL")
    assert [(r["user_id"], r["outcome"]) for r in nowhere] == [(OTHER_ORG_ADMIN.user_id, "denied")]
    # and a second admin who types another id is refused too
    with pytest.raises(RuleRefused) as mistyped:
        approve(app, proposal.proposal_id, by=SECOND_ADMIN, confirmation="00000000")
    assert mistyped.value.code == "confirmation-mismatch"
    assert not erased(app, tid)
    # when the second admin of her organisation approves with her short id
    erasure = approve(app, proposal.proposal_id, by=SECOND_ADMIN, confirmation=short_id(tid))
    # then she is erased, and both names are on record
    assert erased(app, tid)
    assert erasure.erased_by == "admin-2"
    row = app.db.fetchone(
        "SELECT proposed_by, approved_by FROM erasure_proposals WHERE proposal_id = ?",
        [proposal.proposal_id],
    )
    assert row is not None
    assert (row["proposed_by"], row["approved_by"]) == ("admin-1", "admin-2")
    outcomes = [(e["user_id"], e["action"], e["outcome"]) for e in _log(app, tid)]
    assert ("admin-1", "erase", "proposed") in outcomes
    assert ("admin-2", "erase", "ok") in outcomes


def _log(app: TrajectoryApplication, tid: UUID) -> list[dict[str, Any]]:
    return AccessLog(app.db).for_trajectory(str(tid))


def test_a_court_order_is_erased_with_its_reference_on_record(
    app: TrajectoryApplication,
) -> None:
    # given a girl in care and a court order
    tid = phase_2_girl(app)
    proposal = propose(app, tid, by=ADMIN, reason="ordered", legal_ground="court-order",
                       court_reference="ECLI:NL:RBAMS:2026:1234")
    # when a second admin approves
    approve(app, proposal.proposal_id, by=SECOND_ADMIN, confirmation=short_id(tid).upper())
    # then she is erased, and the erasure names the order
    row = app.db.fetchone("SELECT reason, legal_ground FROM erasures WHERE trajectory_id = ?",
                          [str(tid)])
    assert row is not None
    assert row["legal_ground"] == "court-order"
    assert "ECLI:NL:RBAMS:2026:1234" in str(row["reason"])


# -- over the API ---------------------------------------------------------------------------------


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def test_over_the_api_one_admin_cannot_erase_and_two_can(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    tokens = {name: live.token(name, "admin", org, user_id=name)
              for name, org in (("admin-1", "org-a"), ("admin-2", "org-a"), ("admin-b", "org-b"))}
    # Proposing and approving are irreversible acts: each admin steps up (password, TOTP)
    with live.client(tokens["admin-1"]) as long_lived, live.client(
        tokens["admin-2"]
    ) as second_long, live.client(tokens["admin-b"]) as other_long:
        refused = long_lived.post("/admin/erasures", json={
            "trajectory_id": str(UUID(int=1)), "reason": "x", "legal_ground": "court-order"})
        assert (refused.status_code, refused.json()["type"].rsplit("/", 1)[-1]) == (
            403, "step-up-required"), refused.text
        admin = stepped_up(live, long_lived, enrol(live, "admin-1"), clock)
        second = stepped_up(live, second_long, enrol(live, "admin-2"), clock)
        other_org = stepped_up(live, other_long, enrol(live, "admin-b"), clock)
    second_reads = live.client(tokens["admin-2"])
    other_reads = live.client(tokens["admin-b"])
    with admin, second, other_org, second_reads, other_reads:
        # given a phase-2 girl in care
        tid = str(phase_2_girl(app))
        # when one admin erases her as the review did
        alone = admin.post(f"/trajectories/{tid}/erasure",
                           json={"reason": "test", "legal_ground": "other"})
        # then it is refused, naming the rule
        assert alone.status_code == 409, alone.text
        assert alone.json()["rule"] == "erasure-needs-two-admins"
        assert "two admins" in alone.json()["detail"]
        # and proposing it on "other" is not even a choice; on retention it is refused
        other = admin.post("/admin/erasures", json={
            "trajectory_id": tid, "reason": "test", "legal_ground": "other"})
        assert other.status_code == 422
        assert "legal_ground" in other.text
        early = admin.post("/admin/erasures", json={
            "trajectory_id": tid, "reason": "test", "legal_ground": "retention-expired"})
        assert early.status_code == 409
        assert early.json()["rule"] == "retention-not-begun"
        assert not erased(app, UUID(tid))

        # given her destruction request was granted, and one admin proposes
        granted_request(app, UUID(tid))
        proposed = admin.post("/admin/erasures", json={
            "trajectory_id": tid, "reason": "granted", "legal_ground": "request-granted"})
        assert proposed.status_code == 201, proposed.text
        pid = proposed.json()["id"]
        assert proposed.json()["short_id"] == tid[:8]
        assert [p["id"] for p in second_reads.get("/admin/erasures").json()] == [pid]
        assert other_reads.get("/admin/erasures").json() == []
        # when the proposer approves, an admin of another organisation approves, or the
        # second admin types the wrong short id
        own = admin.post(f"/admin/erasures/{pid}/confirmation", json={"confirmation": tid[:8]})
        foreign = other_org.post(f"/admin/erasures/{pid}/confirmation",
                                 json={"confirmation": tid[:8]})
        wrong = second.post(f"/admin/erasures/{pid}/confirmation", json={"confirmation": "abc"})
        # then each is refused and she is still there
        assert (own.status_code, own.json()["rule"]) == (409, "erasure-needs-two-admins")
        assert foreign.status_code == 404
        assert (wrong.status_code, wrong.json()["rule"]) == (409, "confirmation-mismatch")
        assert not erased(app, UUID(tid))
        # when the second admin of her organisation approves with her short id
        done = second.post(f"/admin/erasures/{pid}/confirmation", json={"confirmation": tid[:8]})
        # then she is erased, by two people on record
        assert done.status_code == 200, done.text
        assert (done.json()["proposed_by"], done.json()["erased_by"]) == ("admin-1", "admin-2")
        assert erased(app, UUID(tid))
        again = second.post(f"/admin/erasures/{pid}/confirmation", json={"confirmation": tid[:8]})
        assert again.status_code == 404


# -- on the pages ---------------------------------------------------------------------------------


def _propose_on_page(b: object, world: World, who: str, tid: UUID, ground: str,
                     *, reauth: bool = True) -> object:
    from tests.web_support import Browser

    assert isinstance(b, Browser)
    page = b.get("/app/admin")
    form = {"csrf_token": csrf_of(page.text), "trajectory_id": str(tid), "reason": "verzoek",
            "legal_ground": ground}
    if reauth:
        form |= {"reauth_password": PASSWORD, "reauth_code": b.code(who)}
    return b.post("/app/admin/erasure", form)


def _pseudonym_in_export(world: World, directory: Path, tid: UUID) -> bool:
    manifest = msgspec.json.decode((directory / "manifest.json").read_bytes(), type=Manifest)
    assert world.app.keys is not None
    secret, _ = project_secret(world.app.keys, world.app.db, manifest.parameters.project,
                               world.clock(), create=False)
    mine = Pseudonyms(secret).girl(tid)
    return any(head[0] == mine for head in manifest.heads)


def test_on_the_page_two_admins_each_re_authenticated_erase_and_kept_exports_go(
    world: World, tmp_path: Path
) -> None:
    # given a phase-2 girl in care, and a research export kept on the server that holds her
    girl = world.girl
    record_all(world.app, girl, [*phase_2_facts(), TransitionPhase(to_phase=2, reason="ok")],
               world.actor("coordinator"))
    world.give_research_consent(girl)
    world.give_research_consent(world.handed_over)
    world.approve_project("vier-ogen")
    with world.browser("researcher") as r:
        assert r.export("vier-ogen").status_code == 303
    kept = [m.parent for m in Path(str(world.app.settings.export_dir)).rglob("manifest.json")]
    assert len(kept) == 1
    assert _pseudonym_in_export(world, kept[0], girl)
    files = sorted(p.name for p in kept[0].iterdir())

    with world.browser("admin") as b:
        # the ground is not preselected
        page = b.get("/app/admin")
        assert '<option value="" selected>' in page.text
        # when the admin erases her on "other", as the review did
        refused = _propose_on_page(b, world, "admin", girl, "other")
        # then it is refused with a Dutch sentence
        assert refused.status_code == 409  # type: ignore[attr-defined]
        assert "wettelijke grond" in refused.text  # type: ignore[attr-defined]
        # and "retention expired" for a girl in care is refused too
        early = _propose_on_page(b, world, "admin", girl, "retention-expired")
        assert early.status_code == 409  # type: ignore[attr-defined]
        assert "bewaartermijn" in early.text  # type: ignore[attr-defined]
        # given her request was granted, the admin proposes (re-authenticated)
        granted_request(world.app, girl)
        proposed = _propose_on_page(b, world, "admin", girl, "request-granted")
        assert proposed.status_code == 200, proposed.text  # type: ignore[attr-defined]
        # a re-authentication is not carried over to the next act, minutes later
        again = _propose_on_page(b, world, "admin", girl, "request-granted", reauth=False)
        assert again.status_code == 401  # type: ignore[attr-defined]
        # the proposer is offered no approval of her own proposal
        assert 'name="confirmation"' not in b.get("/app/admin").text
    pid = str(world.app.db.fetchall("SELECT proposal_id FROM erasure_proposals")[0]["proposal_id"])

    with world.browser("admin-b") as foreign:
        # an admin of another organisation sees nothing to approve, and cannot approve
        assert 'name="confirmation"' not in foreign.get("/app/admin").text
        page = foreign.get("/app/admin")
        answer = foreign.post(f"/app/admin/erasures/{pid}/confirmation", {
            "csrf_token": csrf_of(page.text), "confirmation": str(girl)[:8],
            "reauth_password": PASSWORD, "reauth_code": foreign.code("admin-b")})
        assert answer.status_code == 404

    with world.browser("admin-2") as second:
        page = second.get("/app/admin")
        assert 'name="confirmation"' in page.text
        approval = f"/app/admin/erasures/{pid}/confirmation"
        # when the second admin types another short id
        wrong = second.post(approval, {
            "csrf_token": csrf_of(page.text), "confirmation": "12345678",
            "reauth_password": PASSWORD, "reauth_code": second.code("admin-2")})
        # then it is refused, and she is not erased
        assert wrong.status_code == 409
        assert str(girl)[:8] in wrong.text
        assert not erased(world.app, girl)
        # and without a new password and code it is refused, however recent the last
        no_reauth = second.post(approval, {"csrf_token": csrf_of(page.text),
                                           "confirmation": str(girl)[:8]})
        assert no_reauth.status_code == 401
        # when she types the girl's short id, with her password and a new code
        done = second.post(approval, {
            "csrf_token": csrf_of(page.text), "confirmation": str(girl)[:8],
            "reauth_password": PASSWORD, "reauth_code": second.code("admin-2")})
        # then the file is erased
        assert done.status_code == 200, done.text
        assert "vernietigd" in done.text
    assert erased(world.app, girl)
    # and the kept export that held her is destroyed, its manifest saying so
    notice = destroyed_notice(kept[0])
    assert isinstance(notice, DestroyedExport)
    assert sorted(notice.files_destroyed) == sorted(f for f in files if f != "manifest.json")
    assert [p.name for p in kept[0].iterdir()] == ["manifest.json"]
    with world.browser("researcher") as r:
        gone = r.get(f"/app/research/exports/{kept[0].name}")
        assert gone.status_code == 410
        assert r.get(f"/app/research/exports/{kept[0].name}/files/trajectories.csv"
                     ).status_code == 410


# -- on the command line --------------------------------------------------------------------------


def test_on_the_command_line_only_a_passed_retention_date_erases_alone(
    app: TrajectoryApplication, settings: Settings, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # given a phase-2 girl in care, a file of ten months, and one whose care ended in 2005
    in_care = phase_2_girl(app)
    recent = ten_month_old_closed_file(app)
    old = open_trajectory(app, intake_date=date(2004, 1, 5), identity=Identity(
        name="Oud Dossier", date_of_birth=date(1990, 4, 1), home_region="Utrecht"))
    app.execute(old, left_care(occurred_on="2005-06-01"),
                COORDINATOR)
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", str(settings.master_key))

    def erase(tid: UUID, ground: str) -> tuple[int, str]:
        code = main(["erase", str(tid), "--reason", "test", "--legal-ground", ground, "--yes"])
        return code, capsys.readouterr().err

    # when the operator erases the girl in care on "other", or on a request not granted
    # then it is refused, naming the rule
    code, err = erase(in_care, "other")
    assert code == 2
    assert "lawful ground" in err
    code, err = erase(in_care, "request-granted")
    assert code == 2
    assert "granted" in err
    # and a granted request still needs two admins, not one operator
    granted_request(app, in_care)
    code, err = erase(in_care, "request-granted")
    assert code == 2
    assert "two admins" in err
    # and the ten-month-old file is refused, naming the day its retention ends
    code, err = erase(recent, "retention-expired")
    assert code == 2
    assert "2046-03-02" in err
    assert not any(erased(app, t) for t in (in_care, recent, old))
    # when the scripted retention run erases the file whose retention ended in 2025
    code, _ = erase(old, "retention-expired")
    # then it is erased
    assert code == 0
    assert erased(app, old)
