"""Every code the pages turn into words, by its message context in the catalogues.

A code (a vocabulary value, a field name, a criterion, a rule code, an event class, a core
element) is stored or sent as it is; the pages show a word for it, looked up with
`pgettext(context, code)`. This module lists the codes from where they are declared (the
Literals, the command Structs, the event classes, the protocol, the rules' source), so the
catalogue test can say which one lacks a word, and `scripts/i18n-update` can add a new one
to both catalogues. It is read by tools and tests, never while a page is shown.
"""

from __future__ import annotations

import ast
import inspect
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import msgspec
from msgspec import inspect as mi

VALUE = "value"
FIELD = "field"
EVENT = "event"
CRITERION = "criterion"
ELEMENT = "element"
RULE = "rule"
PERMISSION_NOUN = "permission-noun"
"""A permission kind as the subject of a refusal's sentence ("internet use")."""
CAP = "cap"
"""A level as the end of a refusal's sentence ("allowed only under supervision")."""

FACT = "fact"
"""A kind of fact, by its English title in the list of facts (the form's heading)."""
FORM_GROUP = "form-group"
"""A group the forms are listed under."""
PROTOCOL = "protocol"
"""A shipped protocol by its name ("default": the standard protocol)."""

CONTEXTS = (VALUE, FIELD, EVENT, CRITERION, ELEMENT, RULE, PERMISSION_NOUN, CAP, FACT,
            FORM_GROUP, PROTOCOL)

FORM_SPECIFIC_FIELDS = (
    "permission/kind", "placement/kind", "intervention/kind", "signal/kind",
    "aftercare-contact/kind", "leisure/kind", "education/level", "contact-restore/level",
    "contact-restrict/level", "aftercare-end/reason", "closure/reason", "correction/reason",
    "phase-transition/reason", "signal-interpretation/disciplines",
)
"""Fields a form names more precisely than the field's own word ("form/field"): the
"kind" of a permission is the permission itself. Translator.field looks these up first."""

# Fields that are never shown as a label: the event's own bookkeeping.
_HIDDEN_FIELDS = frozenset({"id", "originator_id", "originator_version", "timestamp",
                            "occurred_at", "recorded_by", "prev_hash", "hash"})


def literal_values(hint: Any) -> set[str]:
    """The values of every Literal inside a type hint (through unions, tuples, lists)."""
    found: set[str] = set()
    stack = [hint]
    while stack:
        current = stack.pop()
        if typing.get_origin(current) is Literal:
            found |= {str(v) for v in typing.get_args(current)}
        else:
            stack.extend(typing.get_args(current))
    return found


def _module_literals(module: ModuleType) -> set[str]:
    found: set[str] = set()
    for value in vars(module).values():
        if typing.get_origin(value) is Literal:
            found |= literal_values(value)
    return found


def command_structs() -> list[type[msgspec.Struct]]:
    """The command Structs the forms show (the intake's wire Struct included)."""
    from trajectory.web import forms
    from trajectory.web.organisation_pages import ORGANISATION_FORMS

    return [spec.command for spec in (*forms.FORMS, forms.INTAKE, *ORGANISATION_FORMS)]


def _struct_fields(cls: type, prefix: str = "") -> Iterator[str]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    for f in info.fields:
        yield prefix + f.name
        for inner, listed in _structs_in(f.type):
            # A nested Struct's fields are named by their path ("identity.name"); the
            # items of a list read with their own names ("criterion: ...").
            yield from _struct_fields(inner, "" if listed else prefix + f.name + ".")


def _structs_in(t: Any, listed: bool = False) -> Iterator[tuple[type, bool]]:
    if isinstance(t, mi.StructType):
        yield t.cls, listed
    elif isinstance(t, mi.Metadata):
        yield from _structs_in(t.type, listed)
    elif isinstance(t, mi.UnionType):
        for member in t.types:
            yield from _structs_in(member, listed)
    elif isinstance(t, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)):
        yield from _structs_in(t.item_type, True)


def event_classes() -> list[type]:
    """Every event class of a trajectory (the stored facts the history shows)."""
    from trajectory.aggregates import events
    from trajectory.aggregates.events.base import TrajectoryEvent

    package = Path(events.__file__).parent
    found: dict[str, type] = {}
    for path in sorted(package.glob("*.py")):
        module = __import__(f"trajectory.aggregates.events.{path.stem}", fromlist=["_"])
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, TrajectoryEvent)
                    and value is not TrajectoryEvent and value.__module__ == module.__name__):
                found[name] = value
    return [found[name] for name in sorted(found)]


def _event_fields(cls: type) -> Iterator[str]:
    hints = typing.get_type_hints(cls)
    for name, hint in hints.items():
        if name in _HIDDEN_FIELDS or name.startswith(("_", "originator")):
            continue
        yield name
        for inner, listed in _hinted_structs(hint):
            yield from _struct_fields(inner, "" if listed else name + ".")


