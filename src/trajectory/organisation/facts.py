"""The organisation's facts, declared once: the command, its path under
`/organisation/facts/`, its title. The API's routes and the pages' forms are read from
this list."""

from __future__ import annotations

from dataclasses import dataclass

from trajectory.commands import Command
from trajectory.organisation import commands as oc


@dataclass(frozen=True)
class OrganisationFact:
    command: type[Command]
    path: str
    title: str
    """English: the OpenAPI summary and the form's title (translated on the pages)."""


ORGANISATION_FACTS: tuple[OrganisationFact, ...] = (
    OrganisationFact(oc.RecordTraining, "trainings", "Training followed"),
    OrganisationFact(
        oc.AppointAandachtsfunctionaris, "aandachtsfunctionarissen",
        "Aandachtsfunctionaris appointed",
    ),
    OrganisationFact(oc.RecordReflectionSession, "reflection-sessions", "Reflection session held"),
    OrganisationFact(
        oc.RecordClimateAssessment, "climate-assessments", "Pedagogical climate assessed"
    ),
    OrganisationFact(
        oc.RecordSignalAnalysis, "signal-analyses", "Signal analysis with improvement action"
    ),
    OrganisationFact(
        oc.CompleteImprovementAction, "completed-actions", "Improvement action carried out"
    ),
)
