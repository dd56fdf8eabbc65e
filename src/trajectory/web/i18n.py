"""The web pages' words: Dutch by default, English on request.

A small message catalogue: one dict per language. Dutch is complete; English falls back
to a readable form of the code ("safety_analysis" -> "Safety analysis"), so a code that
gains no English word yet still reads. The language is chosen by `?lang=`, then the
`trj_lang` cookie, then Accept-Language, then Dutch.

Codes (vocabulary values, criteria, rule codes, event names) are the stored contract;
the words here may change freely.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")
DEFAULT_LANG: Lang = "nl"
LANG_COOKIE = "trj_lang"

UI: dict[Lang, dict[str, str]] = {
    "nl": {
        "app_name": "Trajectvolger",
        "skip": "Naar de inhoud",
        "nav_caseload": "Caseload",
        "nav_new": "Nieuwe aanmelding",
        "nav_handovers": "Overdrachten",
        "nav_quality": "Kwaliteit",
        "nav_research": "Onderzoek",
        "nav_admin": "Beheer",
        "nav_account": "Account",
        "sign_out": "Afmelden",
        "signed_in_as": "Aangemeld als {name}",
        "language": "Taal",
        "sign_in": "Aanmelden",
        "sign_in_intro": "Meld u aan met uw persoonlijke account. Daarna vragen we de code"
        " uit uw authenticator-app.",
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "continue": "Verder",
        "code_title": "Tweede stap: code",
        "code_intro": "Voer de zescijferige code uit uw authenticator-app in.",
        "totp_code": "Code uit de authenticator-app",
        "sign_in_failed": "Gebruikersnaam of wachtwoord onjuist.",
        "code_failed": "De code klopt niet of is al gebruikt. Probeer de volgende code.",
        "no_totp": "Voor uw account is nog geen tweede factor ingesteld. Vraag de beheerder"
        " om u aan te melden voor een authenticator-app.",
        "throttled": "Te veel mislukte pogingen. Wacht een minuut en probeer het opnieuw.",
        "session_ended": "Uw sessie is verlopen of beëindigd. Meld u opnieuw aan.",
        "signed_out": "U bent afgemeld.",
        "csrf_refused": "Dit formulier is verlopen of niet van deze pagina afkomstig. Er is"
        " niets vastgelegd. Open de pagina opnieuw en probeer het nog eens.",
        "forbidden": "U hebt geen toegang tot deze pagina.",
        "not_found": "Niet gevonden.",
        "gone": "Dit dossier is vernietigd.",
        "error": "Er ging iets mis; er is niets vastgelegd. Probeer het later opnieuw.",
        "back": "Terug",
        "reauth_title": "Bevestig wie u bent",
        "reauth_intro": "Voor een export of een vernietiging vragen we opnieuw uw wachtwoord"
        " en een code.",
        "reauth_failed": "Wachtwoord of code onjuist.",
        "confirm": "Bevestigen",
        "account_title": "Uw account",
        "totp_new_title": "Nieuwe authenticator-app koppelen",
        "totp_new_intro": "Scan deze QR-code met de nieuwe app en voer ter bevestiging de code"
        " in die de app toont. Tot dan blijft uw huidige app geldig.",
        "totp_secret": "Of typ deze sleutel over",
        "totp_saved": "De nieuwe authenticator-app is gekoppeld.",
        "qr_title": "QR-code voor de authenticator-app",
        # caseload
        "caseload_title": "Caseload",
        "caseload_intro": "De meisjes van {org}, de meest urgente eerst.",
        "search_name": "Zoek op naam",
        "search": "Zoeken",
        "filter": "Filteren",
        "all": "Alle",
        "phase": "Fase",
        "status": "Status",
        "only_overdue": "Alleen met achterstallige punten",
        "name": "Naam",
        "days_in_phase": "Dagen in fase",
        "attention": "Aandachtspunten",
        "runaway_since": "Weggelopen sinds {date}",
        "no_items": "Geen meisjes gevonden.",
        "overdue": "te laat",
        "due_on": "uiterlijk {date}",
        "search_logged": "Zoeken op naam wordt vastgelegd in het toegangslogboek.",
        "results_for": "{count} gevonden voor uw zoekopdracht.",
        # trajectory page
        "trajectory_title": "Traject van {name}",
        "as_of": "Stand op",
        "show": "Tonen",
        "as_of_note": "U ziet het dossier zoals het bekend was op {date}.",
        "not_recorded_yet": "Op {date} was dit dossier nog niet vastgelegd.",
        "now": "Nu",
        "born": "geboren {date} ({age} jaar)",
        "intake_on": "Aanmelding {date}",
        "phase_of": "Fase {phase}: {name}",
        "protocol": "Protocol",
        "timeline": "Tijdlijn",
        "timeline_desc": "Fasen als banden over de tijd, met weglopen, therapie, onderwijs,"
        " overdracht en nazorg.",
        "permissions": "Vrijheden",
        "permission": "Vrijheid",
        "level": "Niveau",
        "cap": "Maximum in deze fase",
        "contacts": "Netwerkcontacten",
        "role": "Rol",
        "risk": "Risico",
        "no_contacts": "Nog geen contacten geregistreerd.",
        "nothing_due": "Niets openstaand.",
        "record": "Vastleggen",
        "record_fact": "Iets vastleggen",
        "history": "Geschiedenis",
        "position": "Nr.",
        "what": "Wat",
        "occurred": "Gebeurd op",
        "recorded": "Vastgelegd",
        "by": "door",
        "details": "Gegevens",
        "corrected_by": "Gecorrigeerd door nr. {position}: {text}",
        "in_error_by": "Onjuist volgens nr. {position}: {text}",
        "corrects": "Corrigeert nr. {position}",
        "recorded_ok": "Vastgelegd: {what}.",
        "open_runaway": "Weggelopen sinds {date} ({days} dagen)",
        "legend": "Legenda",
        "today": "vandaag",
        # forms
        "form_intro": "Velden met * zijn verplicht.",
        "required": "verplicht",
        "occurred_on": "Datum waarop het gebeurde",
        "occurred_hint": "Leeg: vandaag.",
        "one_per_line": "Eén per regel.",
        "choose": "Kies…",
        "save": "Vastleggen",
        "cancel": "Annuleren",
        "refused_title": "Het protocol staat dit niet toe",
        "unmet_title": "Hier is nog niet aan voldaan:",
        "unmet_link": "vastleggen",
        "fix_fields": "Controleer de gemarkeerde velden.",
        "field_invalid": "Deze waarde past niet.",
        "field_required": "Dit veld is verplicht.",
        "conflict": "Het dossier is intussen door iemand anders gewijzigd. Bekijk de nieuwe"
        " stand en probeer het opnieuw.",
        "waivers": "Voorwaarden buiten beschouwing laten",
        "waivers_intro": "Alleen met een onderbouwing; die blijft zichtbaar voor de inspectie.",
        "waive": "Buiten beschouwing laten: {criterion}",
        "justification": "Onderbouwing voor {criterion}",
        "criteria_for": "Voorwaarden voor fase {phase}",
        "advance_to": "Naar fase {phase}",
        "criterion_met": "voldaan",
        "criterion_unmet": "nog niet voldaan",
        "no_contact_yet": "Registreer eerst een netwerkcontact.",
        # handovers
        "handovers_title": "Overdrachten aan u",
        "handovers_intro": "Meisjes die aan u zijn overgedragen, wie uit beeld raakt eerst.",
        "out_of_view": "Uit beeld",
        "out_of_view_warning": "Let op: het laatste contact is te lang geleden. Zij dreigt uit"
        " beeld te raken; neem vandaag contact op.",
        "out_of_view_count": "{count} uit beeld",
        "handover_title": "Overdracht",
        "handover_state": "Stand van de overdracht",
        "accept_handover": "Overdracht aanvaarden",
        "accepted_ok": "U hebt de overdracht aanvaard.",
        "package": "Overdrachtspakket",
        "contacts_to_watch": "Contacten om op te letten",
        "restored_contacts": "Herstelde contacten",
        "next_contact_due": "Volgend contact uiterlijk",
        "last_contact": "Laatste contact",
        "age": "Leeftijd",
        "adult_note": "Zij is 18 of ouder; de nazorg loopt door.",
        "open": "Openen",
        "receiving_organisation": "Ontvangende organisatie",
        "organisation": "Organisatie",
        "no_handovers": "Er zijn geen overdrachten aan u.",
        # quality
        "quality_title": "Kernelementen",
        "quality_intro": "Welke van de 15 kernelementen zijn toegepast, per element, voor {org}.",
        "element": "Kernelement",
        "chart_title": "Kernelementen per status",
        "per_trajectory": "Per traject",
        "trajectory": "Traject",
        # research
        "research_title": "Onderzoeksexport",
        "research_intro": "Gepseudonimiseerde gegevens voor onderzoek. Namen, id's, vrije"
        " tekst en exacte datums gaan niet mee.",
        "project": "Onderzoeksproject",
        "format": "Formaat",
        "k": "Kleinste groep (k)",
        "start_export": "Export starten",
        "exports": "Eerdere exports",
        "no_exports": "Nog geen exports.",
        "manifest": "Manifest",
        "files": "Bestanden",
        "rows": "Rijen",
        "bytes": "Bytes",
        "download": "Downloaden",
        "export_failed": "De export is niet gelukt: {reason}",
        "export_ok": "De export is klaar.",
        "export_unavailable": "De onderzoeksexport is op deze server niet beschikbaar.",
        "counts": "Aantallen",
        "parameters": "Parameters",
        "file": "Bestand",
        "exported_of": "{exported} van de {total} trajecten",
        # the manifest's counts and parameters, by their names there
        "count_trajectories_in_store": "Trajecten in de opslag",
        "count_trajectories_exported": "Trajecten in de export",
        "count_left_out_no_consent": "Weggelaten: geen toestemming voor onderzoek",
        "count_left_out_erased": "Weggelaten: dossier vernietigd",
        "count_left_out_observed_under_4_weeks": "Weggelaten: korter dan 4 weken gevolgd",
        "count_events_exported": "Gebeurtenissen in de export",
        "observation_end": "Einde van de observatie",
        "protocols": "Protocollen",
        "manifest_root": "Controlegetal van de export",
        # admin
        "admin_title": "Beheer",
        "admin_intro": "Beheerders zien geen zorggegevens: alleen het toegangslogboek en de"
        " vernietiging van dossiers.",
        "erasure_title": "Dossier vernietigen",
        "erasure_intro": "Onomkeerbaar: de sleutel van het dossier wordt verwijderd. Noem geen"
        " namen in de reden; die wordt bewaard.",
        "trajectory_id": "Traject-id",
        "reason": "Reden",
        "legal_ground": "Wettelijke grond",
        "erase": "Vernietigen",
        "erased_ok": "Het dossier is vernietigd.",
        "access_log_title": "Toegangslogboek van een traject",
        "access_log_show": "Logboek tonen",
        "when": "Wanneer",
        "user": "Gebruiker",
        "action": "Handeling",
        "outcome": "Uitkomst",
        "client": "Apparaat",
        "yes": "ja",
        "no": "nee",
        "none": "geen",
    },
    "en": {
        "app_name": "Trajectory",
        "skip": "Skip to content",
        "nav_caseload": "Caseload",
        "nav_new": "New intake",
        "nav_handovers": "Handovers",
        "nav_quality": "Quality",
        "nav_research": "Research",
        "nav_admin": "Admin",
        "nav_account": "Account",
        "sign_out": "Sign out",
        "signed_in_as": "Signed in as {name}",
        "language": "Language",
        "sign_in": "Sign in",
        "sign_in_intro": "Sign in with your personal account. Next we ask for the code from"
        " your authenticator app.",
        "username": "User name",
        "password": "Password",
        "continue": "Continue",
        "code_title": "Second step: code",
        "code_intro": "Enter the six-digit code from your authenticator app.",
        "totp_code": "Code from the authenticator app",
        "sign_in_failed": "Wrong user name or password.",
        "code_failed": "The code is wrong or was used already. Try the next code.",
        "no_totp": "Your account has no second factor yet. Ask the administrator to enrol"
        " you with an authenticator app.",
        "throttled": "Too many failed attempts. Wait a minute and try again.",
        "session_ended": "Your session expired or was ended. Please sign in again.",
        "signed_out": "You are signed out.",
        "csrf_refused": "This form expired or did not come from this page. Nothing was"
        " recorded. Open the page again and retry.",
        "forbidden": "You may not open this page.",
        "not_found": "Not found.",
        "gone": "This file was destroyed.",
        "error": "Something went wrong; nothing was recorded. Please try again later.",
        "back": "Back",
        "reauth_title": "Confirm who you are",
        "reauth_intro": "Before an export or an erasure we ask for your password and a code"
        " again.",
        "reauth_failed": "Wrong password or code.",
        "confirm": "Confirm",
        "account_title": "Your account",
        "totp_new_title": "Link a new authenticator app",
        "totp_new_intro": "Scan this QR code with the new app and confirm with the code it"
        " shows. Until then your current app stays valid.",
        "totp_secret": "Or type this key",
        "totp_saved": "The new authenticator app is linked.",
        "qr_title": "QR code for the authenticator app",
        "caseload_title": "Caseload",
        "caseload_intro": "The girls of {org}, most urgent first.",
        "search_name": "Search by name",
        "search": "Search",
        "filter": "Filter",
        "all": "All",
        "phase": "Phase",
        "status": "Status",
        "only_overdue": "Only with overdue items",
        "name": "Name",
        "days_in_phase": "Days in phase",
        "attention": "Attention items",
        "runaway_since": "Ran away on {date}",
        "no_items": "No girls found.",
        "overdue": "overdue",
        "due_on": "due {date}",
        "search_logged": "Searching by name is recorded in the access log.",
        "results_for": "{count} found for your search.",
        "trajectory_title": "Trajectory of {name}",
        "as_of": "As of",
        "show": "Show",
        "as_of_note": "You see the file as it was known on {date}.",
        "not_recorded_yet": "On {date} this file had not been recorded yet.",
        "now": "Now",
        "born": "born {date} ({age} years)",
        "intake_on": "Intake {date}",
        "phase_of": "Phase {phase}: {name}",
        "protocol": "Protocol",
        "timeline": "Timeline",
        "timeline_desc": "Phases as bands over time, with runaways, therapy, education,"
        " handover and aftercare.",
        "permissions": "Permissions",
        "permission": "Permission",
        "level": "Level",
        "cap": "Cap in this phase",
        "contacts": "Network contacts",
        "role": "Role",
        "risk": "Risk",
        "no_contacts": "No contacts registered yet.",
        "nothing_due": "Nothing due.",
        "record": "Record",
        "record_fact": "Record a fact",
        "history": "History",
        "position": "No.",
        "what": "What",
        "occurred": "Occurred on",
        "recorded": "Recorded",
        "by": "by",
        "details": "Details",
        "corrected_by": "Corrected by no. {position}: {text}",
        "in_error_by": "In error according to no. {position}: {text}",
        "corrects": "Corrects no. {position}",
        "recorded_ok": "Recorded: {what}.",
        "open_runaway": "Ran away on {date} ({days} days)",
        "legend": "Legend",
        "today": "today",
        "form_intro": "Fields marked * are required.",
        "required": "required",
        "occurred_on": "Date it happened",
        "occurred_hint": "Empty: today.",
        "one_per_line": "One per line.",
        "choose": "Choose…",
        "save": "Record",
        "cancel": "Cancel",
        "refused_title": "The protocol does not allow this",
        "unmet_title": "Not yet met:",
        "unmet_link": "record",
        "fix_fields": "Please check the marked fields.",
        "field_invalid": "This value does not fit.",
        "field_required": "This field is required.",
        "conflict": "Someone else changed the file meanwhile. Look at the new state and try"
        " again.",
        "waivers": "Set criteria aside",
        "waivers_intro": "Only with a justification, which stays visible to the inspectorate.",
        "waive": "Set aside: {criterion}",
        "justification": "Justification for {criterion}",
        "criteria_for": "Criteria for phase {phase}",
        "advance_to": "To phase {phase}",
        "criterion_met": "met",
        "criterion_unmet": "not yet met",
        "no_contact_yet": "Register a network contact first.",
        "handovers_title": "Handovers to you",
        "handovers_intro": "Girls handed over to you, those going out of view first.",
        "out_of_view": "Out of view",
        "out_of_view_warning": "Attention: the last contact was too long ago. She is going out"
        " of view; contact her today.",
        "out_of_view_count": "{count} out of view",
        "handover_title": "Handover",
        "handover_state": "State of the handover",
        "accept_handover": "Accept the handover",
        "accepted_ok": "You accepted the handover.",
        "package": "Handover package",
        "contacts_to_watch": "Contacts to watch",
        "restored_contacts": "Restored contacts",
        "next_contact_due": "Next contact due",
        "last_contact": "Last contact",
        "age": "Age",
        "adult_note": "She is 18 or older; aftercare goes on.",
        "open": "Open",
        "receiving_organisation": "Receiving organisation",
        "organisation": "Organisation",
        "no_handovers": "Nothing has been handed over to you.",
        "quality_title": "Core elements",
        "quality_intro": "Which of the 15 core elements are applied, per element, for {org}.",
        "element": "Core element",
        "chart_title": "Core elements by status",
        "per_trajectory": "Per trajectory",
        "trajectory": "Trajectory",
        "research_title": "Research export",
        "research_intro": "Pseudonymised data for research. No names, ids, free text or exact"
        " dates leave.",
        "project": "Research project",
        "format": "Format",
        "k": "Smallest group (k)",
        "start_export": "Start the export",
        "exports": "Earlier exports",
        "no_exports": "No exports yet.",
        "manifest": "Manifest",
        "files": "Files",
        "rows": "Rows",
        "bytes": "Bytes",
        "download": "Download",
        "export_failed": "The export failed: {reason}",
        "export_ok": "The export is ready.",
        "export_unavailable": "Research export is not available on this server.",
        "counts": "Counts",
        "parameters": "Parameters",
        "file": "File",
        "exported_of": "{exported} of {total} trajectories",
        "count_trajectories_in_store": "Trajectories in the store",
        "count_trajectories_exported": "Trajectories exported",
        "count_left_out_no_consent": "Left out: no research consent",
        "count_left_out_erased": "Left out: file erased",
        "count_left_out_observed_under_4_weeks": "Left out: observed under 4 weeks",
        "count_events_exported": "Events exported",
        "observation_end": "End of observation",
        "protocols": "Protocols",
        "manifest_root": "Checksum of the export",
        "admin_title": "Administration",
        "admin_intro": "Administrators see no care data: only the access log and the erasure"
        " of files.",
        "erasure_title": "Erase a file",
        "erasure_intro": "Irreversible: the file's key is deleted. Write no names in the"
        " reason; it is kept.",
        "trajectory_id": "Trajectory id",
        "reason": "Reason",
        "legal_ground": "Legal ground",
        "erase": "Erase",
        "erased_ok": "The file was erased.",
        "access_log_title": "Access log of a trajectory",
        "access_log_show": "Show the log",
        "when": "When",
        "user": "User",
        "action": "Action",
        "outcome": "Outcome",
        "client": "Client",
        "yes": "yes",
        "no": "no",
        "none": "none",
    },
}

# Vocabulary values (Literal codes) in Dutch; English reads the code.
VALUES_NL: dict[str, str] = {
    # victim status, profiles, setting, status
    "potential": "potentieel",
    "suspected": "vermoedelijk",
    "confirmed": "bevestigd",
    "phase_of_life": "levensfaseproblematiek",
    "influenceable": "sterk beïnvloedbaar",
    "traumatised": "getraumatiseerd",
    "multi_problem": "multiprobleemgezin",
    "honour_related": "eergerelateerd",
    "residential": "residentieel",
    "ambulatory": "ambulant",
    "closed": "gesloten",
    "in_care": "in zorg",
    "aftercare": "nazorg",
    # permissions and levels
    "internet": "internet",
    "social_media": "sociale media",
    "phone": "telefoon",
    "leave": "verlof",
    "contact_with_boys": "contact met jongens",
    "none": "geen",
    "supervised": "onder toezicht",
    "limited": "beperkt",
    "free": "vrij",
    "accompanied": "begeleid",
    "unaccompanied": "zelfstandig",
    "unsupervised": "zonder toezicht",
    # contacts
    "safe": "veilig",
    "unknown": "onbekend",
    "risky": "risicovol",
    "prohibited": "verboden",
    # placement
    "homogeneous_group": "homogene meidengroep",
    "mixed_group": "gemengde groep",
    # medical
    "medication": "medicatie",
    "pregnancy": "zwangerschap",
    "sti_test": "soa-test",
    "first_aid": "eerste hulp",
    "forensic_exam": "forensisch onderzoek",
    # therapy, interventions
    "emdr": "EMDR",
    "cbt": "CGT",
    "other": "anders",
    "resilience_training": "weerbaarheidstraining",
    "body_oriented": "lichaamsgericht werken",
    "psycho_education_relationships": "psycho-educatie relaties",
    "psycho_education_sexuality": "psycho-educatie seksualiteit",
    "experiential_expert": "ervaringsdeskundige",
    "family_system_therapy": "gezins-/systeemtherapie",
    "social_skills": "sociale vaardigheden",
    "problem_solving_skills": "probleemoplossende vaardigheden",
    # CoMensha, consent
    "registered_by_name": "op naam geregistreerd (met toestemming)",
    "registered_by_date_of_birth": "alleen op geboortedatum geregistreerd",
    "not_registered": "niet geregistreerd",
    "parent": "ouder",
    "guardian": "voogd",
    "girl": "het meisje zelf (16+)",
    # signals, runaway, closure
    "loverboy": "loverboysignaal",
    "sexual_abuse": "seksueel misbruik",
    "boundary_crossing": "grensoverschrijdend gedrag",
    "runaway": "weglopen",
    "returned": "teruggekeerd",
    "found": "gevonden",
    "aftercare_completed": "nazorg afgerond",
    "transferred": "overgedragen",
    "turned_adult_left_care": "18 geworden, zorg verlaten",
    "moved_away": "verhuisd",
    # safety
    "concerns": "zorgen",
    "unsafe": "onveilig",
    "low": "laag",
    "medium": "gemiddeld",
    "high": "hoog",
    "internet_social_media": "internet en sociale media",
    "trafficker_contact": "contact met mensenhandelaar",
    "network": "netwerk",
    "self_harm": "zelfbeschadiging",
    "substance_use": "middelengebruik",
    "other_region": "plaatsing in een andere regio",
    "temporary_closed_setting": "tijdelijk gesloten plaatsing",
    "parent_agreements": "afspraken met ouders",
    "police_involved": "politie betrokken",
    "runaway_agreements": "afspraken bij weglopen",
    "phone_restriction": "telefoonbeperking",
    # family involvement, aftercare contact
    "family_meeting": "familiegesprek",
    "system_therapy": "systeemtherapie",
    "parent_counselling": "oudergesprekken",
    "network_meeting": "netwerkberaad",
    "visit": "bezoek",
    "message": "bericht",
    # corrections, erasure
    "correct": "corrigeren",
    "mark_in_error": "als onjuist markeren",
    "retention-expired": "bewaartermijn verstreken",
    "request-granted": "verzoek toegewezen",
    "court-order": "rechterlijke uitspraak",
    # handover states
    "not_prepared": "niet voorbereid",
    "prepared": "voorbereid",
    "meeting_held": "overdrachtsgesprek gehouden",
    "accepted": "aanvaard",
    "in_aftercare": "in nazorg",
    "ended": "beëindigd",
    # core element statuses
    "evidenced": "toegepast",
    "waived": "onderbouwd afgeweken",
    "due": "nog te doen",
    "missing": "ontbreekt",
    "not_applicable": "niet van toepassing",
    # access log
    "read": "inzien",
    "write": "vastleggen",
    "search": "zoeken",
    "export": "export",
    "erase": "vernietigen",
    "audit-read": "logboek inzien",
    "login": "aanmelden",
    "ok": "gelukt",
    "denied": "geweigerd",
    "refused": "afgewezen",
    "rejected": "ongeldig",
    "replayed": "herhaald",
    "failed": "mislukt",
    "csv": "CSV",
    "coordinator": "behandelcoördinator",
    "researcher": "onderzoeker",
    "admin": "beheerder",
    "parquet": "Parquet",
    # -- leisure (vrijetijdsbesteding), LeisureKind; "other" is above ("anders") --------
    "sport": "sport",
    "music": "muziek",
    "arts": "kunst en cultuur",
    "youth_club": "jongerencentrum",
    "scouting": "scouting",
    "volunteering": "vrijwilligerswerk",
}

# Entry criteria and attention items.
CRITERIA: dict[Lang, dict[str, str]] = {
    "nl": {
        "safety-analysis": "veiligheidsanalyse",
        "medical-assessment": "medische beoordeling",
        "care-analysis": "probleem-, risico-, behoeften- en krachtenanalyse",
        "treatment-plan": "behandelplan",
        "placement": "plaatsingsbesluit",
        "education": "onderwijs geregeld",
        "no-open-runaway": "terug na weglopen",
        "min-days-in-phase": "minimaal aantal dagen in de vorige fase",
        "trauma-therapy": "traumabehandeling gestart",
        "family-involvement": "ouders en netwerk betrokken",
        "care-analysis-current": "actuele analyse (niet ouder dan drie maanden)",
        "comensha-decision": "besluit CoMensha-registratie",
        "handover-prepared": "overdracht voorbereid",
        "handover-meeting": "warm overdrachtsgesprek",
        "handover-accepted": "overdracht aanvaard door de ontvanger",
        "medical-after-runaway": "medische beoordeling na terugkeer",
        "safety-after-runaway": "veiligheidsanalyse na terugkeer",
        "handover-acceptance": "aanvaarding van de overdracht",
        "aftercare-contact": "nazorgcontact",
    },
    "en": {
        "safety-analysis": "safety analysis",
        "medical-assessment": "medical assessment",
        "care-analysis": "problem, risk, needs and strengths analysis",
        "treatment-plan": "treatment plan",
        "placement": "placement decision",
        "education": "education arranged",
        "no-open-runaway": "no open runaway",
        "min-days-in-phase": "minimum days in the previous phase",
        "trauma-therapy": "trauma therapy started",
        "family-involvement": "parents and network involved",
        "care-analysis-current": "a current analysis (under three months old)",
        "comensha-decision": "CoMensha registration decision",
        "handover-prepared": "handover prepared",
        "handover-meeting": "warm handover meeting",
        "handover-accepted": "handover accepted by the receiver",
        "medical-after-runaway": "medical assessment after return",
        "safety-after-runaway": "safety analysis after return",
        "handover-acceptance": "acceptance of the handover",
        "aftercare-contact": "aftercare contact",
    },
}

FIELDS_NL: dict[str, str] = {
    "occurred_on": "Datum waarop het gebeurde",
    "intake_date": "Datum van aanmelding",
    "victim_status": "Slachtofferstatus",
    "risk_profiles": "Risicoprofielen",
    "setting": "Setting",
    "referral_source": "Verwijzer",
    "legal_framework": "Juridisch kader",
    "identity": "Identiteit",
    "identity.name": "Naam",
    "identity.date_of_birth": "Geboortedatum",
    "identity.home_region": "Regio van herkomst",
    "risk_assessment_instrument": "Risicotaxatie-instrument",
    "risk_assessment_result": "Uitkomst risicotaxatie",
    "reason": "Reden",
    "instrument": "Instrument",
    "physical_safety": "Fysieke veiligheid",
    "experienced_safety": "Ervaren veiligheid",
    "risks": "Risico's",
    "runaway_risk": "Risico op weglopen",
    "measures": "Maatregelen",
    "police_involved": "Politie betrokken",
    "notes": "Aantekeningen",
    "needs": "Behoeften",
    "provider": "Zorgaanbieder",
    "disciplines": "Aanwezige disciplines",
    "abuse_circumstances": "Omstandigheden van het misbruik",
    "abuse_nature": "Aard van het misbruik",
    "abuse_frequency": "Frequentie van het misbruik",
    "upper_problems": "Bovenliggende problematiek (gedrag, weerbaarheid)",
    "underlying_problems": "Onderliggende problematiek (trauma, hechting)",
    "education_history": "Onderwijsgeschiedenis",
    "risky_contacts_and_places": "Risicovolle contacten en plaatsen",
    "strengths": "Krachten",
    "goals": "Doelen",
    "summary": "Samenvatting",
    "kind": "Soort",
    "region": "Regio",
    "argument": "Onderbouwing",
    "role": "Rol in haar netwerk",
    "risk": "Risico",
    "note": "Toelichting",
    "contact_id": "Contact",
    "level": "Niveau",
    "form": "Vorm",
    "participants": "Deelnemers",
    "to_phase": "Naar fase",
    "method": "Methode",
    "outcome": "Uitkomst",
    "school": "School of opleiding",
    "attending": "Gaat naar school",
    "qualification": "Diploma of startkwalificatie",
    "from_where": "Weggelopen van",
    "suspected_destination": "Vermoedelijk naar",
    "suspected_with": "Vermoedelijk met",
    "how": "Hoe",
    "police_forces_informed": "Geïnformeerde politie-eenheden",
    "home_region_police_informed": "Politie van de regio van herkomst geïnformeerd",
    "ending": "Afloop",
    "police_force": "Politie-eenheid",
    "partners": "Aanwezige ketenpartners",
    "decision": "Besluit",
    "consent_by": "Toestemming van",
    "receiving_organisation": "Ontvangende organisatie",
    "receiving_worker": "Ontvangende medewerker (gebruikers-id)",
    "package": "Overdrachtspakket",
    "package.sexual_development": "Seksuele ontwikkeling en voorgeschiedenis",
    "package.loverboy_problem": "Loverboyproblematiek (expliciet benoemd)",
    "package.safety_plan": "Veiligheidsplan",
    "package.agreements": "Afspraken",
    "package.aftercare_plan": "Nazorgplan",
    "girl_present": "Het meisje was aanwezig",
    "sending_worker_present": "De overdragende medewerker was aanwezig",
    "receiving_worker_present": "De ontvangende medewerker was aanwezig",
    "plan": "Nazorgplan",
    "position": "Nummer van de vastlegging",
    "action": "Handeling",
    "corrected_occurred_on": "Juiste datum",
    "given_by": "Gegeven door",
    "withdrawn_by": "Ingetrokken door",
    "requested_by": "Aangevraagd door",
    "granted": "Toegewezen",
    "cause": "Aanleiding",
    "contacts": "Contacten",
    "coordinator": "Behandelcoördinator",
    "correction": "Correctie",
    "criteria_met": "Voorwaarden vervuld",
    "criterion": "Voorwaarde",
    "deadline": "Uiterlijk",
    "from_level": "Van",
    "to_level": "Naar",
    "from_phase": "Van fase",
    "justification": "Onderbouwing",
    "organisation": "Organisatie",
    "permissions": "Vrijheden",
    "protocol_name": "Protocol",
    "protocol_version": "Protocolversie",
    "waivers": "Buiten beschouwing gelaten",
    # -- leisure (vrijetijdsbesteding); "kind" and "note" are above ------------------
    "activity": "Activiteit",
    "supervised": "Onder begeleiding van een volwassene",
}

# Per form, where a field means something more specific.
FIELD_OVERRIDES_NL: dict[tuple[str, str], str] = {
    ("permission", "kind"): "Vrijheid",
    ("placement", "kind"): "Soort plaatsing",
    ("intervention", "kind"): "Soort interventie",
    ("signal", "kind"): "Soort signaal",
    ("aftercare-contact", "kind"): "Soort contact",
    ("education", "level"): "Niveau (bijv. vmbo)",
    ("contact-restore", "level"): "Nieuw contactniveau",
    ("contact-restrict", "level"): "Nieuw contactniveau",
    ("aftercare-end", "reason"): "Reden",
    ("closure", "reason"): "Reden van afsluiting",
    ("correction", "reason"): "Correctie of reden",
    ("phase-transition", "reason"): "Reden",
    # -- leisure (vrijetijdsbesteding) ----------------------------------------------
    ("leisure", "kind"): "Soort activiteit",
}

EVENTS_NL: dict[str, str] = {
    "TrajectoryOpened": "Aanmelding",
    "VictimStatusChanged": "Slachtofferstatus gewijzigd",
    "SafetyAnalysisRecorded": "Veiligheidsanalyse",
    "MedicalCareAssessed": "Medische beoordeling",
    "CareAnalysisRecorded": "Probleem-, risico-, behoeften- en krachtenanalyse",
    "TreatmentPlanSet": "Behandelplan vastgesteld",
    "PlacementDecided": "Plaatsingsbesluit",
    "NetworkContactRegistered": "Netwerkcontact geregistreerd",
    "NetworkContactRiskAssessed": "Risico van contact herzien",
    "NetworkContactRestored": "Contact hersteld",
    "NetworkContactRestricted": "Contact beperkt",
    "FamilyInvolvementRecorded": "Ouders of netwerk betrokken",
    "PermissionChanged": "Vrijheid gewijzigd",
    "PhaseAdvanced": "Naar volgende fase",
    "PhaseRegressed": "Terug naar eerdere fase",
    "PermissionsCapped": "Vrijheden automatisch begrensd",
    "TraumaTherapyStarted": "Traumabehandeling gestart",
    "TraumaTherapySessionHeld": "Therapiesessie",
    "TraumaTherapyCompleted": "Traumabehandeling afgerond",
    "InterventionDelivered": "Interventie",
    "EducationArranged": "Onderwijs geregeld",
    "EducationProgressRecorded": "Voortgang op school",
    "QualificationObtained": "Diploma behaald",
    "RunawayReported": "Weggelopen",
    "RunawayEnded": "Terug na weglopen",
    "PoliceReportDiscussed": "Aangifte besproken",
    "PoliceReportFiled": "Aangifte gedaan",
    "CaseConferenceHeld": "Casusoverleg",
    "ComenshaRegistrationDecided": "Besluit CoMensha-registratie",
    "SignalRecorded": "Signaal vastgelegd",
    "HandoverPrepared": "Overdracht voorbereid",
    "HandoverMeetingHeld": "Warm overdrachtsgesprek",
    "HandoverAccepted": "Overdracht aanvaard",
    "AftercareStarted": "Nazorg gestart",
    "AftercareContactRecorded": "Nazorgcontact",
    "AftercareEnded": "Nazorg beëindigd",
    "TrajectoryClosed": "Traject afgesloten",
    "EntryCorrected": "Correctie",
    "EntryMarkedInError": "Als onjuist gemarkeerd",
    "ResearchConsentGiven": "Toestemming voor onderzoek",
    "ResearchConsentWithdrawn": "Toestemming voor onderzoek ingetrokken",
    "DestructionRequested": "Verzoek tot vernietiging",
    "DestructionRequestDecided": "Besluit over vernietiging",
    # -- leisure (vrijetijdsbesteding) ----------------------------------------------
    "LeisureArranged": "Vrijetijdsbesteding geregeld",
}

ELEMENTS_NL: dict[int, str] = {
    1: "Professionals kennen de problematiek",
    2: "Signalen herkennen, risicotaxatie",
    3: "Vervolgstappen: netwerkanalyse, aangifte besproken",
    4: "Registratie bij CoMensha",
    5: "Veiligheid voorop",
    6: "Acute medische zorg",
    7: "Probleem-, risico-, behoeften- en krachtenanalyse",
    8: "Ouders en netwerk betrokken",
    9: "Positief pedagogisch klimaat",
    10: "Duidelijke fasering",
    11: "Traumaverwerking",
    12: "Onderwijs vanaf dag één",
    13: "Eigenwaarde en zelfbeschikking",
    14: "Gezonde relaties en seksualiteit",
    15: "Ketensamenwerking en nazorg",
}

_WORDS = re.compile(r"(?<!^)(?=[A-Z])")


def humanise(code: str) -> str:
    """A readable English form of a code: 'safety_analysis' -> 'Safety analysis'."""
    text = _WORDS.sub(" ", code) if "_" not in code and "-" not in code else code
    text = text.replace("_", " ").replace("-", " ").strip().lower()
    return text[:1].upper() + text[1:]


class Translator:
    """The words of one language, for the templates and the handlers."""

    def __init__(self, lang: Lang):
        self.lang = lang
        self.ui = UI[lang]

    def __call__(self, key: str, **values: Any) -> str:
        text = self.ui.get(key) or UI[DEFAULT_LANG].get(key) or key
        return text.format(**values) if values else text

    def value(self, code: object) -> str:
        """A vocabulary value: a level, a kind, a status."""
        text = str(code)
        if self.lang == "nl":
            return VALUES_NL.get(text, text.replace("_", " "))
        return text.replace("_", " ")

    def values(self, codes: object) -> str:
        if isinstance(codes, (list, tuple)):
            return ", ".join(self.value(c) for c in codes) or self("none")
        return self.value(codes)

    def criterion(self, code: str) -> str:
        return CRITERIA[self.lang].get(code, humanise(code).lower())

    def field(self, name: str, form: str = "") -> str:
        if self.lang == "nl":
            return FIELD_OVERRIDES_NL.get((form, name)) or FIELDS_NL.get(
                name, humanise(name.rpartition(".")[2])
            )
        return humanise(name.rpartition(".")[2])

    def event(self, name: str) -> str:
        if self.lang == "nl":
            return EVENTS_NL.get(name, name)
        return humanise(name)

    def element(self, number: int, english: str) -> str:
        if self.lang == "nl":
            return ELEMENTS_NL.get(number, english)
        return english[:1].upper() + english[1:]

    def date(self, value: object) -> str:
        """A calendar day the way people here write it: 2-3-2026 / 2 Mar 2026. An ISO day
        as text (a manifest's) is read first: "2026-03-02" reads as a US-or-ISO puzzle."""
        from datetime import date, datetime

        if isinstance(value, str):
            try:
                value = date.fromisoformat(text := value)
            except ValueError:
                return text
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            return "" if value is None else str(value)
        if self.lang == "nl":
            return f"{value.day}-{value.month}-{value.year}"
        return value.strftime("%d %b %Y").lstrip("0")

    def moment(self, value: object) -> str:
        """A stored moment (UTC, as RFC 3339 text or a datetime) on the clock of the care
        home, to the second: 3-3-2026 10:00:30. An administrator compares log entries with
        what people tell her, in their own time, not in UTC."""
        from datetime import UTC, datetime

        from trajectory.clock import AMSTERDAM

        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(text := value)
            except ValueError:
                return text
        if not isinstance(value, datetime):
            return "" if value is None else str(value)
        local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(AMSTERDAM)
        return f"{self.date(local.date())} {local:%H:%M:%S}"

    def yes_no(self, value: bool) -> str:
        return self("yes") if value else self("no")


def choose_language(query: str | None, cookie: str | None, accept: str | None) -> Lang:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return candidate
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return DEFAULT_LANG


def catalogue_keys() -> Mapping[Lang, frozenset[str]]:
    """The keys of each language's UI words (a test checks they are the same)."""
    return {lang: frozenset(words) for lang, words in UI.items()}
