"""The code lists of the Informatieprotocol Beleidsinformatie Jeugd, as data.

PROTOCOL names the version followed: *Beleidsinformatie Jeugd, Informatieprotocol,
versie 5, juli 2018*, bijlage 2 bij de Regeling Jeugdwet, Staatscourant 2018, 53554 (in
force from 1 January 2019). Its structure was verified against the published table of
contents: the young person (2.2 citizen service number, 2.3 date of birth, 2.4 sex, 2.5
postcode or municipality), the care (3.2 referrer, 3.3 form of care, 3.4 started in
crisis, 3.5 start, 3.6 end, 3.7 reason of ending) and the outcome (4.3 satisfaction with
the use/effect of the care, criterion 2; 4.4 can go on without help, criterion 3.1; 4.5
type of informant).

NOT VERIFIED: the numeric codes below and the file's column layout could not be read in
the sources at hand (only the protocol's table of contents was); they follow the
protocol's categories as described there, and are marked `verified=False`. Check them
against the protocol's text (and CBS's upload specification for the period) before a
first delivery, and correct them here: nothing else in the code holds a code.

The words of each list (`trajectory.aggregates.vocabulary`) are what the forms show and
the events store; a code is looked up here only when the delivery is written, so that a
corrected code list needs no change to a stored event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from trajectory.aggregates.vocabulary import (
    CareForm,
    ClosureReason,
    Destination,
    EndReason,
    GoalAttained,
    OutcomeAnswer,
    OutcomeInformant,
    Referrer,
    Sex,
)

PROTOCOL = "Informatieprotocol Beleidsinformatie Jeugd versie 5 (juli 2018), Stcrt. 2018, 53554"
PROTOCOL_VERSION = "5"
VERIFIED = False
"""Whether the codes below were checked against the protocol's text (see the docstring)."""


@dataclass(frozen=True)
class CodeList:
    """One of the protocol's lists: its section, and word -> code."""

    name: str
    section: str
    codes: dict[str, str]
    verified: bool = False

    def code(self, word: str) -> str | None:
        return self.codes.get(word)

    def known(self, code: str) -> bool:
        return code in self.codes.values()


SEX = CodeList("geslacht", "2.4", {"male": "1", "female": "2", "unknown": "3"})
REFERRER = CodeList("verwijzer", "3.2", {
    "municipal_access": "1",        # gemeentelijke toegang
    "general_practitioner": "2",    # huisarts
    "youth_doctor": "3",            # jeugdarts
    "certified_institution": "4",   # gecertificeerde instelling
    "medical_specialist": "5",      # medisch specialist
    "judicial": "6",                # rechter, officier van justitie, justitiële jeugdinrichting
    "none": "7",                    # geen verwijzer (de jeugdige of ouders zelf)
    "unknown": "8",                 # verwijzer onbekend
})
CARE_FORM = CodeList("hulpvorm", "3.3", {
    "ambulatory_at_provider": "11",  # jeugdhulp ambulant, op locatie van de aanbieder
    "ambulatory_in_network": "12",   # jeugdhulp ambulant, in het netwerk van de jeugdige
    "day_care": "13",                # daghulp
    "foster_care": "21",             # jeugdhulp met verblijf: pleegzorg
    "family_home": "22",             # jeugdhulp met verblijf: gezinsgericht (gezinshuis)
    "closed_youth_care": "23",       # jeugdhulp met verblijf: gesloten plaatsing
    "residential_other": "24",       # jeugdhulp met verblijf: overig
})
END_REASON = CodeList("reden beëindiging", "3.7", {
    "as_planned": "1",          # volgens plan
    "early_mutual": "2",        # voortijdig, in overeenstemming
    "early_by_client": "3",     # voortijdig, eenzijdig door de cliënt
    "early_by_provider": "4",   # voortijdig, eenzijdig door de aanbieder
    "early_moved": "5",         # voortijdig, verhuizing
    "early_other": "6",         # voortijdig, overig
})
ANSWER = CodeList("antwoord outcome", "4.3-4.4", {"yes": "1", "no": "2", "unknown": "9"})
INFORMANT = CodeList("type informant", "4.5", {"girl": "1", "parent": "2", "professional": "3"})
CRISIS = CodeList("gestart met crisis", "3.4", {"yes": "J", "no": "N"})

DROPOUT: frozenset[EndReason] = frozenset({"early_by_client", "early_by_provider"})
"""The reasons of ending that count as dropout (uitval): care ended one-sidedly before
the plan's end."""

# Each list covers its vocabulary: a word without a code is a bug found at import.
for _list, _words in ((SEX, Sex), (REFERRER, Referrer), (CARE_FORM, CareForm),
                      (END_REASON, EndReason), (ANSWER, OutcomeAnswer),
                      (INFORMANT, OutcomeInformant)):
    assert set(_list.codes) == set(get_args(_words)), _list.name
GOAL_ATTAINED: tuple[GoalAttained, ...] = get_args(GoalAttained)

# -- municipalities -----------------------------------------------------------------------
# CBS municipality codes (gemeentecode, four digits; "GM" + code in CBS's tables). A subset:
# the municipalities the demo and the tests use and the largest ones. CBS publishes the
# full list per year (Gemeentelijke indeling op 1 januari); extend this one from it.
MUNICIPALITIES: dict[str, str] = {
    "0014": "Groningen",
    "0034": "Almere",
    "0080": "Leeuwarden",
    "0153": "Enschede",
    "0193": "Zwolle",
    "0200": "Apeldoorn",
    "0202": "Arnhem",
    "0268": "Nijmegen",
    "0307": "Amersfoort",
    "0344": "Utrecht",
    "0363": "Amsterdam",
    "0392": "Haarlem",
    "0479": "Zaanstad",
    "0505": "Dordrecht",
    "0518": "'s-Gravenhage",
    "0546": "Leiden",
    "0599": "Rotterdam",
    "0758": "Breda",
    "0772": "Eindhoven",
    "0796": "'s-Hertogenbosch",
    "0855": "Tilburg",
    "0935": "Maastricht",
}


def end_reason_of(reason: ClosureReason, destination: Destination | None) -> EndReason:
    """The protocol's reason of ending for a closure (its reason, and where she went).
    Mapped, not asked: the coordinator records why care ended in the closure's own words,
    and may give the protocol's reason explicitly where this mapping does not fit."""
    if reason == "aftercare_completed":
        return "as_planned"
    if reason == "transferred":
        return "early_mutual"
    if reason in ("own_decision", "turned_adult_left_care"):
        return "early_by_client"
    if reason == "moved_away":
        return "early_moved"
    if destination in ("other_youth_care", "adult_care"):
        return "early_mutual"
    return "early_other"
