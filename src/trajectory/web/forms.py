"""Forms for every fact, generated from the list of facts and their command Structs.

Which facts have a form, under which slug and group, with which title and for whom, is
declared in `trajectory.facts`.

The command Structs are the one description of what a fact carries (the API decodes the
same ones), so a form is read off them with `msgspec.inspect`: a Literal becomes a
select, a bool a checkbox, a list of Literals checkboxes, a list of strings a text area
with one item per line, a short string an input and a long one a text area, a date a
date input, a nested Struct a fieldset. A few fields need the trajectory to be useful
(which contact, which phase, which criteria to waive): those are filled in here.

A form offers only what can apply: a permission's levels of its kind up to the phase's
cap, the next phase (or an earlier one), no second way to say the same thing
(`NOT_OFFERED`). It marks required exactly what the server refuses empty: the schema's
required fields, and those a rule of the protocol holds to a value (`RULE_REQUIRED`).

A submitted form is decoded the same way: the fields back into a dict, then
`msgspec.convert` into the command, so the schema's own constraints hold. Every required
field left empty is named at once; a field that does not fit, an input the write path
refuses and a rule's refusal that names fields (`RuleRefused.fields`) are each shown
beside their input (`form_name` maps a path into the command to the form's input).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import msgspec
from msgspec import inspect as mi

from trajectory import commands as c
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import (
    PERMISSION_KINDS,
    GoalAttained,
    HandoverPartyRole,
    PermissionKind,
    level_rank,
    scale_for,
)
from trajectory.api import schemas
from trajectory.bij.codes import MUNICIPALITIES
from trajectory.facts import COORDINATOR, FACTS
from trajectory.protocol.model import Protocol
from trajectory.protocol.rules import HANDOVER_PACKAGE_TEXTS, MIN_DISCIPLINES, criteria_for
from trajectory.web.i18n import Translator

Widget = Literal[
    "text", "textarea", "date", "time", "number", "select", "checkbox", "checkboxes", "lines",
    "waivers",
]


@dataclass(frozen=True)
class FormSpec:
    """One kind of fact that can be recorded from the web pages."""

    slug: str
    command: type[msgspec.Struct]
    roles: tuple[str, ...]
    english: str
    """Its title in the source language: the catalogues' msgid (context "fact")."""
    group: str

    def title(self, t: Translator) -> str:
        return t.pgettext(FACT_TITLE, self.english)


FORMS: tuple[FormSpec, ...] = tuple(
    FormSpec(fact.form.slug, fact.schema, fact.roles, fact.title, fact.form.group)
    for fact in FACTS
    if fact.form is not None
)
BY_SLUG: dict[str, FormSpec] = {f.slug: f for f in FORMS}
INTAKE = FormSpec("intake", schemas.OpenTrajectory, COORDINATOR, "Intake", "intake")

GROUPS: dict[str, str] = {
    # The groups the forms are listed under, in the source language (context "form-group").
    "safety": "Safety and medical care",
    "analysis": "Analysis, plan and placement",
    "network": "Network",
    "phasing": "Phasing",
    "treatment": "Treatment",
    "education": "Education",
    "runaway": "Runaways",
    "chain": "Police and chain",
    "handover": "Handover",
    "aftercare": "Aftercare",
    "outcomes": "Outcomes and follow-up",
    "end": "Closing and corrections",
    "privacy": "Consent and destruction",
    "team": "Team and coordinator",
}

FACT_TITLE = "fact"
FORM_GROUP = "form-group"


def group_title(t: Translator, group: str) -> str:
    return t.pgettext(FORM_GROUP, GROUPS[group])


# Which form satisfies a criterion or an attention item (None: no form does; wait, or
# waive with a justification). Read off the list of facts; a fact only the aftercare
# worker records (accepting the handover) offers the coordinator no form to go to.
SATISFIED_BY: dict[str, str | None] = {
    "min-days-in-phase": None,
    **{
        criterion: fact.slug if "coordinator" in fact.roles else None
        for fact in FACTS
        for criterion in fact.criteria
    },
}

