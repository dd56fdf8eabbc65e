"""A warm handover between two installations: each its own store, server and keys.

Noord hands a girl over to Zuid, which runs an installation of its own: the cards are
exchanged (and their fingerprints read off both sides), Noord's coordinator downloads the
sealed bundle from her handover page, Zuid's administrator takes it in on the exchange page
(her trajectory opens there, pointing at Noord and the bundle), Zuid signs that it accepted
her, and Noord takes the acknowledgement in: Noord sees she arrived. A bundle changed on the
way, or meant for a third installation, is refused and records nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pyotp
import pytest

from tests.builders import handover_package, intake
from tests.conftest import POSTGRES_URL, FakeClock, all_protocols
from tests.live import Live, live_server
from tests.reliability_support import scratch_database
from tests.web_support import PASSWORD, Page, cheap_hashing, csrf_of
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.handover import (
    ExternalReceiver,
    HandoverAccepted,
    HandoverExported,
)
from trajectory.aggregates.events.intake import Identity, TrajectoryOpened
from trajectory.application import Actor, TrajectoryApplication
from trajectory.cli import main
from trajectory.commands import (
    DecideComenshaRegistration,
    HoldHandoverMeeting,
    PrepareHandover,
    RecordSafetyAnalysis,
)
from trajectory.composition import build_application
from trajectory.crypto import MasterKey
from trajectory.erasure import erase
from trajectory.exchange.handover import Exchange, ExchangeRefused, HandoverBundle
from trajectory.exchange.keys import Partners, our_card
from trajectory.exchange.sealing import ACKNOWLEDGEMENT_FORMAT, BUNDLE_FORMAT, kind_of
from trajectory.identity.credentials import Credentials
from trajectory.settings import Settings

NOORD, ZUID, WEST = "Jeugdzorg Noord", "Jeugdzorg Zuid", "Jeugdzorg West"
GIRL = Identity(name="Jasmijn Onderweg", date_of_birth=date(2010, 6, 1), home_region="Zwolle")


@dataclass
class Installation:
    organisation: str
    tag: str
    settings: Settings
    app: TrajectoryApplication
    clock: FakeClock
    secrets: dict[str, str]
    live: Live | None = None
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def coordinator(self) -> Actor:
        return Actor(user_id=f"coord-{self.tag}", role="coordinator",
                     organisation=self.organisation)

    def trajectories(self) -> list[dict[str, Any]]:
        return self.app.db.fetchall("SELECT trajectory_id FROM trajectory_index")


@contextmanager
def store(database_url: str, tmp_path: Path, tag: str) -> Iterator[str]:
    """A store of its own for one installation: a file of its own on SQLite, a database
    of its own on the PostgreSQL server."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / f'{tag}.sqlite'}"
    else:
        with scratch_database(POSTGRES_URL, f"exchange_{tag}") as url:
            yield url


@contextmanager
def installation(url: str, organisation: str, tag: str, clock: FakeClock, *,
                 serve: bool) -> Iterator[Installation]:
    """An installation with its own master key (so its own exchange and signing keys), a
    coordinator and an administrator who sign in with a password and a code."""
    settings = Settings(database_url=url, snapshot_interval=10,
                        master_key=MasterKey.generate().to_text())
    app = build_application(settings, clock=clock, protocols=all_protocols())
    assert app.keys is not None
    credentials = Credentials(app.db, app.keys)
    secrets: dict[str, str] = {}
    for role in ("coordinator", "admin"):
        name = f"{'coord' if role == 'coordinator' else 'admin'}-{tag}"
        app_users = build_users(app)
        app_users.add(name=name, role=role, organisation=organisation, now=clock(),
                      user_id=name, display_name=f"{role.title()} {organisation}")
        credentials.set_password(name, PASSWORD)
        secrets[name] = pyotp.random_base32()
        credentials.save_totp(name, secrets[name])
    inst = Installation(organisation, tag, settings, app, clock, secrets)
    try:
        if serve:
            with live_server(app) as live:
                inst.live = live
                yield inst
        else:
            yield inst
    finally:
        for client in inst.clients:
            client.close()
        app.close()


def build_users(app: TrajectoryApplication) -> Any:
    from trajectory.identity.users import UserStore

    return UserStore(app.db)


