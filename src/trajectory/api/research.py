"""Research exports over HTTP, for the researcher role.

The export is the same as `trajectory export`: pseudonymised, disclosure-controlled,
deterministic, and access-logged with its manifest hash (by `export_project` itself). The
answer is a zip archive of the files; the same store and parameters give the same bytes.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
import msgspec
from litestar import Request, Response, post
from litestar.params import JSONBody

from trajectory.api.context import caller, client_of, services
from trajectory.api.errors import ApiError, FieldError, problem_responses
from trajectory.api.projects import refusal
from trajectory.api.reads import parse_as_of
from trajectory.api.security import RESEARCHER, authenticated
from trajectory.application import Actor
from trajectory.research import ExportError, StoreNotVerified, write_archive
from trajectory.research.approvals import ProjectRefused
from trajectory.research.approved_export import export_approved
from trajectory.research.disclosure import MIN_K
from trajectory.research.export import manifest_sha256
from trajectory.research.projects import DeclarationError, ProjectError


class StartExport(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which project (its own pseudonyms), which format, and optionally the log as of when."""

    project: Annotated[
        str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    ]
    format: Literal["csv", "parquet"] = "csv"
    as_of: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    k: Annotated[int, msgspec.Meta(ge=MIN_K, le=1000)] = MIN_K
    """The smallest published group of quasi-identifiers: 5 or more, never less."""
    files: Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]],
                     msgspec.Meta(max_length=10)] | None = None
    """The files the project needs (fixed at its first export; null: all, or as declared)."""
    variables: Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]],
                         msgspec.Meta(max_length=300)] | None = None
    """The variables (file.column) the project needs (fixed at its first export)."""
    sequences: Literal["week", "month"] = "week"
    """sequences.csv per week (W1 ...) or per month (M1 ...) since intake."""
    also: Annotated[list[Literal["ocel", "xes", "sav", "dta"]], msgspec.Meta(max_length=4)] = []
    """Also write: ocel (OCEL 2.0 JSON), xes (XES), sav (SPSS), dta (Stata)."""
    organisations: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]],
                             msgspec.Meta(max_length=50)] | None = None
    """Only these of the project's organisations (null: every organisation in its scope)."""


def _export(request: Request[Any, Any, Any], data: StartExport) -> Response[bytes]:
    svc = services(request)
    user = caller(request)
    as_of = parse_as_of(data.as_of)
    scratch = Path(tempfile.mkdtemp(prefix="trajectory-export-"))
    try:
        out = scratch / "export"
        try:
            manifest = export_approved(
                svc.application,
                Actor(user_id=user.user_id, role=user.role, organisation=user.organisation),
                data.project,
                out,
                organisations=data.organisations,
                fmt=data.format,
                as_of=as_of,
                k=data.k,
                client=client_of(request),
                files=data.files,
                variables=data.variables,
                sequence_unit=data.sequences,
                formats=data.also,
            )
        except ProjectRefused as e:  # (the rule logged its refusal itself)
            request.scope.setdefault("state", {})["access_logged"] = True
            raise refusal(e) from None
        except StoreNotVerified as e:
            raise ApiError(409, str(e), rule="store-not-verified") from None
        except DeclarationError as e:
            raise ApiError(
                422, str(e), errors=[FieldError(field=e.field, message=str(e))]
            ) from None
        except ProjectError as e:
            raise ApiError(
                422, str(e), errors=[FieldError(field="project", message=str(e))]
            ) from None
        except ExportError as e:
            field = str(e).split(":", 1)[0] if str(e).startswith("k:") else None
            raise ApiError(
                422, str(e),
                errors=[FieldError(field=field, message=str(e))] if field else None,
            ) from None
        request.scope.setdefault("state", {})["access_logged"] = True  # (by the engine)
        archive = io.BytesIO()
        write_archive(out, archive)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Response(
        archive.getvalue(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{data.project}.zip"',
            "X-Manifest-SHA256": manifest_sha256(manifest),
            # Not ready when it failed its disclosure checks (the manifest says why):
            "X-Disclosure-Check": "passed" if manifest.small_cell_check.passed else "failed",
        },
    )


@post(
    "/research/exports",
    guards=[authenticated],
    opt={"roles": RESEARCHER, "scope": "export"},
    status_code=200,
    media_type="application/zip",
    summary="Export a research project's pseudonymised data set",
    tags=["research"],
    responses=problem_responses((400, 401, 403, 409, 413, 422, 429, 500, 503)),
)
async def research_export(
    request: Request[Any, Any, Any], data: JSONBody[StartExport]
) -> Response[bytes]:
    """trajectories.csv, events.csv, sequences.csv (TraMineR STS, per week or per month:
    `sequences`), spells.csv (with right-censoring), datapackage.json (Frictionless) and
    manifest.json (hash-chain heads, root hash, counts, small-cell check, file hashes),
    as a zip archive; `also` adds events.jsonocel (OCEL 2.0), events.xes (XES), and SPSS
    (.sav) and Stata (.dta) files of the girl-level tables. Only an approved, unexpired
    project the researcher is bound to is exported (403 `researcher-not-bound` or
    `organisation-out-of-scope`, 404 `project-unknown`, 409 `project-not-approved` or
    `project-expired`), with only its organisations, period, files and variables; the
    manifest names the approvals. Girls without research consent
    and erased girls are left out and counted. The export is recorded in the access log with
    its manifest hash. `X-Disclosure-Check: failed` (and `small_cell_check.passed: false`
    in the manifest, with its `failures`) marks an export that is not fit to publish: k was
    not reached or more cells were suppressed than the budget allows. k below 5 is refused
    (422, `k`)."""
    return await anyio.to_thread.run_sync(partial(_export, request, data))