def _hinted_structs(hint: Any, listed: bool = False) -> Iterator[tuple[type, bool]]:
    if inspect.isclass(hint) and issubclass(hint, msgspec.Struct):
        yield hint, listed
    inner_listed = listed or typing.get_origin(hint) in (tuple, list, set, frozenset)
    for arg in typing.get_args(hint):
        yield from _hinted_structs(arg, inner_listed)


def values() -> set[str]:
    """Vocabulary values: the domain's Literals, the commands' own, and the codes the
    read pages show (access log, handover states, element statuses, roles)."""
    from trajectory import access_log, emergency, erasure, views
    from trajectory.aggregates import vocabulary
    from trajectory.identity import users
    from trajectory.organisation import elements
    from trajectory.projections import core_elements
    from trajectory.protocol import model
    from trajectory.research import export

    found = _module_literals(vocabulary) | _module_literals(access_log)
    found |= _module_literals(emergency)  # an emergency access's reason, its review
    found |= _module_literals(model) - set(typing.get_args(model.Criterion))
    for cls in command_structs():
        for hint in typing.get_type_hints(cls).values():
            found |= literal_values(hint)
    found |= literal_values(views.HandoverStateName) | literal_values(erasure.LegalGround)
    found |= literal_values(core_elements.ElementStatus)
    found |= literal_values(elements.OrgElementStatus)
    found |= literal_values(export.ExportFormat)
    found |= set(users.ROLES)
    return found


def fields() -> set[str]:
    """Field names, dotted for a nested Struct ("identity.name"), of every command the
    forms show and of every event the history shows."""
    found: set[str] = set()
    for cls in command_structs():
        found |= set(_struct_fields(cls))
    for event in event_classes():
        found |= set(_event_fields(event))
    return found | set(FORM_SPECIFIC_FIELDS)


def criteria() -> set[str]:
    """Entry criteria of the protocol and the attention items' codes."""
    from trajectory.protocol import attention, model

    found = set(typing.get_args(model.Criterion))
    tree = ast.parse(Path(attention.__file__).read_text())
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "_due" and node.args
                and isinstance(node.args[0], ast.Constant)):
            found.add(str(node.args[0].value))
    return found


def rule_codes(root: Path | None = None) -> set[str]:
    """Every refusal code under src: `code="..."` in a raise of a RuleRefused (or of one
    of its subclasses) and the `code = "..."` of each subclass, read from the source."""
    from trajectory.aggregates import errors
    from trajectory.write_errors import InputRefused

    base = root or Path(errors.__file__).parent.parent
    refusals = {"RuleRefused"} | {
        name for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.RuleRefused)
    }
    refusals_of_input: list[type[Any]] = [InputRefused, *_subclasses(InputRefused)]
    found: set[str] = {str(cls.code) for cls in refusals_of_input}
    for path in sorted(base.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            found |= set(_codes_in(node, refusals))
    return found


def _subclasses(cls: type[Any]) -> Iterator[type[Any]]:
    sub: type[Any]
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _codes_in(node: ast.AST, refusals: set[str]) -> Iterable[str]:
    if isinstance(node, ast.Call):
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name in refusals:
            for keyword in node.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    yield str(keyword.value.value)
    elif isinstance(node, ast.ClassDef) and (
        node.name in refusals
        or any(getattr(b, "id", getattr(b, "attr", "")) in refusals for b in node.bases)
    ):
        for statement in node.body:
            if (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
                    and any(getattr(t, "id", "") == "code" for t in statement.targets)):
                yield str(statement.value.value)


def elements() -> set[str]:
    """The core elements, by number."""
    from trajectory.projections.core_elements import ELEMENTS

    return {str(number) for number in ELEMENTS}


def permission_nouns() -> set[str]:
    from trajectory.aggregates import vocabulary

    return literal_values(vocabulary.PermissionKind)


def caps() -> set[str]:
    from trajectory.aggregates import vocabulary

    return literal_values(vocabulary.Level) | literal_values(vocabulary.ContactLevel)


def fact_titles() -> set[str]:
    from trajectory.web import forms
    from trajectory.web.organisation_pages import ORGANISATION_FORMS

    return {spec.english for spec in (*forms.FORMS, forms.INTAKE, *ORGANISATION_FORMS)}


def form_groups() -> set[str]:
    from trajectory.web import forms

    return set(forms.GROUPS.values())


def protocol_names() -> set[str]:
    """The names of the protocols that ship with the package (an organisation's own
    protocol file brings its name as it wrote it)."""
    from trajectory.protocol import loader

    folder = Path(loader.__file__).parent
    return {loader.load_protocol(path).name for path in sorted(folder.glob("*.toml"))}


def shown_codes() -> dict[str, set[str]]:
    """Every code that needs a word, by message context."""
    return {
        VALUE: values(),
        FIELD: fields(),
        EVENT: {cls.__name__ for cls in event_classes()},
        CRITERION: criteria(),
        ELEMENT: elements(),
        RULE: rule_codes(),
        PERMISSION_NOUN: permission_nouns(),
        CAP: caps(),
        FACT: fact_titles(),
        FORM_GROUP: form_groups(),
        PROTOCOL: protocol_names(),
    }
