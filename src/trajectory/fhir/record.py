"""A girl's record as a FHIR R4 Bundle (type `collection`) for the care around her.

Jeugd-ggz, her GP or the Centre for Sexual Violence read her care in their own terms: who
she is (`Patient`), her episode of care with its phases (`EpisodeOfCare`), the treatment
plans and their goals (`CarePlan`, `Goal`), the trauma therapy and its sessions
(`Procedure`), the follow-up measurements with the instruments' scores (`Observation`),
and for every one of those a `Provenance` naming the hashes of the events it was made
from, so that the receiver can ask the sender for exactly those facts and check them
against her hash chain.

Facts are read as the correction rule says (`aggregates.corrections`): an entry marked in
error is left out, a corrected day is the day, and the correction's own hash is in the
Provenance beside the entry's. A pure function of her events, her protocol and the
moment; the mapping is documented in docs/fhir.md, keep the two together.

Pseudonymous unless told otherwise (`identity=False`): the Patient carries her
trajectory's id but no name, no region and of her birth date only the year, and the
notes written beside facts (a session's note, a follow-up's note) are left out, as the
place where the names of people around her are most often written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from trajectory.aggregates.corrections import Corrections
from trajectory.aggregates.events.analysis import TreatmentPlanSet
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.closure import EntryCorrected, TrajectoryClosed
from trajectory.aggregates.events.handover import AftercareEnded, AftercareStarted
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.events.outcomes import (
    FollowUpMeasured,
    FollowUpNotPossible,
    InstrumentScore,
)
from trajectory.aggregates.events.phasing import PhaseAdvanced, PhaseRegressed
from trajectory.aggregates.events.treatment import (
    TraumaTherapyCompleted,
    TraumaTherapySessionHeld,
    TraumaTherapyStarted,
)
from trajectory.fhir.codes import (
    CARE_KIND,
    EVENT_HASH,
    EXPORT,
    FOLLOW_UP,
    FOLLOW_UP_ANSWER,
    FOLLOW_UP_ITEM,
    FOLLOW_UP_NOT_POSSIBLE,
    INSTRUMENT,
    INSTRUMENT_SUBSCALE,
    OBSERVATION_CATEGORY,
    PHASE,
    PHASE_EXTENSION,
    PROVENANCE_PARTICIPANT,
    PSEUDONYMISED,
    SETTING,
    THERAPY_METHOD,
    TRAJECTORY,
    TREATMENT,
    UCUM,
    USER,
    Json,
    concept,
    day,
    full_url,
    instant,
    reference,
    resource_id,
    words,
)
from trajectory.protocol.model import Protocol

EPISODE_STATUS = {"in_care": "active", "aftercare": "active", "closed": "finished"}
"""Her trajectory's status as an EpisodeOfCare's: in aftercare the organisation still
holds her file and keeps her in view; only closure finishes the episode."""

THERAPY_NAMES = {"emdr": "EMDR", "cbt": "CBT (cognitive behavioural therapy)",
                 "other": "other trauma therapy"}


@dataclass
class _Period:
    code: str
    display: str
    start: date
    end: date | None = None


@dataclass
class _Course:
    """One course of trauma therapy: its start, its completion, its sessions."""

    started: TraumaTherapyStarted
    completed: TraumaTherapyCompleted | None = None
    sessions: list[TraumaTherapySessionHeld] = field(default_factory=list)
    stopped_on: date | None = None


class _Record:
    """The resources of one Bundle and, per resource, the events it was made from."""

    def __init__(self, trajectory_id: UUID, corrections: Corrections,
                 corrected_by: dict[int, list[EntryCorrected]]) -> None:
        self.trajectory_id = trajectory_id
        self.corrections = corrections
        self.corrected_by = corrected_by
        self.entries: list[Json] = []
        self.sources: list[tuple[str, list[TrajectoryEvent]]] = []

    def rid(self, key: str) -> str:
        return resource_id(self.trajectory_id, key)

    def on(self, event: TrajectoryEvent) -> date:
        """The day the fact happened, as last corrected."""
        return self.corrections.occurred_on(event)

    def add(self, key: str, resource: Json, made_from: Iterable[TrajectoryEvent]) -> str:
        rid = self.rid(key)
        self.entries.append({"fullUrl": full_url(rid), "resource": {"id": rid, **resource}})
        self.sources.append((rid, list(made_from)))
        return rid

    def add_provenances(self) -> None:
        """One Provenance per resource: the events it was made from (`source`) and the
        corrections of those (`revision`), each by its hash; their recorders as authors."""
        for rid, events in self.sources:
            made_from = [(event, "source") for event in events]
            made_from += [(c, "revision") for event in events
                          for c in self.corrected_by.get(event.originator_version, [])]
            authors = dict.fromkeys(event.recorded_by for event, _ in made_from)
            key = f"provenance/{rid}"
            self.add_plain(key, {
                "resourceType": "Provenance",
                "target": [reference(rid)],
                "recorded": instant(max(event.timestamp for event, _ in made_from)),
                "agent": [
                    {
                        "type": {"coding": [{"system": PROVENANCE_PARTICIPANT,
                                             "code": "author", "display": "Author"}]},
                        "who": {"identifier": {"system": USER, "value": by}},
                    }
                    for by in authors
                ],
                "entity": [
                    {
                        "role": role,
                        "what": {
                            "identifier": {"system": EVENT_HASH, "value": event.hash},
                            "display": f"{type(event).__name__} at position"
                                       f" {event.originator_version}",
                        },
                    }
                    for event, role in made_from
                ],
            })

    def add_plain(self, key: str, resource: Json) -> None:
        """A resource about the record itself (no Provenance of its own)."""
        rid = self.rid(key)
        self.entries.append({"fullUrl": full_url(rid), "resource": {"id": rid, **resource}})


def bundle(
    trajectory_id: UUID,
    events: Sequence[TrajectoryEvent],
    protocol: Protocol,
    *,
    identity: bool,
    now: datetime,
) -> Json:
    """Her record as a FHIR R4 Bundle of type `collection`, read from all her events.

    `identity`: whether the Patient says who she is (name, birth date, home region) and
    the notes are included; the caller decides whether the requester's purpose allows
    it. `protocol`: hers, for the phases' names."""
    corrections = Corrections.of(events)
    corrected_by: dict[int, list[EntryCorrected]] = defaultdict(list)
    for event in events:
        if isinstance(event, EntryCorrected):
            corrected_by[event.position].append(event)
    counting = [e for e in events if corrections.counts(e.originator_version)]
    opened = counting[0]
    if not isinstance(opened, TrajectoryOpened):
        raise ValueError("a trajectory starts with TrajectoryOpened")
    record = _Record(trajectory_id, corrections, dict(corrected_by))
    patient = record.add("patient", _patient(trajectory_id, opened, identity), [opened])
    _episode(record, counting, protocol, patient)
    _care_plans(record, counting, patient)
    _therapies(record, counting, patient, with_notes=identity)
    _follow_ups(record, counting, patient, with_notes=identity)
    record.add_provenances()
    security = [TREATMENT] if identity else [PSEUDONYMISED]
    return {
        "resourceType": "Bundle",
        "id": resource_id(trajectory_id, f"bundle/{len(events)}/{identity}"),
        "meta": {"security": security},
        "identifier": {"system": EXPORT, "value": f"{trajectory_id}/{len(events)}"},
        "type": "collection",
        "timestamp": instant(now),
        "entry": record.entries,
    }


