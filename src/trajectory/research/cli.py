"""The research commands of the command line: `export`, and `verify --export DIR`.

Kept here so that the main command line only names them. The operator who runs them is
recorded in the access log as `cli:<login>` with the role `admin`, client `cli`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime, time, timedelta
from typing import Any, TextIO

from trajectory.clock import AMSTERDAM, FIRST_MOMENT, LAST_MOMENT, parse_moment

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_export_parser(sub: Any) -> None:
    """`trajectory export ...` (the `--export` option of `verify` lives with `verify`)."""
    export = sub.add_parser(
        "export", help="write a pseudonymised research data set (see docs/research.md)"
    )
    export.add_argument("--project", required=True,
                        help="an approved research project's name (its own pseudonyms)")
    export.add_argument(
        "--organisations", help="only these of the project's organisations, comma-separated;"
        " default: every organisation in its scope")
    export.add_argument("--out", required=True, help="output directory (new or empty)")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv",
                        help="csv (default), or parquet: CSV and Parquet of the same tables")
    export.add_argument(
        "--as-of", dest="as_of", metavar="TIME",
        help="read the log as known at this RFC 3339 time (or the end of this date in"
        " Amsterdam, YYYY-MM-DD); default: everything stored, observation ending today",
    )
    export.add_argument(
        "--files", help="the files the project needs, comma-separated (trajectories, events,"
        " sequences, spells, follow_ups, scores); as approved for the project; default: all")
    export.add_argument(
        "--variables", help="the variables the project needs, comma-separated file.column"
        " (e.g. trajectories.runaways); as approved for the project; default: all")
    export.add_argument("--sequences", choices=["week", "month"], default="week",
                        help="sequences.csv per week (default) or per month since intake")
    export.add_argument("--also", action="append", default=[], metavar="FORMAT",
                        choices=["ocel", "xes", "sav", "dta"],
                        help="also write: ocel (OCEL 2.0 JSON), xes (XES), sav (SPSS), dta"
                        " (Stata); repeat for more (sav and dta need the 'stats' extra)")
    export.add_argument("--k", type=int, default=5,
                        help="smallest published group of quasi-identifiers (default 5;"
                        " never below 5)")


def parse_as_of(value: str) -> datetime:
    if len(value) == 10:
        day = datetime.fromisoformat(value).date()
        if not FIRST_MOMENT.date() <= day < LAST_MOMENT.date():
            raise ValueError("lies outside the years 1 to 9998")
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=AMSTERDAM)
        return (end - timedelta(microseconds=1)).astimezone(UTC)
    return parse_moment(value)


def _listed(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _operator() -> Any:
    from trajectory.application import Actor

    return Actor(user_id=f"cli:{getpass.getuser()}", role="admin", organisation="")


def export_command(app: Any, args: argparse.Namespace, out: TextIO) -> int:
    from trajectory.logs import Progress
    from trajectory.research import ExportError, ProjectError, manifest_sha256
    from trajectory.research.approvals import ProjectRefused
    from trajectory.research.approved_export import export_approved

    try:
        as_of = parse_as_of(args.as_of) if args.as_of else None
    except ValueError as e:
        print(f"trajectory: --as-of {args.as_of!r}: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        manifest = export_approved(
            app, _operator(), args.project, args.out, fmt=args.format, as_of=as_of, k=args.k,
            progress=Progress("export", 0), client="cli",
            files=_listed(args.files), variables=_listed(args.variables),
            sequence_unit=args.sequences, formats=args.also,
            organisations=_listed(args.organisations),
        )
    except ProjectRefused as e:
        print(f"trajectory: export refused ({e.code}): {e.message}; a project is exported"
              " only once the admin of every organisation in its scope approved it, until"
              " it expires (see docs/research.md)", file=sys.stderr)
        return EXIT_FAILED
    except (ExportError, ProjectError) as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return EXIT_FAILED
    c = manifest.counts
    s = manifest.small_cell_check
    out.write(
        f"exported {c.trajectories_exported} trajectories, {c.events_exported} events"
        f" to {args.out}\n"
        f"left out: {c.left_out_no_consent} without research consent, {c.left_out_erased}"
        f" erased, {c.left_out_observed_under_4_weeks} observed under 4 weeks,"
        f" {c.left_out_not_yet_recorded} not yet recorded\n"
        f"small-cell check (k={s.k}): {s.cells_suppressed} of {s.cells} quasi-identifier"
        f" cells suppressed ({s.suppressed_percent}%); {s.censored_shortened} girls still"
        f" in care censored earlier, on their group's day\n"
    )
    for column in s.columns:
        out.write(f"  {column.column}: {column.published_as}; {column.cells_generalised}"
                  f" generalised, {column.cells_suppressed} suppressed\n")
    out.write(f"root {manifest.root}\nmanifest sha256 {manifest_sha256(manifest)}\n")
    if not s.passed:
        for failure in s.failures:
            out.write(f"FAILED {failure}\n")
        print("trajectory: the export FAILED its disclosure checks: it is marked failed in"
              " its manifest and is not fit to publish", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def verify_export_command(app: Any, directory: str, out: TextIO) -> int:
    from trajectory.logs import Progress
    from trajectory.research import ExportError, verify_export

    try:
        check = verify_export(app, directory, actor=_operator(),
                              progress=Progress("verify export", 0), client="cli")
    except ExportError as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return EXIT_FAILED
    for difference in check.differences:
        out.write(f"DIFFERS {difference}\n")
    for note in check.notes:
        out.write(f"NOTE {note}\n")
    verdict = "matches the log" if check.ok else f"{len(check.differences)} difference(s)"
    out.write(
        f"export {directory} (manifest sha256 {check.manifest_sha256}):"
        f" {check.trajectories} trajectories, {check.events} events: {verdict}\n"
    )
    return EXIT_OK if check.ok else EXIT_FAILED
