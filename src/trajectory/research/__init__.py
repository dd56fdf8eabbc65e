"""Research data: pseudonymised, disclosure-controlled, reproducible, verifiable exports.

`export_project(app, project, out_dir, *, fmt, actor, ...)` writes trajectories, events,
sequences (STS), spells, follow-ups and scores tables (outcomes: `outcomes`) and a
manifest; `verify_export(app, directory, *,
actor)` checks a published export against the store. The codebook
(`python -m trajectory.research.codebook`) documents every column, code and state and is
made from the same definitions the writers use. See docs/research.md.

Names are imported on first use, so that the command line can name its research
subcommands without loading the application.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trajectory.research.export import (
        DEFAULT_K,
        DEFAULT_MAX_SUPPRESSED_PERCENT,
        ExportError,
        ExportFormat,
        StoreNotVerified,
        export_project,
        manifest_sha256,
        write_archive,
    )
    from trajectory.research.manifest import Manifest
    from trajectory.research.projects import ProjectError
    from trajectory.research.verify import ExportCheck, verify_export

_WHERE = {
    "DEFAULT_K": "export",
    "DEFAULT_MAX_SUPPRESSED_PERCENT": "export",
    "ExportError": "export",
    "ExportFormat": "export",
    "StoreNotVerified": "export",
    "export_project": "export",
    "manifest_sha256": "export",
    "write_archive": "export",
    "Manifest": "manifest",
    "ProjectError": "projects",
    "ExportCheck": "verify",
    "verify_export": "verify",
}

__all__ = [
    "DEFAULT_K",
    "DEFAULT_MAX_SUPPRESSED_PERCENT",
    "ExportCheck",
    "ExportError",
    "ExportFormat",
    "Manifest",
    "ProjectError",
    "StoreNotVerified",
    "export_project",
    "manifest_sha256",
    "verify_export",
    "write_archive",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"trajectory.research.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'trajectory.research' has no attribute {name!r}")