_TEXT_MAX = 200
_FIRST: dict[str, tuple[str, ...]] = {"permission": ("kind",)}

RULE_REQUIRED: dict[type[msgspec.Struct], tuple[str, ...]] = {
    # Fields the schema lets be empty but a rule of the protocol refuses empty: the form
    # marks them required, as the server will hold them.
    c.PrepareHandover: tuple(f"package.{name}" for name in HANDOVER_PACKAGE_TEXTS),
    c.RecordCareAnalysis: ("disciplines",),
}

def _ruled(command: type[msgspec.Struct]) -> tuple[str, ...]:
    return next((names for cls, names in RULE_REQUIRED.items() if issubclass(command, cls)), ())


NOT_OFFERED: dict[tuple[type[msgspec.Struct], str], frozenset[str]] = {
    # Choices the form leaves out because another field asks the same once: whether the
    # police are involved is its own question, not also a measure (the write path refuses
    # the two saying different things: `check_police_involvement`).
    (c.RecordSafetyAnalysis, "measures"): frozenset({"police_involved"}),
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass
class Field:
    """One input of a form, ready for the template."""

    name: str
    widget: Widget
    label: str
    required: bool
    choices: list[Choice] = field(default_factory=list)
    choice_groups: list[tuple[str, list[Choice]]] = field(default_factory=list)
    """Choices under headings (a select's optgroups), when they belong to another choice."""
    always: bool = False
    """Sent even when left empty: the schema needs the field present, empty or not."""
    value: Any = None
    error: str | None = None
    hint: str | None = None
    maxlength: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    group: str | None = None
    """The label of the fieldset this field belongs to (a nested Struct)."""

    @property
    def id(self) -> str:
        return field_id(self.name)


def field_id(name: str) -> str:
    """The HTML id of a form's input by its name (`package.safety_plan`)."""
    return "f-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class WaiverRow:
    criterion: str
    label: str
    met: bool
    checked: bool
    justification: str


@dataclass
class Context:
    """What the generator may use to fill in choices: the trajectory as it is."""

    state: TrajectoryState | None = None
    protocol: Protocol | None = None
    today: date | None = None
    preset: Mapping[str, str] = field(default_factory=dict)
    aftercare_workers: Sequence[tuple[str, str, str]] = ()
    """The installation's active aftercare workers (id, name, organisation): whom a
    handover may go to, picked by name (`receiving_worker`)."""
    duplicate_warned: bool = False
    """The intake form asks for `duplicate_reason` only once it has warned of a girl with
    the same name and birth date in care (`trajectory.duplicates`)."""
    teams: Sequence[tuple[str, str]] = ()
    """The organisation's active teams (id, name): whom she may be placed with (`team`)."""
    own_teams: Sequence[str] = ()
    """The teams the coordinator filling in the form belongs to (ids): at intake, her one
    team is chosen already; of several, she must choose (`trajectory.writing`)."""
    coordinators: Sequence[tuple[str, str]] = ()
    """The organisation's active coordinators (id, name): who may be made responsible."""
    municipalities: Mapping[str, str] = field(default_factory=lambda: dict(MUNICIPALITIES))
    """The municipalities of the installation's list (code -> name,
    `trajectory.bij.municipalities`): where she may live. Filled in only for the forms
    that ask (`web.care_pages`)."""
    plan_goals: Sequence[str] = ()
    """The goals of her latest treatment plan: the outcome of care asks, per goal, whether
    it was attained, so its rows come filled in with them."""


def _unwrap(t: Any) -> tuple[Any, bool]:
    """Strip metadata and `| None`; return the inner type and whether None is allowed."""
    optional = False
    while True:
        if isinstance(t, mi.Metadata):
            t = t.type
            continue
        if isinstance(t, mi.UnionType):
            rest = [x for x in t.types if not isinstance(x, mi.NoneType)]
            optional = optional or len(rest) < len(t.types)
            if len(rest) == 1:
                t = rest[0]
                continue
        return t, optional


def _declared_order(cls: type, name: str) -> tuple[str, ...]:
    """The Literal's values in the order they were written (msgspec sorts them)."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:  # pragma: no cover - a hint that does not resolve: keep msgspec's order
        return ()
    stack = [hints.get(name)]
    while stack:
        hint = stack.pop()
        if hint is None:
            continue
        if typing.get_origin(hint) is Literal:
            return tuple(str(v) for v in typing.get_args(hint))
        stack.extend(typing.get_args(hint))
    return ()


def _choices(t: Translator, values: Sequence[Any], order: Sequence[str]) -> list[Choice]:
    ordered = [v for v in order if v in values] + sorted(
        str(v) for v in values if str(v) not in order
    )
    return [Choice(v, t.value(v)) for v in ordered]


def fields_of(
    spec: FormSpec, t: Translator, ctx: Context, *, cls: type | None = None, prefix: str = "",
    group: str | None = None, optional_group: bool = False,
) -> list[Field]:
    """The fields of a form, in the Struct's order, with the trajectory's choices. The
    fields of an optional nested Struct (`without_handover`) are not required each: left
    empty, the Struct is left out."""
    struct = cls or spec.command
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    out: list[Field] = []
    for f in info.fields:
        name = prefix + f.name
        inner, optional = _unwrap(f.type)
        required = f.required and not optional and not optional_group
        ruled = name in _ruled(spec.command) and not optional_group
        label = t.field(name, spec.slug)
        base = Field(name=name, widget="text", label=label, required=required, group=group)
        if f.name == "occurred_on" and not prefix:
            base.widget = "date"
            base.label = t("Date it happened")
            base.hint = t("Empty: today.")
            base.required = False
            out.append(base)
            continue
        if isinstance(inner, mi.StructType):
            out.extend(
                fields_of(spec, t, ctx, cls=inner.cls, prefix=name + ".", group=label,
                          optional_group=optional_group or optional)
            )
            continue
        special = _special(spec, f.name, base, t, ctx)
        if isinstance(special, list):
            out.extend(special)
            continue
        if special is not None:
            out.append(special)
            continue
        if isinstance(inner, mi.LiteralType):
            base.widget = "select"
            base.choices = _choices(t, inner.values, _declared_order(struct, f.name))
        elif isinstance(inner, mi.BoolType):
            base.widget = "checkbox"
            base.required = False
        elif isinstance(inner, mi.DateType):
            base.widget = "date"
        elif isinstance(inner, mi.IntType):
            base.widget = "number"
            base.minimum = inner.ge
            base.maximum = inner.le
        elif isinstance(inner, mi.ListType):
            item, _ = _unwrap(inner.item_type)
            if isinstance(item, mi.LiteralType):
                left_out = next((values for (cls, n), values in NOT_OFFERED.items()
                                 if n == f.name and issubclass(struct, cls)), frozenset())
                base.widget = "checkboxes"
                base.choices = [
                    ch for ch in _choices(t, item.values, _declared_order(struct, f.name))
                    if ch.value not in left_out
                ]
                base.required = bool(inner.min_length) or ruled
            else:
                base.widget = "lines"
                base.hint = t("One per line.")
                base.required = bool(inner.min_length) or ruled
            base.always = required
        elif isinstance(inner, mi.StrType) and inner.pattern == c.TIME_OF_DAY:
            base.widget = "time"
            base.required = False
        elif isinstance(inner, mi.StrType):
            limit = inner.max_length
            base.widget = "text" if limit is not None and limit <= _TEXT_MAX else "textarea"
            base.maxlength = limit
            base.required = (required and bool(inner.min_length)) or ruled
            base.always = required
        out.append(base)
    for f2 in out:
        if f2.name in ctx.preset and f2.value is None:
            f2.value = ctx.preset[f2.name]
        if f2.name == "disciplines" and issubclass(struct, c.RecordCareAnalysis):
            f2.hint = t("One per line; at least %(count)s.", count=MIN_DISCIPLINES)
    if prefix:
        return out
    # What the fact is about first (which permission, which contact); the date last.
    first = [f2 for f2 in out if f2.name in _FIRST.get(spec.slug, ("contact_id",))]
    last = [f2 for f2 in out if f2.name == "occurred_on"]
    return first + [f2 for f2 in out if f2 not in first and f2 not in last] + last


PARTY_ROWS = 3
"""Empty rows offered for the people around her after the handover (more: a second time)."""


def _special(
    spec: FormSpec, name: str, base: Field, t: Translator, ctx: Context
) -> Field | list[Field] | None:
    s = ctx.state
    if spec.slug == "intake" and name == "duplicate_reason":
        if not ctx.duplicate_warned:
            return []
        base.widget = "textarea"
        base.required = True
        base.hint = t("Why she is taken in although a girl with this name and date of birth"
                      " is in care already (for example: a sister with the same name).")
        return base
    if spec.slug == "handover" and name == "receiving_worker":
        return _receiving_worker(base, t, ctx)
    if name == "team" and spec.slug in ("intake", "team"):
        return _team(spec, base, t, ctx)
    if spec.slug == "coordinator" and name == "coordinator":
        base.widget = "select"
        base.required = True
        base.choices = [Choice(uid, shown) for uid, shown in ctx.coordinators
                        if s is None or uid != s.coordinator]
        if not base.choices:
            base.hint = t("Your organisation has no other coordinator.")
        return base
    if spec.slug == "handover" and name == "parties":
        return _party_rows(spec, t, base)
    if spec.slug == "follow-up" and name == "instruments":
        return _instrument_rows(t, base)
    if spec.slug == "care-outcome" and name == "goals":
        return _goal_rows(t, base, ctx.plan_goals)
    if name == "municipality" and spec.slug in ("intake", "youth-care-items"):
        # The municipalities of the installation's list, by name (`bij.municipalities`).
        base.widget = "select"
        base.choices = [Choice(code, town) for code, town in
                        sorted(ctx.municipalities.items(), key=lambda item: item[1].casefold())]
        return base
    if name == "contact_id":
        base.widget = "select"
        base.required = True
        base.choices = [
            Choice(cid, f"{contact.role} ({t.value(contact.risk)}, {t.value(contact.level)})")
            for cid, contact in (s.contacts.items() if s else [])
        ]
        if not base.choices:
            base.hint = t("Register a network contact first.")
        return base
    if spec.slug == "permission" and name == "kind":
        base.widget = "select"
        base.required = True
        kind = _preset_kind(ctx)
        base.choices = [Choice(k, t.value(k)) for k in PERMISSION_KINDS
                        if kind is None or k == kind]
        return base
    if spec.slug == "permission" and name == "level":
        return _levels(base, t, ctx)
    if spec.slug == "phase-transition" and name == "to_phase":
        base.widget = "select"
        base.required = True
        if ctx.protocol is not None:
            # Phases go one by one: the next phase, or back to an earlier one.
            base.choices = [
                Choice(str(p.number), f"{p.number}: {p.label or p.name}")
                for p in ctx.protocol.phase
                if s is None or p.number == s.phase + 1 or p.number < s.phase
            ]
            if s is not None and s.phase < ctx.protocol.last_phase:
                base.value = str(s.phase + 1)
        return base
    if spec.slug in (*ENDING_CARE, "phase-transition") and name == "waivers":
        base.widget = "waivers"
        base.required = False
        return base
    return None


def _preset_kind(ctx: Context) -> PermissionKind | None:
    kind = ctx.preset.get("kind")
    return next((k for k in PERMISSION_KINDS if k == kind), None)


def _levels(base: Field, t: Translator, ctx: Context) -> Field:
    """The levels of her kind of permission up to the current phase's cap (a level above
    it is refused; a level of another kind does not apply), with where she stands now and
    the cap in a sentence. Opened without a kind: each kind's levels under its name."""
    base.widget = "select"
    base.required = True
    s, protocol = ctx.state, ctx.protocol
    caps = protocol.phase_spec(s.phase).caps if s is not None and protocol is not None else {}

    def offered(kind: PermissionKind) -> list[Choice]:
        cap = caps.get(kind)
        return [
            Choice(level, t.value(level))
            for level in scale_for(kind)
            if cap is None or level_rank(kind, level) <= level_rank(kind, cap)
        ]

    kind = _preset_kind(ctx)
    if kind is None:
        base.choice_groups = [(t.value(k), offered(k)) for k in PERMISSION_KINDS]
        return base
    base.choices = offered(kind)
    if s is not None and kind in caps:
        base.hint = t("Now: %(level)s. Maximum in phase %(phase)s: %(cap)s.",
                      level=t.value(s.permissions.get(kind, "none")), phase=s.phase,
                      cap=t.value(caps[kind]))
    return base


