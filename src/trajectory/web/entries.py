"""How a recorded fact reads on a page: its details as (label, words) pairs.

A stored fact holds codes (`phone`, `supervised`), keys (a contact's id, a user's id),
numbers, days and free text side by side. The page says each the way a care professional
would: a code by its word (and a code without a word is a miss the tests catch), a contact
by her role, a person by her display name, a team by its name, a protocol by its name,
the reasons the aggregate wrote itself (`aggregates.reasons`) as a sentence, and free text
as typed. Which
field holds a code is read from the event class (a Literal type), never guessed from the
text: a one-word note ("groep") is no code.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import msgspec

from trajectory.aggregates import reasons
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.network import NetworkContactRegistered
from trajectory.aggregates.events.phasing import PermissionsCapped
from trajectory.web.i18n import N_, Translator

SKIPPED = frozenset({"id", "originator_id", "originator_version"})
PERSON_FIELDS = frozenset({"coordinator", "receiving_worker", "sending_worker", "recorded_by"})
"""Fields that hold a user's id: shown as her display name."""
CRITERION_FIELDS = frozenset({"criterion", "criteria_met"})
REASON_FIELDS = frozenset({"cause", "reason", "risk_assessment_instrument", "confirmation"})
"""Fields the aggregate (or a command's default) may fill in itself (`aggregates.reasons`)."""


@functools.cache
def coded_fields(cls: type) -> frozenset[str]:
    """The names of the fields of an event (and of the Structs inside it) whose type is a
    Literal: their values are codes and always read through the catalogue."""
    found: set[str] = set()
    stack: list[type] = [cls]
    seen: set[type] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for name, hint in typing.get_type_hints(current).items():
            for inner in _walk(hint):
                if typing.get_origin(inner) is Literal:
                    found.add(name)
                elif inspect.isclass(inner) and issubclass(inner, msgspec.Struct):
                    stack.append(inner)
    return frozenset(found)


def _walk(hint: Any) -> Iterator[Any]:
    yield hint
    if typing.get_origin(hint) is not Literal:
        for arg in typing.get_args(hint):
            yield from _walk(arg)


def contact_labels(t: Translator, events: Iterable[TrajectoryEvent]) -> Callable[[str], str]:
    """Her contacts by their role ("moeder"); where two share a role, with the number of
    the entry that registered each ("vriendin (nr. 12)"), as the history numbers entries."""
    registered = [(e.contact_id, e.role, e.originator_version) for e in events
                  if isinstance(e, NetworkContactRegistered)]
    roles = [role for _, role, _ in registered]
    labels = {
        cid: role if roles.count(role) == 1 else t("%(role)s (no. %(position)s)", role=role,
                                                   position=position)
        for cid, role, position in registered
    }

    def label(contact_id: str) -> str:
        return labels.get(contact_id) or t("an unknown contact")

    return label


@dataclass
class EntryWords:
    """What a page knows to say a fact's details: her contacts, the people, and which of
    this fact's fields hold codes (None: not known, a code is shown only where the
    catalogue has a word for it)."""

    t: Translator
    person: Callable[[str], str] = str
    contact: Callable[[str], str] = str
    coded: frozenset[str] | None = None
    team: Callable[[str], str] = str
    """A team by its name (`TeamAssigned` holds its id)."""

    def of(self, event: TrajectoryEvent) -> EntryWords:
        return EntryWords(self.t, self.person, self.contact, coded_fields(type(event)),
                          self.team)

    def details(self, data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
        t = self.t
        for key, value in data.items():
            if key in SKIPPED or value is None or value == "" or (
                isinstance(value, (list, tuple, dict)) and not value
            ):  # an empty tuple (no waivers) is nothing to show either
                continue
            name = prefix + key
            if isinstance(value, dict):
                yield from self.details(value, name + ".")
            elif isinstance(value, (list, tuple)) and isinstance(value[0], dict):
                for item in value:
                    yield t.field(name), "; ".join(
                        f"{t.field(k)}: {self.value(k, v)}" for k, v in item.items()
                        if v is not None and v != "")
            else:
                yield t.field(name), self.value(key, value)

    def value(self, key: str, value: Any) -> str:
        t = self.t
        if isinstance(value, bool):
            return t.yes_no(value)
        if isinstance(value, dict):  # an instrument's subscale scores, by their own names
            return ", ".join(f"{k}: {self.value(str(k), v)}" for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return ", ".join(self.value(key, v) for v in value)
        if isinstance(value, (int, float)):
            return t.number(value)
        text = str(value)
        if key in CRITERION_FIELDS:
            return t.criterion(text)
        if key == "contact_id":
            return self.contact(text)
        if key in PERSON_FIELDS:
            return self.person(text)
        if key == "team":
            return self.team(text)
        if key == "protocol_name":
            return t.protocol(text)
        if key in REASON_FIELDS and (automatic := reasons.read(text)) is not None:
            return self.reason(*automatic)
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                return t.date(date.fromisoformat(text))
            except ValueError:
                pass
        if self.coded is not None and key in self.coded:
            return t.value(text)
        return t.value(text) if t.has("value", text) else text

    def reason(self, kind: str, parts: dict[str, str]) -> str:
        """An automatic reason (`aggregates.reasons`) as a sentence of the page."""
        t = self.t
        if kind == "regression":
            return t("went back from phase %(from_phase)s to phase %(to_phase)s", **parts)
        if kind == "risk-assessed":
            return t("the contact's risk was assessed as %(risk)s",
                     risk=t.value(parts["risk"]))
        if kind == "acknowledged":
            accepted_by = parts["accepted_by"] if parts["accepted_by"] != "-" else t(
                "an unnamed worker")
            return t("%(organisation)s confirmed by a signed acknowledgement that she was"
                     " accepted, by %(worker)s on %(day)s", organisation=parts["sender"],
                     worker=accepted_by,
                     day=t.date(date.fromisoformat(parts["accepted_on"])))
        return t(N_("not recorded"))

    def capped(self, event: PermissionsCapped) -> Iterator[tuple[str, str]]:
        """Freedoms and contacts lowered by a regression: the reason once, then one
        sentence per change ("Telefoon: verlaagd van beperkt naar onder toezicht")."""
        t = self.t
        yield t.field("cause"), self.value("cause", event.cause)
        for p in event.permissions:
            yield _first_up(t.value(p.kind)), t(
                "lowered from %(from_level)s to %(to_level)s",
                from_level=t.value(p.from_level), to_level=t.value(p.to_level))
        for c in event.contacts:
            yield t("Contact with %(contact)s", contact=self.contact(c.contact_id)), t(
                "lowered from %(from_level)s to %(to_level)s",
                from_level=t.value(c.from_level), to_level=t.value(c.to_level))


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]
