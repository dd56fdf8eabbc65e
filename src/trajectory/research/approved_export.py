"""Every entry point's export (API, web pages, command line): the approved project's rule
first (`approvals.check_export`), then the engine (`export.export_project`) with only the
project's scope. The engine stays callable on its own (its own tests, the benchmarks);
no entry point calls it but through here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.research.approvals import check_export
from trajectory.research.export import export_project
from trajectory.research.manifest import Manifest
from trajectory.research.projects import Declaration, DeclarationError


def export_approved(
    app: TrajectoryApplication, actor: Actor, project: str, out_dir: str | os.PathLike[str], *,
    organisations: Sequence[str] | None = None, client: str | None = None, **options: Any,
) -> Manifest:
    """Every entry point's export: `check_export`, then the engine with the approved
    project's scope (its organisations, period, files and variables). Returns the
    manifest. An explicit `files`/`variables` must be the project's own (the engine's
    declaration check refuses others)."""
    now = app.clock()
    approval = check_export(app.db, actor, project, amsterdam_date(now),
                            organisations=organisations, now=now, client=client)
    declared = approval.project.declaration
    files, variables = options.get("files"), options.get("variables")
    if files is not None or variables is not None:
        # (checked here, not only by the engine: a project's first export fixes its
        # declaration in the engine, and must fix the approved one)
        wanted = Declaration.of(files, variables)
        if wanted != declared:
            raise DeclarationError(
                "variables" if wanted.files == declared.files else "files",
                f"project {project!r} was approved for files {', '.join(declared.files)}"
                " and " + ("every variable" if declared.variables is None else
                           "variables " + ", ".join(declared.variables))
                + "; an export cannot ask for other data (propose a new project)")
    options["files"] = list(declared.files)
    options["variables"] = None if declared.variables is None else list(declared.variables)
    return export_project(app, project, out_dir, actor=actor, client=client,
                          approval=approval, organisations=organisations, **options)