def _patient(trajectory_id: UUID, opened: TrajectoryOpened, identity: bool) -> Json:
    patient: Json = {
        "resourceType": "Patient",
        "identifier": [{"system": TRAJECTORY, "value": str(trajectory_id)}],
    }
    who = opened.identity
    if identity:
        patient["name"] = [{"text": who.name}]
        patient["birthDate"] = day(who.date_of_birth)
        patient["address"] = [{"use": "home", "district": who.home_region}]
    else:
        patient["meta"] = {"security": [PSEUDONYMISED]}
        patient["birthDate"] = str(who.date_of_birth.year)
    return patient


def _phase_periods(
    events: Sequence[TrajectoryEvent], protocol: Protocol
) -> tuple[list[_Period], list[TrajectoryEvent], date | None]:
    """Her phases (and aftercare) with their periods, the events that made them, and the
    day her trajectory was closed (None while it is open)."""

    def phase(number: int) -> tuple[str, str]:
        spec = protocol.phase_spec(number)
        return str(number), f"phase {number}: {spec.name} ({spec.label})"

    periods: list[_Period] = []
    made_from: list[TrajectoryEvent] = []
    closed_on: date | None = None

    def close(on: date) -> None:
        if periods and periods[-1].end is None:
            periods[-1].end = on

    for event in events:
        if isinstance(event, TrajectoryOpened):
            periods.append(_Period(*phase(1), start=event.occurred_on))
        elif isinstance(event, PhaseAdvanced | PhaseRegressed):
            close(event.occurred_on)
            periods.append(_Period(*phase(event.to_phase), start=event.occurred_on))
        elif isinstance(event, AftercareStarted):
            close(event.occurred_on)
            periods.append(_Period("aftercare", "aftercare", start=event.occurred_on))
        elif isinstance(event, AftercareEnded):
            close(event.occurred_on)
        elif isinstance(event, TrajectoryClosed):
            close(event.occurred_on)
            closed_on = event.occurred_on
        else:
            continue
        made_from.append(event)
    return periods, made_from, closed_on


