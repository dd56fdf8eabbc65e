"""The code lists of the Informatieprotocol Beleidsinformatie Jeugd, as data.

PROTOCOL names the version followed: *Beleidsinformatie Jeugd, Informatieprotocol,
versie 5, juli 2018*, bijlage 2 bij de Regeling Jeugdwet, Staatscourant 2018, 53554 (in
force from 1 January 2019). Its structure was verified against the published table of
contents: the young person (2.2 citizen service number, 2.3 date of birth, 2.4 sex, 2.5
postcode or municipality), the care (3.2 referrer, 3.3 form of care, 3.4 started in
crisis, 3.5 start, 3.6 end, 3.7 reason of ending) and the outcome (4.3 satisfaction with
the use/effect of the care, criterion 2; 4.4 can go on without help, criterion 3.1; 4.5
type of informant).

Checked against sources (`verified=True`): the referrer (3.2: codes 01-08, the same list
as the iJw standard's COD327, to which the protocol's 2016 version added 08) and the
reason of ending (3.7: codes 01-05, as listed for CBS beside the iJw standard's JZ588).

NOT VERIFIED (`verified=False`): the codes of sex, form of care, started in crisis, the
outcome answers and the informant, and the file's column layout (`report.COLUMNS`). The
protocol's own text for these sections could not be read in the sources at hand; they
follow its categories as its table of contents names them. Check them against the
protocol's text and CBS's file definition for the period (the "Bestandsdefinitie
beleidsinformatie Jeugd" spreadsheet) before a first delivery, and correct them here:
nothing else in the code holds a code. `UNVERIFIED` names them, and the report's page says
so until they are.

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
    # The referrer's codes are shared with the iJw standard's list COD327 ("Code
    # verwijzer", iStandaarden), which was aligned with the protocol; the protocol added code
    # 08 in its 2016 version (announced by VGN, 25 September 2015).
    "municipal_access": "01",       # gemeentelijke toegang
    "general_practitioner": "02",   # huisarts
    "youth_doctor": "03",           # jeugdarts
    "certified_institution": "04",  # gecertificeerde instelling
    "medical_specialist": "05",     # medisch specialist
    "none": "06",                   # zelfverwijzer, geen verwijzer
    "unknown": "07",                # verwijzer onbekend
    "judicial": "08",               # rechter, Raad voor de Kinderbescherming, officier van justitie
}, verified=True)
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
    # Five codes: the protocol has no "other"; moving away and every other cause outside
    # the care (a long disappearance, death) are its external circumstances. The iJw
    # standard's JZ588 (31-35) carries the same five with the protocol's explanations.
    "as_planned": "01",         # beëindigd volgens plan
    "early_mutual": "02",       # voortijdig afgesloten: in overeenstemming
    "early_by_client": "03",    # voortijdig afgesloten: eenzijdig door de cliënt
    "early_by_provider": "04",  # voortijdig afgesloten: eenzijdig door de aanbieder
    "early_moved": "05",        # voortijdig afgesloten: wegens externe omstandigheden
    "early_other": "05",        # idem (another circumstance outside the care)
}, verified=True)
ANSWER = CodeList("antwoord outcome", "4.3-4.4", {"yes": "1", "no": "2", "unknown": "9"})
INFORMANT = CodeList("type informant", "4.5", {"girl": "1", "parent": "2", "professional": "3"})
CRISIS = CodeList("gestart met crisis", "3.4", {"yes": "J", "no": "N"})

UNVERIFIED: tuple[str, ...] = (
    *(f"{c.section} {c.name}" for c in (SEX, REFERRER, CARE_FORM, CRISIS, END_REASON, ANSWER,
                                         INFORMANT) if not c.verified),
    "bestandsindeling",
)
"""What has not been checked against the protocol's text yet (the file's column layout
last): shown on the report's page, so nobody delivers it unaware."""
VERIFIED = not UNVERIFIED
"""Whether every code and the layout were checked against the protocol's text."""

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
