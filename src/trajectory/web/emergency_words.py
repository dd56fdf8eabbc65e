"""The words of emergency access on the pages: the reasons a coordinator gives, what the
privacy officer judges, and the acts done under one, as sentences. Kept apart from the
pages so that the shared layout (`web.core`, the banner on every page of her file) and the
emergency pages both read them without importing each other."""

from __future__ import annotations

from trajectory.web.i18n import N_, Translator

REASON_WORDS = {
    "crisis": N_("crisis"),
    "runaway-at-night": N_("ran away at night"),
    "police-request": N_("request from the police"),
    "other": N_("other"),
}
"""Each reason's word, as the form offers it and the banner and the review list name it."""

OUTCOME_WORDS = {
    "justified": N_("justified"),
    "not-justified": N_("not justified"),
}

ACT_WORDS = {
    "emergency-open": N_("opened emergency access"),
    "emergency-end": N_("ended emergency access"),
    "read": N_("read her file"),
    "write": N_("recorded in her file"),
    "search": N_("found her by searching by name"),
    "print-handover": N_("printed the handover package"),
}
REFUSED_ACT_WORDS = {
    "write": N_("tried to record in her file: refused"),
    "read": N_("tried to read her file: refused"),
}


def reason_word(t: Translator, reason: str) -> str:
    return t(REASON_WORDS[reason]) if reason in REASON_WORDS else t.value(reason)


def outcome_word(t: Translator, outcome: str) -> str:
    return t(OUTCOME_WORDS[outcome]) if outcome in OUTCOME_WORDS else t.value(outcome)


def act_sentence(t: Translator, action: str, outcome: str) -> str:
    """What she did, as the review list says it ("read her file")."""
    if outcome == "ok" and action in ACT_WORDS:
        return t(ACT_WORDS[action])
    if outcome != "ok" and action in REFUSED_ACT_WORDS:
        return t(REFUSED_ACT_WORDS[action])
    return f"{t.value(action)} ({t.value(outcome)})"