ENDING_CARE = ("aftercare-start", "closure")
"""The forms that end residential care: their waivers are the checks after a runaway (and
a protocol's own aftercare criteria), never a handover step."""


def ending_waiver_rows(
    t: Translator, ctx: Context, slug: str, submitted: Mapping[str, list[str]] | None = None
) -> list[WaiverRow]:
    """The criteria of ending care that may be set aside (with a justification), met or
    not; none when the trajectory is not where the form would end care."""
    from trajectory.protocol.rules import HANDOVER_STEPS, RUNAWAY_CHECKS, criterion_met

    s, protocol = ctx.state, ctx.protocol
    if s is None or protocol is None or s.status == "closed":
        return []
    today = ctx.today or s.intake_date
    if slug == "aftercare-start":
        criteria = tuple(c for c in criteria_for(protocol, None) if c not in HANDOVER_STEPS)
    else:
        criteria = RUNAWAY_CHECKS
    rows = []
    for criterion in criteria:
        rows.append(
            WaiverRow(
                criterion=criterion,
                label=t.criterion(criterion),
                met=criterion_met(criterion, s, protocol, today, None),
                checked=bool(submitted and submitted.get(f"waive.{criterion}")),
                justification=(submitted or {}).get(f"justification.{criterion}", [""])[0],
            )
        )
    return rows if any(not row.met for row in rows) else []


