"""The protocol's refusals as sentences people read: keyed by the stable rule code, filled
in from the command that was refused and the trajectory's state and protocol.

The domain's own messages are English and technical ("in phase 1 internet is allowed at
most 'supervised', not 'free'"); a coordinator reads "In fase 1 is internetgebruik alleen
onder toezicht toegestaan." A code without a sentence of its own falls back to a general
sentence followed by the domain's message, so nothing is ever hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trajectory import commands as c
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.state import TrajectoryState
from trajectory.protocol.model import Protocol
from trajectory.web.i18n import Lang, Translator

KIND_NOUN: dict[Lang, dict[str, str]] = {
    "nl": {
        "internet": "internetgebruik",
        "social_media": "het gebruik van sociale media",
        "phone": "telefoongebruik",
        "leave": "verlof",
        "contact_with_boys": "contact met jongens",
    },
    "en": {
        "internet": "internet use",
        "social_media": "the use of social media",
        "phone": "phone use",
        "leave": "leave",
        "contact_with_boys": "contact with boys",
    },
}
CAP_PHRASE: dict[Lang, dict[str, str]] = {
    "nl": {
        "none": "niet toegestaan",
        "supervised": "alleen onder toezicht toegestaan",
        "limited": "alleen beperkt toegestaan",
        "accompanied": "alleen begeleid toegestaan",
        "free": "vrij toegestaan",
        "unaccompanied": "zelfstandig toegestaan",
        "unsupervised": "zonder toezicht toegestaan",
    },
    "en": {
        "none": "not allowed",
        "supervised": "allowed only under supervision",
        "limited": "allowed only in a limited way",
        "accompanied": "allowed only when accompanied",
        "free": "allowed freely",
        "unaccompanied": "allowed unaccompanied",
        "unsupervised": "allowed without supervision",
    },
}

SENTENCES: dict[Lang, dict[str, str]] = {
    "nl": {
        "contact-prohibited": "Contact met een verboden contact wordt nooit hersteld.",
        "runaway-open": "Zij is sinds {since} weggelopen en nog niet terug; zolang kan zij niet"
        " naar een volgende fase.",
        "runaway-already-open": "Er staat al een weglopen open; leg eerst haar terugkeer vast.",
        "runaway-open-closure": "Sluit het traject pas af als zij terug is: zij mag niet uit"
        " beeld raken.",
        "entry-criteria-unmet": "Nog niet alle voorwaarden voor {target} zijn vervuld.",
        "placement-argument-required": "Een plaatsing buiten een homogene meidengroep vraagt"
        " een onderbouwing (homogene groep, tenzij).",
        "comensha-argument-required": "Niet, of niet op naam, registreren bij CoMensha vraagt"
        " een onderbouwing (registratie, tenzij).",
        "comensha-consent-required": "Registreren op naam vraagt toestemming van een ouder, een"
        " voogd of het meisje zelf (vanaf 16 jaar).",
        "consent-too-young": "Het meisje kan pas vanaf 16 jaar zelf toestemming geven.",
        "consent-by-girl-from-16": "Vanaf 16 jaar geeft zij zelf toestemming, niet een ouder of"
        " voogd.",
        "destruction-requester-too-young": "Onder de 12 jaar kan zij niet zelf om vernietiging"
        " vragen; een ouder of voogd kan dat wel.",
        "destruction-by-girl-from-16": "Vanaf 16 jaar kan alleen zij zelf om vernietiging van"
        " haar dossier vragen.",
        "reason-required": "Geef een reden op.",
        "waiver-invalid": "Een voorwaarde buiten beschouwing laten kan alleen met een"
        " onderbouwing, één keer per voorwaarde, en nooit bij weglopen.",
        "not-in-care": "Dit kan alleen zolang zij in zorg is.",
        "occurred-in-future": "De datum ligt in de toekomst.",
        "occurred-before-current-phase": "De datum ligt vóór het begin van haar huidige fase.",
        "phase-skip": "Fasen gaan één voor één: vanuit fase {phase} is de volgende fase"
        " {next}.",
        "phase-unchanged": "Zij is al in fase {phase}.",
        "phase-unknown": "Het protocol kent deze fase niet.",
        "no-change": "Dit verandert niets aan de huidige stand.",
        "therapy-running": "Er loopt al een traumabehandeling.",
        "therapy-reason-required": "Een andere methode dan EMDR of CGT vraagt een reden.",
        "therapy-not-started": "Er loopt geen traumabehandeling.",
        "no-open-runaway": "Zij is niet weggelopen.",
        "occurred-before-runaway": "De terugkeer kan niet vóór het weglopen liggen.",
        "partners-required": "Noem de ketenpartners die aanwezig waren.",
        "handover-package-incomplete": "Het overdrachtspakket moet de seksuele ontwikkeling,"
        " de loverboyproblematiek (expliciet), het veiligheidsplan, het nazorgplan en het"
        " CoMensha-besluit bevatten.",
        "handover-not-prepared": "Bereid eerst de overdracht voor.",
        "handover-not-warm": "Een warme overdracht vraagt dat het meisje, de overdragende en de"
        " ontvangende medewerker aanwezig zijn.",
        "handover-meeting-missing": "Eerst moet het warme overdrachtsgesprek gehouden zijn.",
        "handover-wrong-receiver": "Alleen de ontvangende medewerker kan de overdracht"
        " aanvaarden.",
        "not-in-aftercare": "Zij is niet in nazorg.",
        "trajectory-closed": "Het traject is afgesloten.",
        "entry-not-correctable": "Deze vastlegging kan hier niet worden gecorrigeerd; een"
        " besluit over aanmelding, fase, vrijheid of contact corrigeert u met een nieuw"
        " besluit.",
        "no-consent": "Er is geen toestemming voor onderzoek van kracht.",
        "destruction-request-pending": "Er loopt al een verzoek tot vernietiging.",
        "no-destruction-request": "Er loopt geen verzoek tot vernietiging.",
        "date-of-birth-invalid": "De geboortedatum moet vóór de aanmeldingsdatum liggen.",
        "needs-invalid": "'Geen' kan niet samen met andere behoeften worden gekozen.",
        "care-analysis-missing": "Een behandelplan volgt uit een analyse: leg die eerst vast.",
        "care-analysis-disciplines": "Een analyse is multidisciplinair: noem ten minste twee"
        " disciplines.",
        "contact-unknown": "Dit contact is niet bekend.",
        "contact-level-invalid": "Herstellen vraagt een niveau hoger dan 'geen'.",
        "contact-exists": "Dit contact bestaat al.",
        "permission-level-invalid": "Dit niveau hoort niet bij {kind}.",
        "permission-kind-unknown": "Deze vrijheid bestaat niet.",
        "fallback": "Het protocol staat dit niet toe.",
    },
    "en": {
        "contact-prohibited": "A prohibited contact is never restored.",
        "runaway-open": "She ran away on {since} and has not returned; until then she cannot"
        " move to a next phase.",
        "runaway-already-open": "A runaway is open already; record her return first.",
        "runaway-open-closure": "Close the trajectory only after she has returned: she must"
        " not go out of view.",
        "entry-criteria-unmet": "Not all criteria for {target} are met yet.",
        "placement-argument-required": "A placement other than a homogeneous girls' group"
        " needs an argument (homogeneous group, unless).",
        "comensha-argument-required": "Not registering at CoMensha, or not by name, needs an"
        " argument (register, unless).",
        "comensha-consent-required": "Registering by name needs the consent of a parent, a"
        " guardian or the girl herself (from 16).",
        "consent-too-young": "A girl can give consent herself only from 16.",
        "consent-by-girl-from-16": "From 16 she gives consent herself, not a parent or"
        " guardian.",
        "destruction-requester-too-young": "Under 12 she cannot request destruction herself;"
        " a parent or guardian can.",
        "destruction-by-girl-from-16": "From 16 only she herself can request the destruction"
        " of her file.",
        "reason-required": "Give a reason.",
        "waiver-invalid": "A criterion can be set aside only with a justification, once per"
        " criterion, and never an open runaway.",
        "not-in-care": "This is possible only while she is in care.",
        "occurred-in-future": "The date lies in the future.",
        "occurred-before-current-phase": "The date lies before the start of her current phase.",
        "phase-skip": "Phases are taken one at a time: from phase {phase} the next is {next}.",
        "phase-unchanged": "She is in phase {phase} already.",
        "phase-unknown": "The protocol has no such phase.",
        "no-change": "This changes nothing.",
        "therapy-running": "A trauma therapy is running already.",
        "therapy-reason-required": "A method other than EMDR or CBT needs a reason.",
        "therapy-not-started": "No trauma therapy is running.",
        "no-open-runaway": "She has not run away.",
        "occurred-before-runaway": "Her return cannot lie before she ran away.",
        "partners-required": "Name the chain partners who were present.",
        "handover-package-incomplete": "The handover package must carry the sexual"
        " development, the loverboy problem (explicitly), the safety plan, the aftercare plan"
        " and the CoMensha decision.",
        "handover-not-prepared": "Prepare the handover first.",
        "handover-not-warm": "A warm handover needs the girl, the sending and the receiving"
        " worker present.",
        "handover-meeting-missing": "The warm handover meeting must be held first.",
        "handover-wrong-receiver": "Only the receiving worker can accept the handover.",
        "not-in-aftercare": "She is not in aftercare.",
        "trajectory-closed": "The trajectory is closed.",
        "entry-not-correctable": "This entry cannot be corrected here; intake, phase,"
        " permission and contact decisions are answered by a new decision.",
        "no-consent": "No research consent is in force.",
        "destruction-request-pending": "A destruction request is pending already.",
        "no-destruction-request": "No destruction request is pending.",
        "date-of-birth-invalid": "The date of birth must lie before the intake date.",
        "needs-invalid": "'None' cannot be combined with other needs.",
        "care-analysis-missing": "A treatment plan follows from a care analysis: record that"
        " first.",
        "care-analysis-disciplines": "A care analysis is multidisciplinary: name at least two"
        " disciplines.",
        "contact-unknown": "This contact is not known.",
        "contact-level-invalid": "Restoring needs a level above 'none'.",
        "contact-exists": "This contact exists already.",
        "permission-level-invalid": "This level does not belong to {kind}.",
        "permission-kind-unknown": "There is no such permission.",
        "fallback": "The protocol does not allow this.",
    },
}


@dataclass(frozen=True)
class Refusal:
    """What the form shows: the sentence, the unmet criteria (codes), and the domain's
    own message for those who want the detail."""

    code: str
    sentence: str
    unmet: tuple[str, ...] = field(default=())
    detail: str = ""


def explain(
    t: Translator,
    refusal: RuleRefused,
    command: object,
    state: TrajectoryState | None,
    protocol: Protocol | None,
) -> Refusal:
    code = refusal.code
    lang = t.lang
    words = SENTENCES[lang]
    phase = state.phase if state is not None else 0
    sentence: str | None = None
    if code == "phase-permission-cap" and isinstance(command, c.ChangePermission):
        sentence = _permission_cap(t, command, phase, protocol)
    elif code == "network-contact-cap" and state is not None and protocol is not None:
        sentence = _contact_cap(t, command, state, protocol)
    elif code == "runaway-open":
        if isinstance(command, c.ReportRunaway):
            sentence = words["runaway-already-open"]
        elif isinstance(command, c.CloseTrajectory):
            sentence = words["runaway-open-closure"]
        elif state is not None and state.open_runaway is not None:
            sentence = words["runaway-open"].format(since=t.date(state.open_runaway.since))
    elif code == "entry-criteria-unmet":
        if isinstance(command, c.TransitionPhase):
            target = ("fase " if lang == "nl" else "phase ") + str(command.to_phase)
        else:
            target = "de nazorg" if lang == "nl" else "aftercare"
        sentence = words[code].format(target=target)
    elif code in ("phase-skip", "phase-unchanged"):
        target_phase = command.to_phase if isinstance(command, c.TransitionPhase) else phase
        sentence = words[code].format(phase=phase if code == "phase-skip" else target_phase,
                                      next=phase + 1)
    elif code == "permission-level-invalid" and isinstance(command, c.ChangePermission):
        sentence = words[code].format(kind=KIND_NOUN[lang].get(command.kind, command.kind))
    elif code in words:
        sentence = words[code]
    if sentence is None:
        sentence = words["fallback"]
    return Refusal(code=code, sentence=sentence, unmet=refusal.unmet, detail=refusal.message)


def _permission_cap(
    t: Translator, command: c.ChangePermission, phase: int, protocol: Protocol | None
) -> str:
    lang = t.lang
    noun = KIND_NOUN[lang].get(command.kind, command.kind)
    cap = protocol.phase_spec(phase).caps.get(command.kind) if protocol else None  # type: ignore[call-overload]
    phrase = CAP_PHRASE[lang].get(str(cap), str(cap))
    asked = t.value(command.level)
    if lang == "nl":
        return f"In fase {phase} is {noun} {phrase}. Gevraagd was: {asked}."
    return f"In phase {phase} {noun} is {phrase}. Asked for: {asked}."


def _contact_cap(
    t: Translator, command: object, state: TrajectoryState, protocol: Protocol
) -> str | None:
    contact_id = getattr(command, "contact_id", "")
    contact = state.contacts.get(contact_id)
    if contact is None or contact.risk == "prohibited":
        return None
    cap = protocol.phase_spec(state.phase).network[contact.risk]
    phrase = CAP_PHRASE[t.lang].get(cap, cap)
    risk = t.value(contact.risk)
    if t.lang == "nl":
        return f"In fase {state.phase} is contact met een {risk} contact {phrase}."
    return f"In phase {state.phase} contact with a {risk} contact is {phrase}."
