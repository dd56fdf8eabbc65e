"""The floor under every protocol: the source's non-negotiables, in one place.

An organisation may write its own protocol (phases, caps, criteria, attention numbers), but
never one that loosens these. Each has a stable rule code; a protocol file that breaks one
is refused at load (`loader.parse_protocol`), and the rules engine (`rules`) holds the ones
a file cannot express at all, whatever a protocol object says:

- `floor-phase1-internet`, `floor-phase1-social-media`, `floor-phase1-phone`: in phase 1
  internet, social media and phone at most supervised. The file is refused.
- `floor-risky-contact`: a risky network contact at most supervised, in every phase. The
  file is refused.
- `floor-prohibited-contact`: a prohibited contact is never restored. A file that gives
  one a level is refused; `rules.check_contact_restorable` always refuses.
- no phase advance and no end of care while a runaway is open; after her return a medical
  assessment and a new safety analysis. No file can switch it off: `rules.check_advance`
  refuses first, whatever the criteria (`runaway-open`); `RUNAWAY_CHECKS` are always
  criteria.
- `floor-warm-handover`: aftercare after a warm handover (prepared, meeting, accepted). The
  file is refused; `rules.criteria_for` always asks `HANDOVER_STEPS` for aftercare.
- `ambulatory-safety-analysis-required`: an ambulatory placement only once a safety
  analysis is recorded (`rules.check_ambulatory_placement_safe`).

Pure: no I/O. What must not change: the codes (the API, the command line and the quality
page name them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from trajectory.aggregates.vocabulary import CONTACT_SCALE, Level, PermissionKind, level_rank
from trajectory.protocol.model import Criterion, Protocol

# After a runaway ends: a medical assessment and a new safety analysis (each dated on or
# after her return) before any phase advance and before care ends. Each may be waived
# with a justification; an open runaway may not.
RUNAWAY_CHECKS: tuple[Criterion, ...] = ("medical-after-runaway", "safety-after-runaway")
# The steps of a warm handover, in order: every protocol's criteria for aftercare.
HANDOVER_STEPS: tuple[Criterion, ...] = (
    "handover-prepared", "handover-meeting", "handover-accepted"
)
# In phase 1 these are at most supervised, so that no opening arises for the trafficker.
PHASE_1_SUPERVISED: tuple[PermissionKind, ...] = ("internet", "social_media", "phone")
AT_MOST: Level = "supervised"


@dataclass(frozen=True)
class FloorBreach:
    """One way a protocol loosens the floor: the rule, the key in the file, and why."""

    rule: str
    key: str
    problem: str


def floor_breaches(protocol: Protocol) -> list[FloorBreach]:
    """Every way `protocol` loosens the floor; empty: it keeps it."""
    return list(_breaches(protocol))


def _breaches(protocol: Protocol) -> Iterator[FloorBreach]:
    first = protocol.phase[0] if protocol.phase else None
    if first is not None:
        for kind in PHASE_1_SUPERVISED:
            level = first.caps.get(kind)
            if level is not None and level_rank(kind, level) > level_rank(kind, AT_MOST):
                yield FloorBreach(
                    f"floor-phase1-{kind.replace('_', '-')}",
                    f"phase[0].caps.{kind}",
                    f"in phase 1 {kind} is at most {AT_MOST!r} under every protocol,"
                    f" not {level!r}",
                )
    for index, phase in enumerate(protocol.phase):
        risky = phase.network.get("risky")
        if risky is not None and CONTACT_SCALE.index(risky) > CONTACT_SCALE.index(AT_MOST):
            yield FloorBreach(
                "floor-risky-contact",
                f"phase[{index}].network.risky",
                "risky contacts may at most be supervised",
            )
    missing = [s for s in HANDOVER_STEPS if s not in protocol.aftercare.entry_criteria]
    if missing:
        yield FloorBreach(
            "floor-warm-handover",
            "aftercare.entry_criteria",
            "aftercare starts after a warm handover under every protocol; missing: "
            + ", ".join(missing),
        )


def raw_breaches(raw: Any) -> list[FloorBreach]:
    """Breaches a file can only write, not decode: a level for prohibited contacts."""
    phases = raw.get("phase") if isinstance(raw, dict) else None
    if not isinstance(phases, list):
        return []
    return [
        FloorBreach(
            "floor-prohibited-contact",
            f"phase[{index}].network",
            "'prohibited' contacts are never restored: no protocol gives them a level",
        )
        for index, phase in enumerate(phases)
        if isinstance(phase, dict)
        and isinstance(phase.get("network"), dict)
        and "prohibited" in phase["network"]
    ]
