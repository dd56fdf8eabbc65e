"""The code systems and identifiers of our FHIR resources, and the small shapes they share.

Only codes we are sure of come from HL7's own code systems; everything else is a
`CodeableConcept` with a local system under `urn:trajectory:` and a `text`. A partner keeps
what we send: the systems' names and the way resource ids are made (`resource_id`) must
not change, or the same fact would arrive as another resource next time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

Json = dict[str, Any]

NAMESPACE = UUID("6b0c3f0e-52f4-4c57-9a8e-9d2f0c1e7a31")
"""The namespace of every resource id (uuid5): the same fact, the same id, in every export."""

# Identifier systems: ours.
TRAJECTORY = "urn:trajectory:trajectory"
"""Her trajectory's id: a random UUID that carries no personal data."""
EVENT_HASH = "urn:trajectory:event-hash"
"""An event's hash in her hash chain (`GET /trajectories/{id}/events` shows it)."""
USER = "urn:trajectory:user"
"""A user of this installation, by her user id."""
EXPORT = "urn:trajectory:fhir-export"
"""One export: her trajectory's id and the version it was read at."""

# Local code systems: our own vocabulary, with a text for people.
PHASE = "urn:trajectory:phase"
PHASE_EXTENSION = "urn:trajectory:fhir:extension:phase"
SETTING = "urn:trajectory:setting"
CARE_KIND = "urn:trajectory:care-kind"
THERAPY_METHOD = "urn:trajectory:therapy-method"
FOLLOW_UP = "urn:trajectory:follow-up"
FOLLOW_UP_ITEM = "urn:trajectory:follow-up-item"
FOLLOW_UP_ANSWER = "urn:trajectory:follow-up-answer"
FOLLOW_UP_NOT_POSSIBLE = "urn:trajectory:follow-up-not-possible"
INSTRUMENT = "urn:trajectory:instrument"
INSTRUMENT_SUBSCALE = "urn:trajectory:instrument-subscale"
ROLE = "urn:trajectory:role"
ACCESS_ACTION = "urn:trajectory:access-action"
EMERGENCY_ACCESS = "urn:trajectory:emergency-access"

# HL7's code systems, for the codes we are sure of.
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
AUDIT_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
SECURITY_OBSERVATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
UCUM = "http://unitsofmeasure.org"

PSEUDONYMISED: Json = {"system": SECURITY_OBSERVATION, "code": "PSEUDED",
                       "display": "pseudonymized"}
TREATMENT: Json = {"system": ACT_REASON, "code": "TREAT", "display": "treatment"}


def resource_id(trajectory_id: UUID | str, key: str) -> str:
    """The id of one resource of her record: stable across exports (uuid5 of her
    trajectory's id and what the resource is of, e.g. `careplan/12`)."""
    return str(uuid5(NAMESPACE, f"{trajectory_id}/{key}"))


def full_url(rid: str) -> str:
    return f"urn:uuid:{rid}"


def reference(rid: str) -> Json:
    return {"reference": full_url(rid)}


def concept(system: str, code: str, text: str) -> Json:
    """A `CodeableConcept` of one coding (a code is one line without double spaces)."""
    return {"coding": [{"system": system, "code": " ".join(code.split())}], "text": text}


def words(code: str) -> str:
    """A code as words for the `text` beside it: `school_and_work` -> `school and work`."""
    return code.replace("_", " ").replace("-", " ")


def day(value: date) -> str:
    return value.isoformat()


def instant(value: datetime) -> str:
    """A FHIR `instant`: seconds and an offset, always (recording moments are UTC)."""
    return value.isoformat(timespec="seconds")