def _receiving_worker(base: Field, t: Translator, ctx: Context) -> Field:
    """The receiving worker, picked by name (with her organisation) from this
    installation's aftercare workers: never typed, so that it is always someone who will
    find the girl in her list. Empty when the receiver is outside this installation."""
    base.widget = "select"
    base.required = False
    base.choices = [
        Choice(user_id, f"{name} ({organisation})")
        for user_id, name, organisation in ctx.aftercare_workers
    ]
    base.hint = t("Or, for a receiver outside this installation, fill in the receiver"
                  " outside this installation below.")
    return base


def _team(spec: FormSpec, base: Field, t: Translator, ctx: Context) -> Field | list[Field]:
    """The team she is placed with, picked by name from the organisation's active teams
    (never typed). At intake: none asked where the organisation has no teams; chosen
    already when the coordinator belongs to one, required when to several. Placing her
    later offers the teams she is not in."""
    base.widget = "select"
    if spec.slug == "intake":
        if not ctx.teams:
            return []
        base.choices = [Choice(tid, name) for tid, name in ctx.teams]
        own = [tid for tid in ctx.own_teams if any(tid == c.value for c in base.choices)]
        base.required = len(own) > 1
        if len(own) == 1:
            base.value = own[0]
        base.hint = (t("You belong to more than one team: choose the team she is placed with.")
                     if len(own) > 1 else
                     t("The coordinators of her team see her file."))
        return base
    current = ctx.state.team if ctx.state is not None else None
    base.required = True
    base.choices = [Choice(tid, name) for tid, name in ctx.teams if tid != current]
    if not base.choices:
        base.hint = t("Your organisation has no other team.")
    return base


