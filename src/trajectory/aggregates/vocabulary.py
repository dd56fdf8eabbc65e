"""The closed vocabularies of the domain: codes that appear in events, rules and the API.

These strings are stored in events. Treat them like column names: never rename a value;
add new ones at the end and keep old ones readable.
"""

from __future__ import annotations

from typing import Literal, get_args

VictimStatus = Literal["potential", "suspected", "confirmed"]
RiskProfile = Literal[
    "phase_of_life", "influenceable", "traumatised", "multi_problem", "honour_related"
]
Setting = Literal["residential", "ambulatory", "closed"]
Status = Literal["in_care", "aftercare", "closed"]

PermissionKind = Literal["internet", "social_media", "phone", "leave", "contact_with_boys"]
Level = Literal["none", "supervised", "limited", "free", "accompanied", "unaccompanied"]
ContactRisk = Literal["safe", "unknown", "risky", "prohibited"]
ContactLevel = Literal["none", "supervised", "unsupervised"]

PlacementKind = Literal["homogeneous_group", "mixed_group", "ambulatory", "closed"]
MedicalNeed = Literal[
    "none", "medication", "pregnancy", "sti_test", "first_aid", "forensic_exam"
]
TherapyMethod = Literal["emdr", "cbt", "other"]
InterventionKind = Literal[
    "resilience_training",
    "body_oriented",
    "psycho_education_relationships",
    "psycho_education_sexuality",
    "experiential_expert",
    "family_system_therapy",
    "social_skills",
    "problem_solving_skills",
    "other",
]
ComenshaDecision = Literal[
    "registered_by_name", "registered_by_date_of_birth", "not_registered"
]
ConsentGiver = Literal["parent", "guardian", "girl"]
# Who sent the report to CoMensha, by role (the person is the event's `recorded_by`):
# her coordinator, the organisation's designated officer for loverboy problems
# (aandachtsfunctionaris), or another professional of the organisation.
ComenshaSender = Literal["coordinator", "designated_officer", "other_professional"]
# Her nationality as the national rapporteur splits it (table 2.1: Dutch and foreign
# victims); `unknown` for intakes recorded before it was asked.
Nationality = Literal["dutch", "foreign", "unknown"]
SignalKind = Literal["loverboy", "sexual_abuse", "boundary_crossing", "runaway"]
# Who interpreted the signals with the coordinator at intake (core element 2: always with
# other disciplines).
SignalDiscipline = Literal[
    "behavioural_scientist",
    "physician",
    "police",
    "school_staff",
    "youth_protection",
    "safe_at_home",
    "youth_mental_health",
    "social_worker",
    "group_worker",
    "other",
]
RunawayEnding = Literal["returned", "found"]
# Who was told that she ran away (the police and the GI ask): her parents, her guardian
# (voogd), the certified institution (GI), the police, someone else.
RunawayInformed = Literal["parents", "guardian", "gi", "police", "other"]
ClosureReason = Literal[
    "aftercare_completed",
    "transferred",
    "turned_adult_left_care",
    "moved_away",
    "other",
    "own_decision",
]
# Where she goes when residential care ends (core element 12: the future living situation).
Destination = Literal[
    "home_with_parents",
    "independent",
    "supported_housing",
    "other_youth_care",
    "adult_care",
    "unknown",
]
# Beleidsinformatie Jeugd (CBS): the words for the protocol's code lists; the codes
# themselves, and the protocol version they follow, are `trajectory.bij.codes`'.
Sex = Literal["female", "male", "unknown"]
Referrer = Literal[
    "municipal_access", "general_practitioner", "youth_doctor", "certified_institution",
    "medical_specialist", "judicial", "none", "unknown",
]
CareForm = Literal[
    "ambulatory_at_provider", "ambulatory_in_network", "day_care", "foster_care",
    "family_home", "closed_youth_care", "residential_other",
]
EndReason = Literal[
    "as_planned", "early_mutual", "early_by_client", "early_by_provider", "early_moved",
    "early_other",
]
OutcomeAnswer = Literal["yes", "no", "unknown"]
OutcomeInformant = Literal["girl", "parent", "professional"]
GoalAttained = Literal["yes", "partly", "no"]
# Why care ended without a warm handover (then argued, and she is out of view at once).
WithoutHandoverReason = Literal[
    "she_refused", "left_suddenly", "no_receiver_available", "moved_out_of_reach", "other"
]
# Continuation after her 18th birthday (verlengde jeugdhulp, adult care, or her own choice).
ContinuationDecision = Literal[
    "extended_youth_care", "adult_care", "aftercare_by_organisation", "refused"
]
# The people around her after the handover, beside the receiving worker.
HandoverPartyRole = Literal[
    "local_youth_team", "wijkagent", "school", "network_member", "other"
]

