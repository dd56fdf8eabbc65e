"""Events written by a released version, kept as fixtures that every later version must load.

    python -m tests.upgrade_fixture            # record tests/fixtures/upgrade/v<version>/
    python -m tests.upgrade_fixture --schema   # rewrite tests/fixtures/upgrade/event_schema.json

A fixture is an SQLite store with demo trajectories and one more that records the events
the demo does not (so every event class appears), its master key file, and `events.json`,
the decoded events as this version read them. It is synthetic data: the key is committed
on purpose and protects nothing. Record a new fixture directory when a release adds event
classes; never rewrite an old one (its bytes are the point).

The schema snapshot (`event_schema.json`) lists every event class with its class version,
fields and field types; tests/test_reliability_upgrade.py compares it with the code so that
an event that changes shape without a class_version bump (and an upcaster) fails loudly.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import inspect
import json
import pkgutil
import sqlite3
import types
import typing
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

import trajectory.aggregates.events as events_package
from trajectory import __version__
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import Identity

FIXTURES = Path(__file__).parent / "fixtures" / "upgrade"
SCHEMA = FIXTURES / "event_schema.json"
STORE = "store.sqlite"
KEY = "store.sqlite.key"
EVENTS = "events.json"
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
"""The moment the fixture was recorded (the demo dates its facts back from it)."""


# -- event classes and their shape -------------------------------------------------------
def event_classes() -> dict[str, type[TrajectoryEvent]]:
    """Every event class of the aggregate, by topic."""
    found: dict[str, type[TrajectoryEvent]] = {}
    for module_info in pkgutil.iter_modules(events_package.__path__):
        module = importlib.import_module(f"{events_package.__name__}.{module_info.name}")
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, TrajectoryEvent)
                and obj is not TrajectoryEvent
                and obj.__module__ == module.__name__
            ):
                found[get_topic(obj)] = obj
    return dict(sorted(found.items()))


def describe(tp: Any, structs: dict[str, Any]) -> Any:
    """A JSON description of a field type; Structs are described once, in `structs`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return {"literal": list(args)}
    if origin in (typing.Union, types.UnionType):
        return {"union": [describe(a, structs) for a in args]}
    if origin is typing.Annotated:
        return describe(args[0], structs)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"tuple": describe(args[0], structs)}
        return {"fixed_tuple": [describe(a, structs) for a in args]}
    if origin in (list, set, frozenset):
        return {origin.__name__: describe(args[0], structs)}
    if origin is dict:
        return {"dict": [describe(args[0], structs), describe(args[1], structs)]}
    if isinstance(tp, typing.TypeVar):
        return "id"
    if inspect.isclass(tp) and issubclass(tp, msgspec.Struct):
        if tp.__name__ not in structs:
            structs[tp.__name__] = {}  # placeholder against recursion
            hints = typing.get_type_hints(tp, include_extras=True)
            defaults = dict(
                zip(
                    tp.__struct_fields__[len(tp.__struct_fields__) - len(tp.__struct_defaults__) :],
                    tp.__struct_defaults__,
                    strict=True,
                )
            )
            structs[tp.__name__] = {
                name: {"type": describe(hints[name], structs), "default": name in defaults}
                for name in tp.__struct_fields__
            }
        return {"struct": tp.__name__}
    if tp is type(None):
        return "None"
    if inspect.isclass(tp):
        return tp.__name__
    return repr(tp)


def schema() -> dict[str, Any]:
    """Every event class: class version and fields (type, whether it has a default)."""
    structs: dict[str, Any] = {}
    classes: dict[str, Any] = {}
    for topic, cls in event_classes().items():
        hints = typing.get_type_hints(cls, include_extras=True)
        fields = {
            f.name: {
                "type": describe(hints[f.name], structs),
                "default": f.default is not dataclasses.MISSING
                or f.default_factory is not dataclasses.MISSING,
            }
            for f in dataclasses.fields(cls)
        }
        classes[topic] = {"class_version": getattr(cls, "class_version", None) or 1,
                          "fields": fields}
    return {"events": classes, "structs": dict(sorted(structs.items()))}


# -- decoded events ------------------------------------------------------------------------
def decoded(event: TrajectoryEvent) -> dict[str, Any]:
    """An event as plain JSON values: its topic and every field."""
    fields: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(dict(vars(event))))
    return {"topic": get_topic(type(event)), **dict(sorted(fields.items()))}