@pytest.fixture
def three(database_url: str, tmp_path: Path, clock: FakeClock,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Installation, ...]]:
    """Noord and Zuid, each served; West, a third installation, only its keys."""
    cheap_hashing(monkeypatch)
    with ExitStack() as stack:
        noord = stack.enter_context(installation(database_url, NOORD, "noord", clock,
                                                 serve=True))
        zuid_url = stack.enter_context(store(database_url, tmp_path, "zuid"))
        zuid = stack.enter_context(installation(zuid_url, ZUID, "zuid", clock, serve=True))
        west_url = stack.enter_context(store(database_url, tmp_path, "west"))
        west = stack.enter_context(installation(west_url, WEST, "west", clock, serve=False))
        yield noord, zuid, west


class Browser:
    """Someone at a browser on one installation's pages, over real HTTP."""

    def __init__(self, inst: Installation, who: str):
        assert inst.live is not None
        self.inst, self.who = inst, who
        self.client = httpx.Client(base_url=inst.live.base_url, timeout=30)
        inst.clients.append(self.client)
        self._sign_in()

    def _sign_in(self) -> None:
        page = self.client.get("/app/login")
        first = self.client.post("/app/login", data={
            "csrf_token": csrf_of(page.text), "username": self.who, "password": PASSWORD,
            "next": "/app/"})
        assert first.status_code == 303, first.text
        page = self.client.get(first.headers["location"])
        code = pyotp.TOTP(self.inst.secrets[self.who]).at(self.inst.clock())
        self.inst.clock.advance(seconds=30)
        done = self.client.post("/app/login/code", data={
            "csrf_token": csrf_of(page.text), "code": code, "next": "/app/"})
        assert done.status_code == 303, done.text

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def post_from(self, page_path: str, action: str, data: dict[str, str],
                  files: dict[str, tuple[str, bytes]] | None = None) -> httpx.Response:
        """Post a form of the page at `page_path` (with that page's CSRF token)."""
        page = self.get(page_path)
        assert page.status_code == 200, page.text
        return self.client.post(action, data={"csrf_token": csrf_of(page.text), **data},
                                files=files)


