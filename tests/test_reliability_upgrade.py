"""Upgrade: the events written by earlier versions still load, verify and mean the same.

Every directory under tests/fixtures/upgrade/ is a store recorded by a released version
(see tests/upgrade_fixture.py; synthetic data, its key committed on purpose). The current
code must open it, verify every hash chain, decode every event to what that version
decoded (a field added since, with a default or by an upcaster, may come on top), and
load each trajectory from its stored snapshots to the state a full replay gives. And no
event class may change shape without a class_version bump: the shapes are compared with
the committed schema snapshot.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.upgrade_fixture import (
    EVENTS,
    KEY,
    SCHEMA,
    STORE,
    decode_store,
    event_classes,
    fixture_directories,
    schema,
)
from trajectory.application import TrajectoryApplication, project_trajectory
from trajectory.settings import Settings
from trajectory.verify import verify_store

pytestmark = pytest.mark.slow

REGENERATE = "python -m tests.upgrade_fixture --schema"


def test_there_is_a_fixture_of_this_version_or_an_earlier_one() -> None:
    assert fixture_directories(), "no recorded store under tests/fixtures/upgrade/"


@pytest.mark.parametrize("directory", fixture_directories(), ids=lambda p: p.name)
def test_a_store_of_an_earlier_version_loads_verifies_and_means_the_same(
    directory: Path, tmp_path: Path
) -> None:
    copy = tmp_path / directory.name
    shutil.copytree(directory, copy)  # the committed bytes stay as they are
    (copy / KEY).chmod(0o600)  # git keeps no file modes; a readable key is refused
    app = TrajectoryApplication(
        Settings(database_url=f"sqlite:///{copy / STORE}", master_key_file=str(copy / KEY))
    )
    try:
        report = verify_store(app)
        assert report.ok, [str(f) for f in report.findings]
        expected: dict[str, list[dict[str, Any]]] = json.loads((directory / EVENTS).read_text())
        found = decode_store(app)
        assert sorted(found) == sorted(expected)
        for trajectory_id, events in expected.items():
            assert len(found[trajectory_id]) == len(events), trajectory_id
            for then, now in zip(events, found[trajectory_id], strict=True):
                changed = {k: (v, now.get(k)) for k, v in then.items() if now.get(k) != v}
                assert not changed, (then["topic"], then["originator_version"], changed)
        for stored_id in app.stored_trajectory_ids():
            replayed = project_trajectory(None, app.stream(stored_id))
            assert replayed is not None
            from_snapshots = app.get(stored_id)
            assert from_snapshots.version == replayed.version
            assert msgspec.to_builtins(from_snapshots.state) == msgspec.to_builtins(
                replayed.state
            )
    finally:
        app.close()


def test_the_fixtures_hold_every_event_class_of_the_code() -> None:
    recorded = set()
    for directory in fixture_directories():
        data = json.loads((directory / EVENTS).read_text())
        recorded |= {e["topic"] for events in data.values() for e in events}
    missing = sorted(set(event_classes()) - recorded)
    assert not missing, (
        f"no stored example of {missing}: record a fixture of this version"
        " (python -m tests.upgrade_fixture) so that later versions must load them"
    )


# -- shapes ---------------------------------------------------------------------------------
def compatible(old: Any, new: Any, structs: tuple[dict[str, Any], dict[str, Any]]) -> bool:
    """Whether every value stored under type `old` still decodes as type `new`."""
    if old == new and not referenced(old, {}):
        return True  # the same, with no Struct inside whose fields may have changed
    if isinstance(new, dict) and "union" in new:
        members = old["union"] if isinstance(old, dict) and "union" in old else [old]
        return all(any(compatible(m, n, structs) for n in new["union"]) for m in members)
    if not (isinstance(old, dict) and isinstance(new, dict)) or old.keys() != new.keys():
        return False
    ((kind, old_arg),) = old.items()
    new_arg = new[kind]
    if kind == "literal":
        return set(old_arg) <= set(new_arg)
    if kind == "struct":
        return old_arg == new_arg and fields_compatible(
            structs[0].get(old_arg, {}), structs[1].get(new_arg, {}), structs
        ) == []
    if isinstance(old_arg, list):
        return len(old_arg) == len(new_arg) and all(
            compatible(a, b, structs) for a, b in zip(old_arg, new_arg, strict=True)
        )
    return compatible(old_arg, new_arg, structs)


def fields_compatible(
    old: dict[str, Any], new: dict[str, Any], structs: tuple[dict[str, Any], dict[str, Any]]
) -> list[str]:
    """What in `new` breaks values stored under `old` (empty: nothing)."""
    problems = [f"{name} removed" for name in old if name not in new]
    problems += [
        f"{name} added without a default"
        for name, spec in new.items()
        if name not in old and not spec["default"]
    ]
    for name in old:
        if name in new and not compatible(old[name]["type"], new[name]["type"], structs):
            inside = [
                f"{struct}.{problem}"
                for struct in sorted(referenced(old[name]["type"], structs[0]))
                for problem in fields_compatible(
                    structs[0].get(struct, {}), structs[1].get(struct, {}), structs
                )
            ]
            detail = "; ".join(inside) or f"{old[name]['type']} -> {new[name]['type']}"
            problems.append(f"{name} changed type: {detail}")
    return problems


def shape_changes(
    committed: dict[str, Any], current: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """(changes that break stored events without a class_version bump, compatible changes
    and new classes that the snapshot should record)."""
    structs = (committed["structs"], current["structs"])
    breaking: list[str] = []
    to_record: list[str] = []
    for topic, then in committed["events"].items():
        now = current["events"].get(topic)
        if now is None:
            breaking.append(
                f"{topic} is gone: stored events name it; keep the class or map the topic"
                " with register_topic"
            )
            continue
        if now == then and all(
            structs[0].get(s) == structs[1].get(s) for s in referenced(then, structs[0])
        ):
            continue
        problems = fields_compatible(then["fields"], now["fields"], structs)
        if problems and now["class_version"] == then["class_version"]:
            breaking.append(
                f"{topic} changed shape without a class_version bump ({'; '.join(problems)}):"
                f" set class_version = {then['class_version'] + 1} and add"
                f" upcast_v{then['class_version']}_v{then['class_version'] + 1}"
            )
        else:
            to_record.append(topic)
    to_record += sorted(set(current["events"]) - set(committed["events"]))
    return breaking, to_record


def current_schema() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(schema()))
    return result


def test_no_event_class_changes_shape_without_a_class_version_bump() -> None:
    breaking, to_record = shape_changes(json.loads(SCHEMA.read_text()), current_schema())
    assert not breaking, "\n".join(breaking)
    assert not to_record, (
        f"compatible changes to {to_record}: the stored fixtures prove they still load;"
        f" record the new shape with `{REGENERATE}`"
    )


SIGNAL = "trajectory.aggregates.events.quality:SignalRecorded"
ADVANCED = "trajectory.aggregates.events.phasing:PhaseAdvanced"


def test_the_shape_check_names_what_breaks_and_what_may_pass() -> None:
    """The check itself, on doctored snapshots: as if the code had changed since."""
    now = current_schema()
    had_a_field = copy.deepcopy(now)
    had_a_field["events"][SIGNAL]["fields"]["severity"] = {"type": "int", "default": False}
    breaking, _ = shape_changes(had_a_field, now)
    assert breaking == [
        f"{SIGNAL} changed shape without a class_version bump (severity removed):"
        " set class_version = 2 and add upcast_v1_v2"
    ]
    bumped = copy.deepcopy(now)
    bumped["events"][SIGNAL]["class_version"] = 2
    assert shape_changes(had_a_field, bumped) == ([], [SIGNAL])
    struct_lacked = copy.deepcopy(now)
    del struct_lacked["structs"]["Waiver"]["justification"]
    breaking, _ = shape_changes(struct_lacked, now)
    # (every event that holds waivers breaks alike: a phase advance among them)
    assert any(
        b.startswith(
            f"{ADVANCED} changed shape without a class_version bump (waivers changed type:"
            " Waiver.justification added without a default)"
        )
        for b in breaking
    )
    fewer_kinds = copy.deepcopy(now)
    fewer_kinds["events"][SIGNAL]["fields"]["kind"]["type"]["literal"] = ["loverboy"]
    assert shape_changes(fewer_kinds, now) == ([], [SIGNAL])  # widened: old values decode
    assert shape_changes(now, fewer_kinds)[0], "narrowed: old values would not decode"


def referenced(spec: Any, structs: dict[str, Any]) -> set[str]:
    """The names of the Structs a field spec refers to, directly or through others."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "struct" in value and value["struct"] not in found:
                found.add(value["struct"])
                walk(structs.get(value["struct"], {}))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(spec)
    return found
