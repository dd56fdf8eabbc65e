"""National figures without pooling data: three installations (two SQLite stores, one
PostgreSQL) each publish their own suppressed figures of a closed year as a document
signed with their own key; the rapporteur verifies and adds them up. A changed file, a
file signed by a key not on her list, and a year counted twice are refused by name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.builders import COORDINATOR, open_trajectory
from tests.conftest import FakeClock, all_protocols, wipe_postgres
from tests.live import live_server
from trajectory.aggregates.events.intake import Identity
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.commands import DecideComenshaRegistration, ReportToComensha
from trajectory.composition import build_application
from trajectory.crypto import MasterKey
from trajectory.settings import Settings
from trajectory.statistics.document import SignedFigures, sign, verify, write
from trajectory.statistics.signing import installation_public_key

MINOR = Identity(name="x", date_of_birth=date(2011, 2, 2), home_region="x")
YEAR = 2025


@dataclass
class Installation:
    url: str
    master_key: str

    def app(self, clock: FakeClock) -> TrajectoryApplication:
        return build_application(
            Settings(database_url=self.url, master_key=self.master_key),
            clock=clock, protocols=all_protocols(),
        )


def take_in(app: TrajectoryApplication, nationality: str, in_care: int, reported: int) -> None:
    """`in_care` girls of one nationality taken in during 2025, the first `reported` of
    them reported to CoMensha that year."""
    for n in range(in_care):
        tid = open_trajectory(app, COORDINATOR, intake_date=date(YEAR, 3, 1 + n),
                              nationality=nationality, identity=MINOR)
        if n < reported:
            app.execute(tid, DecideComenshaRegistration(
                decision="registered_by_name", consent_by="parent"), COORDINATOR)
            app.execute(tid, ReportToComensha(occurred_on=f"{YEAR}-06-01"), COORDINATOR)


# (nationality, taken into care, reported) per installation
GIRLS = {
    "a": [("dutch", 12, 7), ("foreign", 3, 0), ("unknown", 6, 0)],
    "b": [("dutch", 8, 6), ("foreign", 5, 5)],
    "c": [("dutch", 10, 5), ("foreign", 6, 6)],
}


@pytest.fixture
def installations(tmp_path: Path, postgres_url: str) -> dict[str, Installation]:
    """Three installations with girls of 2025, recorded in 2025: a and b on SQLite files,
    c on PostgreSQL; each with its own master key."""
    wipe_postgres(postgres_url)
    found = {
        "a": Installation(f"sqlite:///{tmp_path / 'a.sqlite'}", MasterKey.generate().to_text()),
        "b": Installation(f"sqlite:///{tmp_path / 'b.sqlite'}", MasterKey.generate().to_text()),
        "c": Installation(postgres_url, MasterKey.generate().to_text()),
    }
    for name, installation in found.items():
        clock = FakeClock(datetime(YEAR, 12, 20, 9, tzinfo=UTC))
        app = installation.app(clock)
        try:
            for nationality, in_care, reported in GIRLS[name]:
                take_in(app, nationality, in_care, reported)
        finally:
            app.close()
    return found


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        installation: Installation | None, *argv: str) -> tuple[int, str, str]:
    """`trajectory ...` as the operator runs it, on an installation's store (or none)."""
    if installation is not None:
        monkeypatch.setenv("TRAJECTORY_DATABASE_URL", installation.url)
        monkeypatch.setenv("TRAJECTORY_MASTER_KEY", installation.master_key)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def publish_all(
    installations: dict[str, Installation], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> dict[str, Path]:
    files = {}
    for name, installation in installations.items():
        files[name] = tmp_path / f"figures-{name}.json"
        code, out, err = cli(monkeypatch, capsys, installation, "statistics", "publish",
                             "--year", str(YEAR), "--out", str(files[name]),
                             "--installation", f"Jeugdzorg {name.upper()}")
        assert code == 0, err
        assert "signed by" in out
    return files


def rows(table: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {row["key"]: (row["cells"][0]["n"], row["cells"][0]["percent"])
            for row in table["rows"]}


def test_three_installations_published_and_combined_into_the_national_table(
    installations: dict[str, Installation], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # given each installation's figures of 2025, published by its own operator
    files = publish_all(installations, tmp_path, monkeypatch, capsys)
    a = json.loads(files["a"].read_text())
    # then a document holds only suppressed, rounded figures: A's three foreign girls are
    # not in it, nor (their complement) its six of unknown nationality
    assert rows(a["figures"]["in_care"])["foreign"] == (None, None)
    assert rows(a["figures"]["in_care"])["unknown_nationality"] == (None, None)
    assert rows(a["figures"]["in_care"])["total"] == (20, 100)  # 21
    # when the rapporteur combines them, trusting the three published keys
    keys = tmp_path / "trusted-keys"
    keys.write_text("# the installations' published keys\n" + "".join(
        f"{json.loads(f.read_text())['public_key']}  {name}\n" for name, f in files.items()))
    national_file = tmp_path / "national.json"
    code, out, err = cli(monkeypatch, capsys, None, "statistics", "combine",
                         *map(str, files.values()), "--trusted-keys", str(keys),
                         "--out", str(national_file))
    assert code == 0, err
    national = json.loads(national_file.read_text())
    registered, in_care = rows(national["registered"]), rows(national["in_care"])
    # then registrations add up: 5 + 10 + 10 girls reported, Dutch and foreign apart
    assert registered["total"] == (25, 100)
    assert registered["dutch"] == (15, 60)
    assert registered["foreign"] == (10, 40)
    assert registered["minors"] == (25, 100)
    # and girls in care add up apart from them; a cell one installation suppressed stays
    # suppressed nationally (A's foreign girls are unknown to the sum)
    assert in_care["total"] == (50, 100)
    assert in_care["dutch"] == (30, 60)
    assert in_care["foreign"] == in_care["unknown_nationality"] == (None, None)
    assert national["years"] == [YEAR]
    assert all(s["trusted"] for s in national["sources"])
    # and the text names each source by its fingerprint
    for f in files.values():
        assert json.loads(f.read_text())["fingerprint"] in out


def test_a_changed_document_is_refused_by_name_and_nothing_is_combined(
    installations: dict[str, Installation], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # given the three documents, and B's changed after signing: 15 girls in care made 20
    files = publish_all(installations, tmp_path, monkeypatch, capsys)
    b = json.loads(files["b"].read_text())
    assert b["figures"]["in_care"]["rows"][0]["cells"][0]["n"] == 15
    b["figures"]["in_care"]["rows"][0]["cells"][0]["n"] = 20
    files["b"].write_text(json.dumps(b, indent=2))
    # when they are combined
    code, out, err = cli(monkeypatch, capsys, None, "statistics", "combine",
                         *map(str, files.values()))
    # then the changed file is refused, named, and no table is printed
    assert code == 1
    assert f"{files['b']}: refused" in err
    assert "signature does not match" in err
    assert str(files["a"]) not in err
    assert str(files["c"]) not in err
    assert out == ""


def test_a_document_signed_by_a_key_not_on_the_list_is_refused(
    installations: dict[str, Installation], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    # given the documents, and C's figures re-signed by someone else's key (a valid
    # signature, but not C's)
    files = publish_all(installations, tmp_path, monkeypatch, capsys)
    c_key = json.loads(files["c"].read_text())["public_key"]
    figures, _ = verify(files["c"].read_bytes())
    forged = tmp_path / "figures-c-forged.json"
    write(sign(figures, Ed25519PrivateKey.generate()), forged)
    keys = tmp_path / "trusted-keys"
    keys.write_text("".join(json.loads(files[n].read_text())["public_key"] + "\n"
                            for n in ("a", "b")) + c_key + "\n")
    # when combined against the trusted list: the forged one is refused by name
    code, _, err = cli(monkeypatch, capsys, None, "statistics", "combine",
                       str(files["a"]), str(files["b"]), str(forged),
                       "--trusted-keys", str(keys))
    assert code == 1
    assert f"{forged}: refused: signed by key" in err
    assert "not on the trusted list" in err
    # and without a list it verifies, but is printed as vouched for only by its own key
    code, out, _ = cli(monkeypatch, capsys, None, "statistics", "combine",
                       str(files["a"]), str(files["b"]), str(forged))
    assert code == 0
    assert "UNTRUSTED" in out
    # and the same installation's year twice is refused: it would count her twice
    code, _, err = cli(monkeypatch, capsys, None, "statistics", "combine",
                       str(files["a"]), str(files["a"]))
    assert code == 1
    assert "counts once" in err


def test_an_open_year_is_not_published_and_the_key_is_the_one_published(
    installations: dict[str, Installation], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    a = installations["a"]
    # when the operator asks for the year now running, it is refused: nothing written
    this_year = date.today().year
    target = tmp_path / "open.json"
    code, _, err = cli(monkeypatch, capsys, a, "statistics", "publish",
                       "--year", str(this_year), "--out", str(target))
    assert code == 2
    assert "is not closed" in err
    assert not target.exists()
    # and the key the command line prints is the key the API publishes, and signs
    code, out, _ = cli(monkeypatch, capsys, a, "statistics", "key")
    assert code == 0
    printed = out.split()[2]
    app = a.app(FakeClock())
    try:
        with live_server(app) as live, live.client() as http:
            answer = http.get("/statistics/signing-key")
        assert answer.status_code == 200
        assert answer.json()["public_key"] == printed
        assert answer.json()["algorithm"] == "Ed25519"
        # and a master-key rotation keeps it: it is re-wrapped with the data keys
        assert app.keys is not None
        app.keys.rotate(MasterKey.generate(), app.clock())
        assert installation_public_key(app.keys, app.db, app.clock()).to_text() == printed
    finally:
        app.close()


def test_the_document_is_the_published_shape() -> None:
    # a document decodes as a whole: format, figures, key, fingerprint, signature
    fields = set(SignedFigures.__struct_fields__)
    assert fields == {"format", "figures", "public_key", "fingerprint", "signature"}
