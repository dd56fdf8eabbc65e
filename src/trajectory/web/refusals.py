"""The protocol's refusals as sentences people read: keyed by the stable rule code, filled
in from the command that was refused and the trajectory's state and protocol.

The domain's own messages are English and technical ("in phase 1 internet is allowed at
most 'supervised', not 'free'"); a coordinator reads "In fase 1 is internetgebruik alleen
onder toezicht toegestaan." Each rule code has its sentence in the catalogues under the
message context "rule" (the catalogue test finds every code raised under src); the parts
of a sentence built here (a permission as a noun, a cap as a phrase) have theirs under
"permission-noun" and "cap". A code without a sentence falls back to a general one, and the
domain's message stays beside it, so nothing is ever hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trajectory import commands as c
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.state import TrajectoryState
from trajectory.protocol.model import Protocol
from trajectory.web.i18n import Translator


@dataclass(frozen=True)
class Refusal:
    """What the form shows: the sentence, the unmet criteria (codes), and the domain's
    own message for those who want the detail."""

    code: str
    sentence: str
    unmet: tuple[str, ...] = field(default=())
    detail: str = ""
    title: str = ""
    """The heading, when it is not the protocol's refusal (a warning to confirm)."""
    links: tuple[tuple[str, str], ...] = field(default=())
    """(path under the pages, text): where to look before confirming."""


def explain(
    t: Translator,
    refusal: RuleRefused,
    command: object,
    state: TrajectoryState | None,
    protocol: Protocol | None,
) -> Refusal:
    code = refusal.code
    phase = state.phase if state is not None else 0
    sentence: str | None = None
    if code == "phase-permission-cap" and isinstance(command, c.ChangePermission):
        sentence = _permission_cap(t, command, phase, protocol)
    elif code == "network-contact-cap" and state is not None and protocol is not None:
        sentence = _contact_cap(t, command, state, protocol)
    elif code == "runaway-open":
        if isinstance(command, c.ReportRunaway):
            sentence = t("A runaway is open already; record her return first.")
        elif isinstance(command, c.CloseTrajectory):
            sentence = t("Close the trajectory only after she has returned: she must not go"
                         " out of view.")
        elif state is not None and state.open_runaway is not None:
            sentence = t.rule(code, since=t.date(state.open_runaway.since))
    elif code == "entry-criteria-unmet":
        if isinstance(command, c.TransitionPhase):
            sentence = t("Not all criteria for phase %(phase)s are met yet.",
                         phase=command.to_phase)
        else:
            sentence = t("Not all criteria for aftercare are met yet.")
    elif code in ("phase-skip", "phase-unchanged"):
        target_phase = command.to_phase if isinstance(command, c.TransitionPhase) else phase
        sentence = t.rule(code, phase=phase if code == "phase-skip" else target_phase,
                          next=phase + 1)
    elif code == "permission-level-invalid" and isinstance(command, c.ChangePermission):
        sentence = t.rule(code, kind=t.pgettext("permission-noun", command.kind))
    elif t.has("rule", code) and "%(" not in t.pgettext("rule", code):
        sentence = t.rule(code)  # a sentence that needs no details filled in
    if sentence is None:
        sentence = t("The protocol does not allow this.")
    return Refusal(code=code, sentence=sentence, unmet=refusal.unmet, detail=refusal.message)


def _permission_cap(
    t: Translator, command: c.ChangePermission, phase: int, protocol: Protocol | None
) -> str:
    cap = protocol.phase_spec(phase).caps.get(command.kind) if protocol else None  # type: ignore[call-overload]
    return t("In phase %(phase)s %(noun)s is %(phrase)s. Asked for: %(asked)s.",
             phase=phase, noun=t.pgettext("permission-noun", command.kind),
             phrase=t.pgettext("cap", str(cap)), asked=t.value(command.level))


def _contact_cap(
    t: Translator, command: object, state: TrajectoryState, protocol: Protocol
) -> str | None:
    contact_id = getattr(command, "contact_id", "")
    contact = state.contacts.get(contact_id)
    if contact is None or contact.risk == "prohibited":
        return None
    cap = protocol.phase_spec(state.phase).network[contact.risk]
    return t("In phase %(phase)s contact with a %(risk)s contact is %(phrase)s.",
             phase=state.phase, risk=t.value(contact.risk), phrase=t.pgettext("cap", cap))