_PARTY_FIELDS = ("role", "name", "organisation", "contact")


def _party_rows(spec: FormSpec, t: Translator, base: Field) -> list[Field]:
    """A few rows for the people around her after the handover (a local youth team, the
    wijkagent, school, network members): `parties.N.role` and so on, each row its own
    fieldset; an empty row is left out when the form is read (`decode`)."""
    rows: list[Field] = []
    order = tuple(str(v) for v in typing.get_args(HandoverPartyRole))
    roles = _choices(t, order, order)
    for i in range(PARTY_ROWS):
        group = t("Person around her %(number)s", number=i + 1)
        for part in _PARTY_FIELDS:
            row = Field(
                name=f"{base.name}.{i}.{part}",
                widget="select" if part == "role" else "text",
                label=t.field(part),
                required=False,
                group=group,
                maxlength=None if part == "role" else 200,
            )
            if part == "role":
                row.choices = list(roles)
            rows.append(row)
    return rows


GOAL_ROWS = 6
"""Empty rows offered for the goals of her treatment plan at the outcome of care."""


def _goal_rows(t: Translator, base: Field, plan_goals: Sequence[str] = ()) -> list[Field]:
    """A row per goal of her treatment plan (`goals.N.goal`, `goals.N.attained`: yes,
    partly, no), the plan's goals filled in, and room for more; an empty row is left out
    when the form is read (`decode`)."""
    order = tuple(str(v) for v in typing.get_args(GoalAttained))
    rows: list[Field] = []
    for i in range(max(GOAL_ROWS, len(plan_goals) + 1)):
        group = t("Goal %(number)s", number=i + 1)
        for part in ("goal", "attained"):
            row = Field(name=f"{base.name}.{i}.{part}",
                        widget="select" if part == "attained" else "text",
                        label=t.field(part), required=False, group=group,
                        maxlength=None if part == "attained" else 1000)
            if part == "attained":
                row.choices = _choices(t, order, order)
            elif i < len(plan_goals):
                row.value = plan_goals[i][:1000]
            rows.append(row)
    return rows