def _status(events: Sequence[TrajectoryEvent]) -> str:
    status = "in_care"
    for event in events:
        if isinstance(event, AftercareStarted):
            status = "aftercare"
        elif isinstance(event, TrajectoryClosed):
            status = "closed"
    return status


def _episode(record: _Record, events: Sequence[TrajectoryEvent], protocol: Protocol,
             patient: str) -> None:
    opened = events[0]
    assert isinstance(opened, TrajectoryOpened)
    periods, made_from, closed_on = _phase_periods(events, protocol)
    history = []
    for p in periods:
        period = {"start": day(p.start)} | ({"end": day(p.end)} if p.end else {})
        history.append({
            "extension": [{"url": PHASE_EXTENSION,
                           "valueCoding": {"system": PHASE, "code": p.code,
                                           "display": p.display}}],
            "status": "active",
            "period": period,
        })
    episode: Json = {
        "resourceType": "EpisodeOfCare",
        "status": EPISODE_STATUS[_status(events)],
        "statusHistory": history,
        "type": [concept(SETTING, opened.setting, f"{words(opened.setting)} youth care")],
        "patient": reference(patient),
        "managingOrganization": {"display": opened.organisation},
        "period": {"start": day(opened.occurred_on)}
        | ({"end": day(closed_on)} if closed_on else {}),
    }
    record.add("episode", episode, made_from)


def _care_plans(record: _Record, events: Sequence[TrajectoryEvent], patient: str) -> None:
    plans = [e for e in events if isinstance(e, TreatmentPlanSet)]
    closed_on = next((e.occurred_on for e in events if isinstance(e, TrajectoryClosed)), None)
    previous: str | None = None
    for n, plan in enumerate(plans):
        latest = n == len(plans) - 1
        start = record.on(plan)
        end = closed_on if latest else record.on(plans[n + 1])
        goal_status = "active" if latest and closed_on is None else "completed"
        goals = [
            record.add(
                f"goal/{plan.originator_version}/{i}",
                {
                    "resourceType": "Goal",
                    "lifecycleStatus": goal_status,
                    "description": {"text": goal},
                    "subject": reference(patient),
                    "startDate": day(start),
                },
                [plan],
            )
            for i, goal in enumerate(plan.goals)
        ]
        # An earlier plan was replaced by the next (whose `replaces` says so): revoked.
        status = "revoked" if not latest else "active" if closed_on is None else "completed"
        care_plan: Json = {
            "resourceType": "CarePlan",
            "status": status,
            "intent": "plan",
            "category": [concept(CARE_KIND, "treatment-plan", "treatment plan")],
            "title": "treatment plan",
            "description": plan.summary,
            "subject": reference(patient),
            "period": {"start": day(start)} | ({"end": day(end)} if end else {}),
            "created": day(start),
            "goal": [reference(g) for g in goals],
        }
        if previous is not None:
            care_plan["replaces"] = [reference(previous)]
        if not plan.summary.strip():
            del care_plan["description"]
        previous = record.add(f"careplan/{plan.originator_version}", care_plan, [plan])


def _courses(events: Sequence[TrajectoryEvent]) -> list[_Course]:
    """Her courses of trauma therapy, each with its completion and sessions, as the state
    counts them: a session or a completion belongs to the course running then."""
    courses: list[_Course] = []
    for event in events:
        running = courses[-1] if courses and courses[-1].completed is None else None
        if isinstance(event, TraumaTherapyStarted):
            if running is not None:
                running.stopped_on = event.occurred_on
            courses.append(_Course(event))
        elif isinstance(event, TraumaTherapySessionHeld) and courses:
            courses[-1].sessions.append(event)
        elif isinstance(event, TraumaTherapyCompleted) and running is not None:
            running.completed = event
    return courses