PERMISSION_KINDS: tuple[PermissionKind, ...] = get_args(PermissionKind)
RISK_PROFILES: tuple[RiskProfile, ...] = get_args(RiskProfile)

# Permission scales, lowest first. Leave has its own scale.
GENERAL_SCALE: tuple[Level, ...] = ("none", "supervised", "limited", "free")
LEAVE_SCALE: tuple[Level, ...] = ("none", "accompanied", "unaccompanied")
CONTACT_SCALE: tuple[ContactLevel, ...] = ("none", "supervised", "unsupervised")


def scale_for(kind: PermissionKind) -> tuple[Level, ...]:
    """The ordered levels a permission of this kind can take."""
    return LEAVE_SCALE if kind == "leave" else GENERAL_SCALE


def level_rank(kind: PermissionKind, level: Level) -> int:
    """Position of a level on its kind's scale; ValueError when it is not on that scale."""
    return scale_for(kind).index(level)


def contact_rank(level: ContactLevel) -> int:
    return CONTACT_SCALE.index(level)

SafetyLevel = Literal["safe", "concerns", "unsafe"]
RiskLevel = Literal["low", "medium", "high"]
SafetyRisk = Literal[
    "internet_social_media",
    "runaway",
    "trafficker_contact",
    "network",
    "self_harm",
    "substance_use",
    "other",
]
SafetyMeasure = Literal[
    "other_region",
    "temporary_closed_setting",
    "parent_agreements",
    "police_involved",
    "runaway_agreements",
    "phone_restriction",
    "other",
]
FamilyInvolvementForm = Literal[
    "family_meeting", "system_therapy", "parent_counselling", "network_meeting", "other"
]
AftercareContactKind = Literal["visit", "phone", "message", "other", "video"]
# Whether an aftercare contact reached her: only a reached contact keeps her in view.
ContactOutcome = Literal["reached", "not_reached"]
LeisureKind = Literal[
    "sport", "music", "arts", "youth_club", "scouting", "volunteering", "other"
]

# -- outcomes: revictimisation and follow-up measurements (effectmeting) --------------------
# What became known: a new exploitation, or a new contact with a loverboy (or his network).
RevictimisationKind = Literal["exploitation", "loverboy_contact"]
# Whether the day recorded is the day it happened or the day it became known.
RevictimisationDay = Literal["happened", "became_known"]
# How it became known.
RevictimisationSource = Literal[
    "girl_told", "police", "care_worker", "family", "school", "chain_partner", "other"
]
# Where she was when it happened: derived from her file, never typed.
CareStage = Literal["in_care", "aftercare", "after_closure"]
# Where she lives at a follow-up measurement: the destinations at leaving care, and
# without a fixed place to live.
LivingSituation = Literal[Destination, "no_fixed_abode"]
SchoolOrWork = Literal["school", "work", "school_and_work", "day_activity", "none", "unknown"]
# Her highest qualification at a follow-up; `starting_qualification`: mbo 2 or higher,
# havo or vwo (the Dutch startkwalificatie).
QualificationLevel = Literal[
    "none", "vmbo", "mbo_1", "starting_qualification", "higher_education", "unknown"
]
# Contact with the loverboy or his network since the last measurement.
LoverboyContact = Literal["none", "loverboy", "network", "loverboy_and_network", "unknown"]
# Why a follow-up measurement was not possible (itself an outcome for research).
FollowUpNotPossibleReason = Literal["not_reached", "refused", "deceased", "other"]
