"""Loading protocol files: refuse anything malformed, naming the file, key and problem."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from trajectory.aggregates.vocabulary import (
    PERMISSION_KINDS,
    ContactLevel,
    Level,
    scale_for,
)
from trajectory.protocol.floor import FloorBreach, floor_breaches, raw_breaches
from trajectory.protocol.model import Protocol


class ProtocolError(ValueError):
    """A protocol file that cannot be used; the message names file, key and problem."""

    def __init__(self, source: str, key: str, problem: str, rule: str | None = None):
        named = f" (rule {rule})" if rule else ""
        super().__init__(f"{source}: {key}: {problem}{named}")
        self.source = source
        self.key = key
        self.problem = problem
        # The floor's rule code when the file loosens the floor (`floor.py`), else None.
        self.rule = rule

    @classmethod
    def from_breach(cls, source: str, breach: FloorBreach) -> ProtocolError:
        return cls(source, breach.key, breach.problem, breach.rule)


# msgspec ends a message with "- at `$.path`", or "- at `key` in `$.path`" for a bad key.
_PATH_IN_MESSAGE = re.compile(
    r"^(?P<problem>.*?)(?: - at (?P<in_key>`key` in )?`\$(?P<path>[^`]*)`)?$"
)
_PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
# msgspec names a bad value in a table `[...]`; these are the tables, by their values' type.
_TABLE_VALUES: dict[str, Any] = {"caps": Level, "network": ContactLevel}


def parse_protocol(text: str, source: str, *, floor: bool = True) -> Protocol:
    """Decode and check a protocol from TOML text; `source` names it in errors. A file
    that loosens the floor is refused with the floor's rule code (`floor=False` leaves
    that to the caller, which lists every breach: `protocol check`)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProtocolError(source, "(file)", f"not valid TOML: {e}") from None
    if floor:
        for breach in raw_breaches(raw):
            raise ProtocolError.from_breach(source, breach)
    try:
        protocol = msgspec.convert(raw, Protocol)
    except msgspec.ValidationError as e:
        match = _PATH_IN_MESSAGE.match(str(e))
        assert match is not None
        key = _key_in_table(raw, (match.group("path") or "").lstrip(".")) or "(top level)"
        problem = match.group("problem")
        if match.group("in_key"):
            problem = f"{problem} (as a key)"
        raise ProtocolError(source, key, problem) from None
    _check_meaning(protocol, source)
    if floor:
        for breach in floor_breaches(protocol):
            raise ProtocolError.from_breach(source, breach)
    return protocol


def _key_in_table(raw: Any, path: str) -> str:
    """Name a bad table value by its own key (`phase[0].caps.phone`), not by `[...]`."""
    table_path = path.removesuffix("[...]")
    value_type = _TABLE_VALUES.get(table_path.rpartition(".")[2])
    if table_path == path or value_type is None:
        return path
    table = raw
    for name, index in _PATH_STEP.findall(table_path):
        try:
            table = table[int(index)] if index else table[name]
        except (KeyError, IndexError, TypeError):
            return path
    if isinstance(table, dict):
        for key, value in table.items():
            try:
                msgspec.convert(value, value_type)
            except msgspec.ValidationError:
                return f"{table_path}.{key}"
    return path


def _check_meaning(protocol: Protocol, source: str) -> None:
    if not protocol.phase:
        raise ProtocolError(source, "phase", "at least one phase is required")
    for index, phase in enumerate(protocol.phase):
        at = f"phase[{index}]"
        if phase.number != index + 1:
            raise ProtocolError(
                source,
                f"{at}.number",
                f"phases must be numbered 1..n in order, found {phase.number}",
            )
        missing = [k for k in PERMISSION_KINDS if k not in phase.caps]
        if missing:
            raise ProtocolError(source, f"{at}.caps", f"missing caps for {', '.join(missing)}")
        for kind, level in phase.caps.items():
            if level not in scale_for(kind):
                raise ProtocolError(
                    source,
                    f"{at}.caps.{kind}",
                    f"{level!r} is not a level of {kind} (one of {', '.join(scale_for(kind))})",
                )
        for risk in ("safe", "unknown", "risky"):
            if risk not in phase.network:
                raise ProtocolError(source, f"{at}.network.{risk}", "missing")
        if index == 0 and phase.entry_criteria:
            raise ProtocolError(
                source, f"{at}.entry_criteria", "phase 1 starts at intake and has no criteria"
            )
        if "min-days-in-phase" in phase.entry_criteria and phase.min_days_in_previous_phase == 0:
            raise ProtocolError(
                source,
                f"{at}.min_days_in_previous_phase",
                "criterion min-days-in-phase needs a number of days above 0",
            )
    months = protocol.follow_up.months_after_care
    if list(months) != sorted(set(months)):
        raise ProtocolError(
            source,
            "follow_up.months_after_care",
            "the follow-up moments are months after care in increasing order, each once",
        )


def load_protocol(path: Path) -> Protocol:
    """Load a protocol file from disk."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ProtocolError(str(path), "(file)", f"cannot be read: {e.strerror}") from None
    return parse_protocol(text, str(path))


@cache
def shipped_protocol(file_name: str) -> Protocol:
    """A protocol that ships with the package, by its file name."""
    text = resources.files("trajectory.protocol").joinpath(file_name).read_text("utf-8")
    return parse_protocol(text, f"trajectory/protocol/{file_name}")


def default_protocol() -> Protocol:
    """The protocol that ships with the package (after the Asja care programme): the
    residential one, current for every setting no other protocol names."""
    return shipped_protocol("default.toml")


def ambulatory_protocol() -> Protocol:
    """The shipped protocol for ambulatory treatment (she lives at home)."""
    return shipped_protocol("ambulatory.toml")