def decode_store(app: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        str(trajectory_id): [decoded(e) for e in app.stream(trajectory_id)]
        for trajectory_id in app.stored_trajectory_ids()
    }


# -- recording -----------------------------------------------------------------------------
def record(directory: Path) -> None:
    from tests.conftest import FakeClock
    from trajectory.aggregates.events.handover import (
        ExternalReceiver,
        HandoverPackage,
        HandoverParty,
        WithoutHandover,
    )
    from trajectory.aggregates.events.outcomes import GoalOutcome, InstrumentScore
    from trajectory.application import Actor, TrajectoryApplication
    from trajectory.commands import (
        ArrangeLeisure,
        AssignCoordinator,
        AssignTeam,
        ChangeVictimStatus,
        CloseTrajectory,
        DecideComenshaRegistration,
        DecideContinuationAfter18,
        DecideDestructionRequest,
        FilePoliceReport,
        GiveResearchConsent,
        InterpretSignals,
        MeasureFollowUp,
        OpenTrajectory,
        PrepareHandover,
        RecordAftercareContact,
        RecordCareOutcome,
        RecordComenshaAcknowledgement,
        RecordFollowUpNotPossible,
        RecordHandoverExport,
        RecordYouthCareItems,
        ReportRevictimisation,
        ReportToComensha,
        RequestDestruction,
        WithdrawResearchConsent,
    )
    from trajectory.crypto import MasterKey
    from trajectory.demo import run_demo
    from trajectory.settings import Settings

    if directory.exists():
        raise SystemExit(f"{directory} exists: a recorded fixture is never rewritten")
    directory.mkdir(parents=True)
    (directory / KEY).write_text(MasterKey.generate().to_text() + "\n")
    settings = Settings(
        database_url=f"sqlite:///{directory / STORE}", master_key_file=str(directory / KEY)
    )
    clock = FakeClock(NOW)
    app = TrajectoryApplication(settings, clock=clock)
    try:
        run_demo(app, count=3, seed=2026, progress=lambda done, total: None)
        clock.now = NOW
        actor = Actor(user_id="fixture-coordinator", role="coordinator", organisation="fixture")
        opened = app.open_trajectory(
            OpenTrajectory(
                intake_date=dt.date(2026, 2, 2),
                victim_status="potential",
                nationality="foreign",
                risk_profiles=["influenceable"],
                setting="ambulatory",
                referral_source="Veilig Thuis",
                legal_framework="vrijwillig",
                identity=Identity(
                    name="Fixture Meisje",
                    date_of_birth=dt.date(2008, 3, 3),
                    home_region="Utrecht",
                    bsn="111222333",
                ),
                # Beleidsinformatie Jeugd (issue 20): the opening's added fields with values.
                sex="female", municipality="0344", referrer="certified_institution",
                care_form="ambulatory_in_network", started_in_crisis=True,
            ),
            actor,
        )
        tid = opened.trajectory_id
        for command in (
            ChangeVictimStatus(victim_status="confirmed", reason="police statement"),
            InterpretSignals(disciplines=["physician"], together=False,
                             discussed_with_her=False, note="one by one"),
            FilePoliceReport(police_force="Midden-Nederland"),
            ArrangeLeisure(kind="sport", activity="zwemles in het buurtbad", supervised=True),
            # Who is responsible for her: a team, and another coordinator.
            AssignTeam(team="fixture-team-noord", reason="she moved to the group home"),
            AssignCoordinator(coordinator="fixture-coordinator-2", reason="caseload shared"),
            GiveResearchConsent(given_by="girl"),
            WithdrawResearchConsent(withdrawn_by="girl", reason="changed her mind"),
            RequestDestruction(requested_by="girl"),
            DecideDestructionRequest(granted=False, argument="files of a running case"),
            # The chain after care: the fields added to stored events, with values.
            DecideContinuationAfter18(decision="refused", argument="she wants no more care"),
            DecideComenshaRegistration(decision="not_registered", argument="potential only"),
            # The CoMensha report itself, after a decision to register her.
            DecideComenshaRegistration(decision="registered_by_date_of_birth",
                                       argument="confirmed; consent would harm the bond"),
            ReportToComensha(sent_by="designated_officer"),
            RecordComenshaAcknowledgement(reference="CM-fixture-0001"),
            PrepareHandover(
                receiving_organisation="Jeugdzorg Elders",
                external_receiver=ExternalReceiver(
                    organisation="Jeugdzorg Elders", worker="M. de Vries", contact="030-1"
                ),
                parties=(HandoverParty(role="wijkagent", name="Agent Jansen"),),
                package=HandoverPackage(
                    sexual_development="age-appropriate",
                    loverboy_problem="suspected loverboy",
                    safety_plan="no contact with the suspect",
                    agreements="weekly contact",
                    aftercare_plan="three months",
                    contact_every_days=7,
                ),
            ),
            # The handover sealed for another installation (issue 19).
            RecordHandoverExport(to_organisation="Jeugdzorg Elders", bundle_hash="ab" * 32),
            CloseTrajectory(
                reason="transferred",
                destination="other_youth_care",
                responsible_next="Jeugdzorg Elders",
                without_handover=WithoutHandover(
                    reason="left_suddenly", argument="she moved before the meeting"
                ),
            ),
            RecordAftercareContact(channel="phone", outcome="not_reached"),
            RecordAftercareContact(channel="video", outcome="reached", note="found her"),
            # Outcomes after closure: a revictimisation, a measurement with an instrument's
            # scores, and one that was not possible.
            ReportRevictimisation(kind="loverboy_contact", day_is="became_known",
                                  known_via="police", police_involved=True, note="seen"),
            MeasureFollowUp(
                moment=0, living_situation="no_fixed_abode", school_or_work="none",
                qualification="vmbo", revictimised_since=True, runaways_since=2,
                loverboy_contact="loverboy_and_network", note="hard to reach",
                instruments=[InstrumentScore(name="SDQ", version="2019", total=21.5,
                                             subscales={"emotional": 7.0, "conduct": 4.5})],
            ),
            RecordFollowUpNotPossible(moment=6, reason="other", note="moved abroad"),
            # The outcome of care for CBS (issue 20), after closure, and an item corrected.
            RecordYouthCareItems(referrer="judicial", started_in_crisis=False),
            RecordCareOutcome(satisfied="yes", without_help="no", informant="professional",
                              goals=[GoalOutcome(goal="safe at school", attained="partly")]),
        ):
            app.execute(tid, command, actor)
        # A girl taken in from another installation's bundle: the opening's added fields
        # with values (issue 19).
        from trajectory.aggregates.events.intake import EarlierCare
        from trajectory.aggregates.trajectory import Received

        app.open_trajectory(
            OpenTrajectory(
                intake_date=dt.date(2026, 2, 3), victim_status="suspected",
                risk_profiles=["traumatised"], setting="residential",
                referral_source="Jeugdzorg Elders", legal_framework="ots",
                identity=Identity(name="Fixture Overgedragen",
                                  date_of_birth=dt.date(2009, 4, 4), home_region="Zwolle"),
            ),
            actor,
            received=Received("Jeugdzorg Elders", "cd" * 32, EarlierCare(
                intake_date=dt.date(2025, 11, 1), phase=2, phase_name="processing",
                package=HandoverPackage(
                    sexual_development="age-appropriate", loverboy_problem="confirmed",
                    safety_plan="no contact with the suspect", agreements="weekly contact",
                    aftercare_plan="three months"),
                comensha_decision="registered_by_name", facts=12,
                open_attention=("care-analysis",))),
        )
        contents = decode_store(app)
    finally:
        app.close()
    missing = set(event_classes()) - {e["topic"] for es in contents.values() for e in es}
    if missing:
        raise SystemExit(f"the fixture lacks {sorted(missing)}: add commands that record them")
    with sqlite3.connect(directory / STORE) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    with sqlite3.connect(directory / STORE) as connection:
        connection.execute("VACUUM")
    (directory / EVENTS).write_text(json.dumps(contents, indent=1, sort_keys=True) + "\n")


def write_schema() -> None:
    SCHEMA.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA.write_text(json.dumps(schema(), indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--schema", action="store_true", help="only rewrite event_schema.json")
    parser.add_argument(
        "--name",
        help="record under this directory name: between releases, the last release and what"
        " the store adds (v0.1.0+aftercare-chain); by default v<version>",
    )
    args = parser.parse_args(argv)
    if not args.schema:
        record(FIXTURES / (args.name or f"v{__version__}"))
    write_schema()


def fixture_directories() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("v*") if (p / STORE).exists())


def trajectory_ids(directory: Path) -> list[UUID]:
    data = json.loads((directory / EVENTS).read_text())
    return [UUID(t) for t in sorted(data)]


if __name__ == "__main__":
    main()