INSTRUMENT_ROWS = 2
"""Empty rows offered for the scores of validated instruments at a follow-up."""


def _instrument_rows(t: Translator, base: Field) -> list[Field]:
    """Rows for the scores of validated instruments at a follow-up (`instruments.N.name`,
    `.version`, `.total`, and subscale scores one per line as "name: score"); an empty
    row is left out when the form is read (`decode`)."""
    rows: list[Field] = []
    for i in range(INSTRUMENT_ROWS):
        group = t("Instrument %(number)s", number=i + 1)
        for part in ("name", "version", "total", "subscales"):
            row = Field(
                name=f"{base.name}.{i}.{part}",
                widget="lines" if part == "subscales" else "text",
                label=t.field(part),
                required=False,
                group=group,
                maxlength=None if part == "subscales" else 200,
            )
            if part == "subscales":
                row.hint = t("One per line, as name: score.")
            rows.append(row)
    return rows


def _subscales(raw: dict[str, Any]) -> None:
    """The subscale lines of each instrument row ("name: score") as the mapping the
    command takes; a line without a score is named as the field that does not fit."""
    for n, row in enumerate(raw.get("instruments") or []):
        lines = row.get("subscales")
        if not isinstance(lines, list):
            continue
        scores: dict[str, str] = {}
        for line in lines:
            name, sep, score = str(line).rpartition(":")
            if not sep or not name.strip() or not score.strip():
                raise FormInvalid({f"instruments.{n}.subscales": line})
            scores[name.strip()] = score.strip()
        row["subscales"] = scores