def _therapies(record: _Record, events: Sequence[TrajectoryEvent], patient: str, *,
               with_notes: bool) -> None:
    for course in _courses(events):
        started = course.started
        code = concept(THERAPY_METHOD, started.method, THERAPY_NAMES[started.method])
        period = {"start": day(record.on(started))}
        made_from: list[TrajectoryEvent] = [started]
        if course.completed is not None:
            status = "completed"
            period["end"] = day(record.on(course.completed))
            made_from.append(course.completed)
        elif course.stopped_on is not None:
            status = "stopped"  # another course started before this one was completed
            period["end"] = day(course.stopped_on)
        else:
            status = "in-progress"
        procedure: Json = {
            "resourceType": "Procedure",
            "status": status,
            "category": concept(CARE_KIND, "trauma-therapy", "trauma therapy"),
            "code": code,
            "subject": reference(patient),
            "performedPeriod": period,
        }
        if started.provider.strip():
            procedure["performer"] = [{"actor": {"display": started.provider}}]
        if started.reason and started.reason.strip():
            procedure["reasonCode"] = [{"text": started.reason}]
        if course.completed is not None and course.completed.outcome.strip():
            procedure["outcome"] = {"text": course.completed.outcome}
        rid = record.add(f"therapy/{started.originator_version}", procedure, made_from)
        for session in course.sessions:
            held: Json = {
                "resourceType": "Procedure",
                "status": "completed",
                "partOf": [reference(rid)],
                "category": concept(CARE_KIND, "trauma-therapy-session",
                                    "trauma therapy session"),
                "code": code,
                "subject": reference(patient),
                "performedDateTime": day(record.on(session)),
            }
            if with_notes and session.note.strip():
                held["note"] = [{"text": session.note}]
            record.add(f"session/{session.originator_version}", held, [session])


def _follow_up_code(moment: int) -> Json:
    when = "at the end of care" if moment == 0 else f"{moment} months after care"
    return concept(FOLLOW_UP, f"follow-up:{moment}", f"follow-up measurement {when}")


_SURVEY = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey",
                        "display": "Survey"}]}]


def _answer(item: str, value: str) -> Json:
    return {"code": concept(FOLLOW_UP_ITEM, item, words(item)),
            "valueCodeableConcept": concept(f"{FOLLOW_UP_ANSWER}:{item}", value, words(value))}


def _score(value: float) -> Json:
    return {"value": value, "unit": "score", "system": UCUM, "code": "{score}"}


def _instrument_key(measured: FollowUpMeasured, n: int) -> str:
    return f"instrument/{measured.originator_version}/{n}"


def _instrument(record: _Record, measured: FollowUpMeasured, n: int, score: InstrumentScore,
                patient: str) -> None:
    name = f"{score.name} {score.version}".strip()
    observation: Json = {
        "resourceType": "Observation",
        "status": "final",
        "category": _SURVEY,
        "code": concept(INSTRUMENT, name, name),
        "subject": reference(patient),
        "effectiveDateTime": day(record.on(measured)),
        "valueQuantity": _score(score.total),
    }
    if score.subscales:
        observation["component"] = [
            {"code": concept(INSTRUMENT_SUBSCALE, f"{name}: {sub}", sub),
             "valueQuantity": _score(value)}
            for sub, value in score.subscales.items()
        ]
    record.add(_instrument_key(measured, n), observation, [measured])


def _follow_ups(record: _Record, events: Sequence[TrajectoryEvent], patient: str, *,
                with_notes: bool) -> None:
    for event in events:
        if isinstance(event, FollowUpMeasured):
            members = [record.rid(_instrument_key(event, n))
                       for n in range(len(event.instruments))]
            panel: Json = {
                "resourceType": "Observation",
                "status": "final",
                "category": _SURVEY,
                "code": _follow_up_code(event.moment),
                "subject": reference(patient),
                "effectiveDateTime": day(record.on(event)),
                "component": [
                    _answer("living-situation", event.living_situation),
                    _answer("school-or-work", event.school_or_work),
                    _answer("qualification", event.qualification),
                    _answer("loverboy-contact", event.loverboy_contact),
                    {"code": concept(FOLLOW_UP_ITEM, "revictimised-since",
                                     "revictimised since the last measurement"),
                     "valueBoolean": event.revictimised_since},
                    {"code": concept(FOLLOW_UP_ITEM, "runaways-since",
                                     "runaways since the last measurement"),
                     "valueInteger": event.runaways_since},
                ],
            }
            if members:
                panel["hasMember"] = [reference(m) for m in members]
            if with_notes and event.note.strip():
                panel["note"] = [{"text": event.note}]
            record.add(f"follow-up/{event.originator_version}", panel, [event])
            for n, score in enumerate(event.instruments):
                _instrument(record, event, n, score, patient)
        elif isinstance(event, FollowUpNotPossible):
            missed: Json = {
                "resourceType": "Observation",
                "status": "cancelled",
                "category": _SURVEY,
                "code": _follow_up_code(event.moment),
                "subject": reference(patient),
                "effectiveDateTime": day(record.on(event)),
                "dataAbsentReason": concept(FOLLOW_UP_NOT_POSSIBLE, event.reason,
                                            f"not possible: {words(event.reason)}"),
            }
            if with_notes and event.note.strip():
                missed["note"] = [{"text": event.note}]
            record.add(f"follow-up/{event.originator_version}", missed, [event])
