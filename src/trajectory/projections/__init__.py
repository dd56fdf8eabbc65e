"""Read models built from the event log, each with its own tables and tracking position.

Every user looks at the same log through a window of their own: the coordinator's
caseload (`caseload`), the aftercare worker's list of handovers (`handovers`), the
organisation's list of the girls out of view (`out_of_view`), the organisation's
runaway register (`runaways`), the
inspector's core-element matrix and the organisation's quality signals
(`core_elements`), the national figures (`victims`). `setup_projections(app)` creates
their tables, registers their erasure hooks and returns the runner that keeps them
caught up (`trajectory projections run|rebuild|status`).

Queries are plain functions of the database returning msgspec Structs:
`caseload.caseload`, `handovers.handovers_for`, `out_of_view.out_of_view_list`,
`out_of_view.out_of_view_counts`, `core_elements.matrix`,
`core_elements.signals`, `core_elements.waiver_justifications`, `victims.figures`,
`runaways.runaway_register`, `runaways.runaways_per_month`.
"""

from __future__ import annotations

from collections.abc import Sequence

from trajectory.application import TrajectoryApplication
from trajectory.projections.caseload import CaseloadProjection
from trajectory.projections.core_elements import CoreElementsProjection
from trajectory.projections.framework import Change, Projection
from trajectory.projections.handovers import HandoversProjection
from trajectory.projections.out_of_view import OutOfViewProjection
from trajectory.projections.runaways import RunawaysProjection
from trajectory.projections.runner import (
    PAGE_SIZE,
    ProjectionFailed,
    ProjectionRunner,
    ProjectionStatusOut,
    RunnerThread,
)
from trajectory.projections.victims import VictimsProjection

PROJECTIONS: tuple[type[Projection], ...] = (
    CaseloadProjection,
    HandoversProjection,
    OutOfViewProjection,
    CoreElementsProjection,
    VictimsProjection,
    RunawaysProjection,
)
PROJECTION_NAMES: tuple[str, ...] = tuple(p.name for p in PROJECTIONS)


def build_projections(
    app: TrajectoryApplication, names: Sequence[str] | None = None
) -> list[Projection]:
    chosen = PROJECTION_NAMES if names is None else tuple(names)
    unknown = [n for n in chosen if n not in PROJECTION_NAMES]
    if unknown:
        raise KeyError(
            f"no projection named {', '.join(unknown)} (known: {', '.join(PROJECTION_NAMES)})"
        )
    return [p(app.protocols) for p in PROJECTIONS if p.name in chosen]


def register_erasure_hooks(app: TrajectoryApplication, projections: Sequence[Projection]) -> None:
    """Erasing a trajectory deletes its rows from every projection, in the erasure's
    transaction. One hook per projection name, however often this is called."""
    owners = [getattr(hook, "__self__", None) for hook in app.erasure_hooks]
    registered = {owner.name for owner in owners if isinstance(owner, Projection)}
    for p in projections:
        if p.name not in registered:
            app.erasure_hooks.append(p.delete_trajectory)


def setup_projections(
    app: TrajectoryApplication,
    *,
    names: Sequence[str] | None = None,
    extra: Sequence[Projection] = (),
    create_tables: bool = True,
    page_size: int = PAGE_SIZE,
) -> ProjectionRunner:
    """The runner of the projections (all, or `names`), tables created when asked (once,
    by the process that owns the schema), erasure hooks registered on `app`."""
    projections = [*build_projections(app, names), *extra]
    runner = ProjectionRunner(app, projections, page_size=page_size)
    if create_tables:
        runner.create_tables()
    register_erasure_hooks(app, projections)
    return runner


__all__ = [
    "PROJECTION_NAMES",
    "Change",
    "Projection",
    "ProjectionFailed",
    "ProjectionRunner",
    "ProjectionStatusOut",
    "RunnerThread",
    "build_projections",
    "register_erasure_hooks",
    "setup_projections",
]