def waiver_rows(
    t: Translator, ctx: Context, to_phase: int, submitted: Mapping[str, list[str]] | None = None
) -> list[WaiverRow]:
    """One row per entry criterion of the transition into `to_phase` (an advance): met or
    not, and whether the coordinator chose to set it aside (with a justification)."""
    from trajectory.protocol.rules import unmet_criteria

    s, protocol = ctx.state, ctx.protocol
    if s is None or protocol is None or not 1 < to_phase <= protocol.last_phase:
        return []
    if to_phase != s.phase + 1:
        return []
    today = ctx.today or s.intake_date
    unmet = set(unmet_criteria(s, protocol, to_phase, today))
    rows = []
    for criterion in criteria_for(protocol, to_phase):
        checked = bool(submitted and submitted.get(f"waive.{criterion}"))
        text = (submitted or {}).get(f"justification.{criterion}", [""])[0]
        rows.append(
            WaiverRow(
                criterion=criterion,
                label=t.criterion(criterion),
                met=criterion not in unmet,
                checked=checked,
                justification=text,
            )
        )
    return rows


# -- decoding a submitted form ---------------------------------------------------------------


class FormInvalid(Exception):
    """The submitted form does not fit the command: field name -> message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(errors))
        self.errors = errors


_AT = re.compile(r"at `\$\.?(?P<path>[^`]*)`")
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        target = target.setdefault(p, {})
    target[last] = value


def decode(
    spec: FormSpec, fields: Sequence[Field], form: Mapping[str, list[str]], t: Translator
) -> msgspec.Struct:
    """The command from a submitted form; FormInvalid names the fields that do not fit."""
    raw: dict[str, Any] = {}
    for f in fields:
        values = [v for v in form.get(f.name, []) if v is not None]
        first = values[0].strip() if values else ""
        if f.widget == "checkbox":
            _set(raw, f.name, bool(values))
        elif f.widget == "checkboxes":
            _set(raw, f.name, [v for v in values if v])
        elif f.widget == "lines":
            lines = [line.strip() for line in "\n".join(values).splitlines() if line.strip()]
            if lines or f.required or f.always:
                _set(raw, f.name, lines)
        elif f.widget == "waivers":
            _set(raw, f.name, _waivers(form))
        elif f.widget == "number" or (f.widget == "select" and f.name == "to_phase"):
            if first:
                _set(raw, f.name, int(first) if first.isdigit() else first)
        elif f.widget in ("date", "select", "time"):
            if first:
                _set(raw, f.name, first)
        else:
            text = values[0] if values else ""
            if text.strip() or f.required or f.always:
                _set(raw, f.name, text.strip() if f.widget == "text" else text)
    # Every required field left empty at once, each at its field (the schema's decoding
    # below would name only the first).
    errors = {f.name: t("This field is required.") for f in fields
              if f.required and not _filled(f, form)}
    if errors:
        raise FormInvalid(errors)
    raw = _rows(raw)
    if spec.slug == "follow-up":
        try:
            _subscales(raw)
        except FormInvalid as e:
            raise FormInvalid(
                {k: t("Write each subscale as name: score.") for k in e.errors}
            ) from None
    try:
        return msgspec.convert(raw, spec.command, strict=False)
    except msgspec.ValidationError as e:
        raise FormInvalid({_field_of(str(e)): _message(str(e), t)}) from None


def _filled(f: Field, form: Mapping[str, list[str]]) -> bool:
    return any(str(v).strip() for v in form.get(f.name, []) if v is not None)


def _rows(value: Any) -> Any:
    """Numbered rows (`parties.0.name`, `parties.1.name`) as a list, the empty ones left
    out."""
    if not isinstance(value, dict):
        return value
    items = {k: _rows(v) for k, v in value.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int) if items[k]]
    return items


def _waivers(form: Mapping[str, list[str]]) -> list[dict[str, str]]:
    out = []
    for key, values in form.items():
        if key.startswith("waive.") and values:
            criterion = key.removeprefix("waive.")
            text = form.get(f"justification.{criterion}", [""])[0]
            out.append({"criterion": criterion, "justification": text})
    return out


def _field_of(message: str) -> str:
    path = ""
    at = _AT.search(message)
    if at:
        path = at.group("path")
    missing = _MISSING.search(message)
    if missing:
        path = f"{path}.{missing.group('name')}" if path else missing.group("name")
    return path or "form"


def form_name(
    path: str,
    names: Collection[str],
    command: object = None,
    form: Mapping[str, list[str]] | None = None,
) -> str | None:
    """The form's input for a path into the command (`package.safety_plan`,
    `parties[1].name`, `waivers[0].justification`), or None when the form has none. The
    command's rows are the form's rows less the empty ones (`_rows`): its second party
    may be the form's third row."""
    if path.startswith("waivers[") and path.endswith("].justification"):
        n = path.removeprefix("waivers[").removesuffix("].justification")
        waivers = getattr(command, "waivers", None) or []
        if n.isdigit() and int(n) < len(waivers):
            return f"justification.{waivers[int(n)].criterion}"
    row = re.match(r"(?P<list>[a-z_]+)\[(?P<n>\d+)\](?P<rest>.*)", path)
    if row and form is not None:
        prefix = row.group("list") + "."
        filled = sorted({int(k.split(".")[1]) for k, v in form.items()
                         if k.startswith(prefix) and k.split(".")[1].isdigit()
                         and any(x.strip() for x in v)})
        number = int(row.group("n"))
        if number < len(filled):
            path = f"{row.group('list')}.{filled[number]}{row.group('rest')}"
    for candidate in (re.sub(r"\[(\d+)\]", r".\1", path), re.sub(r"\[\d+\]", "", path)):
        if candidate in names:
            return candidate
    return None