def cli(inst: Installation, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`trajectory ARGV` on the installation's store, as its operator runs it."""
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", inst.settings.database_url)
    assert inst.settings.master_key is not None
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", inst.settings.master_key)
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fingerprints_in(text: str) -> list[str]:
    return re.findall(r"(?:[0-9a-f]{4} ){7}[0-9a-f]{4}", text)


def girl_ready_for_handover(inst: Installation, receiver: str,
                            identity: Identity = GIRL) -> UUID:
    """Her trajectory at Noord, the handover to `receiver` prepared and the warm meeting
    held (the receiving worker of the other organisation was there)."""
    app, actor = inst.app, inst.coordinator
    tid = app.open_trajectory(intake(identity=identity), actor).trajectory_id
    for command in (
        RecordSafetyAnalysis(instrument="structured", physical_safety="concerns",
                             experienced_safety="unsafe", runaway_risk="high",
                             risks=["internet_social_media"]),
        DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
        PrepareHandover(receiving_organisation=receiver, package=handover_package(),
                        external_receiver=ExternalReceiver(
                            organisation=receiver, worker="M. de Vries",
                            contact="030 123 45 67")),
        HoldHandoverMeeting(girl_present=True, sending_worker_present=True,
                            receiving_worker_present=True),
    ):
        app.execute(tid, command, actor)
    return tid


def partners(*pairs: tuple[Installation, Installation]) -> None:
    """Register each other's cards directly (what the card test does by hand)."""
    for here, there in pairs:
        card = our_card(there.app.keys, there.app.db, [there.organisation], there.clock())
        Partners(here.app.db).register(card, by="test", now=here.clock())


# -- the story -------------------------------------------------------------------------------


def test_a_girl_handed_over_to_another_installation_arrives_there_and_the_sender_sees_it(
    three: tuple[Installation, ...], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    noord, zuid, _ = three
    # given the two installations exchanged their cards: Noord's by the command line,
    # registered on Zuid's exchange page; Zuid's downloaded from its page, registered at
    # Noord by the command line; the fingerprints read on both sides are the same
    code, out, _ = cli(noord, monkeypatch, capsys, "keys", "card", "--out",
                       str(tmp_path / "noord.card"))
    assert code == 0
    noord_prints = fingerprints_in(out)
    zuid_admin = Browser(zuid, "admin-zuid")
    registered = zuid_admin.post_from(
        "/app/admin/exchange", "/app/admin/exchange/partners", {},
        files={"card": ("noord.card", (tmp_path / "noord.card").read_bytes())})
    assert registered.status_code == 200, registered.text
    assert NOORD in registered.text
    assert fingerprints_in(registered.text)[-2:] == noord_prints
    page = zuid_admin.get("/app/admin/exchange")
    zuid_card = zuid_admin.get("/app/admin/exchange/card")
    assert zuid_card.status_code == 200
    (tmp_path / "zuid.card").write_bytes(zuid_card.content)
    code, out, _ = cli(noord, monkeypatch, capsys, "keys", "partner", "add",
                       str(tmp_path / "zuid.card"))
    assert code == 0
    assert fingerprints_in(out) == fingerprints_in(page.text)[:2]
    assert "telephone" in out
    code, out, _ = cli(noord, monkeypatch, capsys, "keys", "partner", "list")
    assert ZUID in out

    # and a girl at Noord whose warm handover to Zuid was prepared and held
    tid = girl_ready_for_handover(noord, ZUID)

    # when her coordinator downloads the sealed bundle from her handover page
    coordinator = Browser(noord, "coord-noord")
    section = f"/app/trajectories/{tid}/handover-and-aftercare"
    shown = coordinator.get(section)
    assert f'<option value="{ZUID}" selected>' in shown.text
    bundle = coordinator.post_from(section, f"/app/trajectories/{tid}/handover/bundle",
                                   {"to": ZUID})

    # then the file is a sealed bundle, and sending it is a fact of her file
    assert bundle.status_code == 200, bundle.text
    assert "attachment" in bundle.headers["content-disposition"]
    assert kind_of(bundle.content) == BUNDLE_FORMAT
    assert GIRL.name.encode() not in bundle.content
    exported = list(noord.app.stream(tid))[-1]
    assert isinstance(exported, HandoverExported)
    assert exported.to_organisation == ZUID
    actions = [e["action"] for e in noord.app.db.fetchall(
        "SELECT action FROM access_log WHERE trajectory_id = ?", [str(tid)])]
    assert "export" in actions

    # when Zuid's administrator takes it in, with the coordinator who takes her on
    taken = zuid_admin.post_from(
        "/app/admin/exchange", "/app/admin/exchange/imports", {"coordinator": "coord-zuid"},
        files={"file": ("bundle", bundle.content)})

    # then her trajectory exists at Zuid, pointing at Noord and the bundle, with her care
    # there summarised (not copied event by event), and the file kept as it came
    assert taken.status_code == 200, taken.text
    rows = zuid.trajectories()
    assert len(rows) == 1
    there = UUID(str(rows[0]["trajectory_id"]))
    stream = list(zuid.app.stream(there))
    opened = stream[0]
    assert isinstance(opened, TrajectoryOpened)
    assert (opened.received_from, opened.received_bundle) == (NOORD, exported.bundle_hash)
    assert opened.identity == GIRL
    assert (opened.organisation, opened.coordinator) == (ZUID, "coord-zuid")
    assert opened.received_care is not None
    assert opened.received_care.package == handover_package()
    assert opened.received_care.comensha_decision == "registered_by_name"
    assert not any(isinstance(e, HandoverExported) for e in stream)
    kept = zuid.app.db.fetchone("SELECT bundle FROM exchange_imports WHERE trajectory_id = ?",
                                [str(there)])
    assert kept is not None
    assert str(kept["bundle"]).encode() == bundle.content
    # (what it held: every fact included with its hash in Noord's chain)
    opened_bundle = Exchange(zuid.app)
    assert opened_bundle.received_bundle(there) == bundle.content
    # the coordinator at Zuid reads where she came from on her handover page
    zuid_coordinator = Browser(zuid, "coord-zuid")
    her_page = f"/app/trajectories/{there}/handover-and-aftercare"
    assert NOORD in zuid_coordinator.get(her_page).text
    # and downloads from there the signed acknowledgement (the command line does too)
    from_page = zuid_coordinator.post_from(
        her_page, f"/app/trajectories/{there}/handover/acknowledgement", {})
    assert from_page.status_code == 200, from_page.text
    assert kind_of(from_page.content) == ACKNOWLEDGEMENT_FORMAT

    # when the same bundle is taken in again, it is refused, and nothing is added
    again = zuid_admin.post_from(
        "/app/admin/exchange", "/app/admin/exchange/imports", {"coordinator": "coord-zuid"},
        files={"file": ("bundle", bundle.content)})
    assert again.status_code == 409
    assert "al eerder" in again.text
    assert len(zuid.trajectories()) == 1

    # when Zuid writes the signed acknowledgement that it accepted her, and Noord takes it in
    ack_file = tmp_path / "ack"
    code, out, err = cli(zuid, monkeypatch, capsys, "handover", "accept", str(there),
                         "--out", str(ack_file), "--as", "coord-zuid")
    assert code == 0, err
    code, out, err = cli(noord, monkeypatch, capsys, "handover", "import", str(ack_file),
                         "--as", "coord-noord")

    # then Noord's file of her records the acceptance: she arrived, she is not out of view
    assert code == 0, err
    accepted = list(noord.app.stream(tid))[-1]
    assert isinstance(accepted, HandoverAccepted)
    assert ZUID in accepted.confirmation
    assert noord.app.get(tid).state.handover.accepted_on is not None
    # and her history on Noord's pages says so in Dutch, with no hash
    history = coordinator.get(f"/app/trajectories/{tid}/history")
    assert history.status_code == 200
    said = " ".join(Page.of(history.text).text)
    assert f"{ZUID} bevestigde met een ondertekende ontvangstbevestiging" in said
    assert accepted.confirmation not in said
    assert "signed acknowledgement" not in said
    # and the same acknowledgement again is refused with a sentence and a non-zero exit
    code, out, err = cli(noord, monkeypatch, capsys, "handover", "import", str(ack_file),
                         "--as", "coord-noord")
    assert code != 0
    assert "refused" in err


def test_a_changed_bundle_and_one_for_a_third_installation_are_refused_and_record_nothing(
    three: tuple[Installation, ...], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    noord, zuid, west = three
    partners((noord, zuid), (zuid, noord), (noord, west))
    exchange = Exchange(noord.app)
    to_zuid = exchange.export(noord.coordinator, girl_ready_for_handover(noord, ZUID), ZUID)
    for_west = girl_ready_for_handover(noord, WEST, Identity(
        name="Mila Elders", date_of_birth=date(2011, 2, 2), home_region="Almere"))
    code, _, err = cli(noord, monkeypatch, capsys, "handover", "export", str(for_west),
                       "--to", WEST, "--out", str(tmp_path / "west"), "--as", "coord-noord")
    assert code == 0, err
    assert isinstance(list(noord.app.stream(for_west))[-1], HandoverExported)

    # when one character of the bundle changed on the way
    text = to_zuid.data.decode()
    at = text.index('"ciphertext":"') + len('"ciphertext":"') + 10
    tampered = text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]
    (tmp_path / "tampered").write_text(tampered)
    code, _, err = cli(zuid, monkeypatch, capsys, "handover", "import",
                       str(tmp_path / "tampered"), "--as", "coord-zuid")

    # then it is refused with a clear sentence, and Zuid records nothing
    assert code != 0
    assert "file-altered" in err
    assert "nothing was recorded" in err
    assert zuid.trajectories() == []
    # and on the page the same refusal reads in Dutch
    admin = Browser(zuid, "admin-zuid")
    refused = admin.post_from(
        "/app/admin/exchange", "/app/admin/exchange/imports", {"coordinator": "coord-zuid"},
        files={"file": ("bundle", tampered.encode())})
    assert refused.status_code == 409
    assert "gewijzigd" in refused.text
    assert zuid.trajectories() == []

    # when a bundle for a third installation arrives at Zuid
    code, _, err = cli(zuid, monkeypatch, capsys, "handover", "import", str(tmp_path / "west"),
                       "--as", "coord-zuid")

    # then it is refused as addressed elsewhere, and nothing is recorded
    assert code != 0
    assert "addressed-elsewhere" in err
    assert zuid.trajectories() == []
    assert zuid.app.db.fetchall("SELECT bundle_hash FROM exchange_imports") == []

    # while the untouched bundle is taken in
    (tmp_path / "good").write_bytes(to_zuid.data)
    code, _, err = cli(zuid, monkeypatch, capsys, "handover", "import",
                       str(tmp_path / "good"), "--as", "coord-zuid")
    assert code == 0, err
    assert len(zuid.trajectories()) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_bundle_goes_only_where_the_prepared_handover_goes(
    three: tuple[Installation, ...],
) -> None:
    noord, zuid, _ = three
    partners((noord, zuid))
    exchange = Exchange(noord.app)
    actor = noord.coordinator
    not_prepared = noord.app.open_trajectory(intake(), actor).trajectory_id
    # not prepared: refused by the rule, nothing recorded
    with pytest.raises(RuleRefused) as refused:
        exchange.export(actor, not_prepared, ZUID)
    assert refused.value.code == "handover-not-prepared"
    assert noord.app.get(not_prepared).version == 1
    # prepared for West, sent to Zuid: refused
    for_west = girl_ready_for_handover(noord, WEST)
    version = noord.app.get(for_west).version
    with pytest.raises(RuleRefused) as elsewhere:
        exchange.export(actor, for_west, ZUID)
    assert elsewhere.value.code == "handover-prepared-for-another"
    # West is not a registered partner: refused before anything is sealed
    with pytest.raises(ExchangeRefused) as unknown:
        exchange.export(actor, for_west, WEST)
    assert unknown.value.code == "partner-unknown"
    assert noord.app.get(for_west).version == version


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_bundle_carries_what_the_receiver_needs_with_the_hashes_of_her_facts(
    three: tuple[Installation, ...],
) -> None:
    noord, zuid, _ = three
    partners((noord, zuid), (zuid, noord))
    tid = girl_ready_for_handover(noord, ZUID)
    exported = Exchange(noord.app).export(noord.coordinator, tid, ZUID)
    from trajectory.exchange.keys import encryption_key
    from trajectory.exchange.sealing import open_bundle

    opened = open_bundle(exported.data, partners=Partners(zuid.app.db).all(),
                         ours={ZUID: encryption_key(zuid.app.keys, zuid.app.db, zuid.clock())})
    import msgspec

    bundle = msgspec.json.decode(opened.content, type=HandoverBundle)
    events = {e.originator_version: e for e in noord.app.stream(tid)}
    assert (bundle.identity, bundle.phase) == (GIRL, 1)
    assert bundle.handover.package == handover_package()
    assert bundle.comensha_decision == "registered_by_name"
    assert {f.type for f in bundle.facts} >= {"SafetyAnalysisRecorded",
                                              "ComenshaRegistrationDecided",
                                              "HandoverPrepared", "HandoverMeetingHeld"}
    for head in bundle.chain_heads:
        assert events[head.position].hash == head.hash
    assert set(bundle.permissions) == set(bundle.caps)
    assert bundle.handover.meeting_on is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_bundle_she_came_with_is_deleted_at_her_erasure(
    three: tuple[Installation, ...],
) -> None:
    noord, zuid, _ = three
    partners((noord, zuid), (zuid, noord))
    exported = Exchange(noord.app).export(noord.coordinator,
                                          girl_ready_for_handover(noord, ZUID), ZUID)
    taken = Exchange(zuid.app).take_in(zuid.coordinator, exported.data)
    admin = Actor(user_id="admin-zuid", role="admin", organisation=ZUID)
    erase(zuid.app, taken.trajectory_id, by=admin, reason="request granted",
          legal_ground="request-granted")
    assert zuid.app.db.fetchall("SELECT bundle_hash FROM exchange_imports") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_bundle_asked_for_another_organisation_than_prepared_is_refused_on_her_page(
    three: tuple[Installation, ...],
) -> None:
    noord, zuid, west = three
    partners((noord, zuid), (noord, west))
    tid = girl_ready_for_handover(noord, ZUID)
    version = noord.app.get(tid).version
    coordinator = Browser(noord, "coord-noord")
    section = f"/app/trajectories/{tid}/handover-and-aftercare"
    # when her coordinator asks for a bundle for West, while the handover goes to Zuid
    refused = coordinator.post_from(section, f"/app/trajectories/{tid}/handover/bundle",
                                    {"to": WEST})
    # then her page says why in Dutch, no file comes, and nothing is recorded
    assert refused.status_code == 409
    assert "text/html" in refused.headers["content-type"]
    assert "voorbereid voor een andere organisatie" in refused.text
    assert noord.app.get(tid).version == version
    assert noord.app.db.fetchall("SELECT bundle_hash FROM exchange_exports") == []