def _message(message: str, t: Translator) -> str:
    if "missing required field" in message or "length >= 1" in message:
        return t("This field is required.")
    return t("This value does not fit.")


def apply_values(fields: Sequence[Field], form: Mapping[str, list[str]]) -> None:
    """Put the submitted values back into the fields, to show the form again."""
    for f in fields:
        values = form.get(f.name, [])
        if f.widget == "checkbox":
            f.value = bool(values)
        elif f.widget == "checkboxes":
            f.value = list(values)
        elif f.widget == "waivers":
            continue
        else:
            f.value = values[0] if values else ""


def attach_errors(
    fields: Sequence[Field],
    errors: Mapping[str, str],
    command: object = None,
    form: Mapping[str, list[str]] | None = None,
) -> tuple[list[tuple[str, str]], dict[str, str], list[str]]:
    """Attach each error to its field. Return links to the marked fields (id, label), the
    errors of the waivers' justifications (name -> message: the waiver rows show them),
    and the errors no field took (shown on top)."""
    loose: list[str] = []
    marked: list[tuple[str, str]] = []
    waivers: dict[str, str] = {}
    by_name = {f.name: f for f in fields}
    for path, message in errors.items():
        name = path if path in by_name else form_name(path, by_name, command, form) or path
        target = by_name.get(name)
        if name.startswith("justification."):
            waivers[name] = message
            marked.append((waiver_id(name), message))
        elif target is None:
            loose.append(message)
        elif target.error is None:
            target.error = message
            marked.append((target.id, target.label))
    return marked, waivers, loose


def waiver_id(name: str) -> str:
    """The id of a waiver's justification (`justification.education` -> `just-education`)."""
    return "just-" + name.removeprefix("justification.")
