"""`trajectory report bij --period YYYYH1|YYYYH2 --out FILE`: the CBS delivery.

Wiring into the main parser: `add_report_parser(sub)` where the subcommands are built, and
`report_command(app, args, out)` for `report`. The file holds citizen service numbers: it
is written readable by its owner only, never over an existing file; what was left out is
printed (trajectory ids and problem codes, never a number or a name).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from trajectory.application import TrajectoryApplication
from trajectory.bij.codes import PROTOCOL, UNVERIFIED
from trajectory.bij.report import Period, PeriodRefused, produce, write

EXIT_OK = 0
EXIT_USAGE = 2


def add_report_parser(sub: Any) -> None:
    report = sub.add_parser("report", help="statutory reports (access-logged)")
    kinds = report.add_subparsers(dest="report_command", required=True)
    bij = kinds.add_parser(
        "bij", help="the half-yearly Beleidsinformatie Jeugd delivery to CBS",
        description=f"Following the {PROTOCOL}.",
    )
    bij.add_argument("--period", required=True, help="YYYYH1 or YYYYH2, e.g. 2026H2")
    bij.add_argument("--out", required=True, type=Path, help="the file to write (new)")
    bij.add_argument("--org", default=None,
                     help="one organisation (default: every organisation of the installation)")
    bij.add_argument("--correction", action="store_true",
                     help="a correction: this delivery replaces the earlier one of the period")
    bij.add_argument("--as", dest="as_user", metavar="USER", default=None,
                     help="make it as this admin or quality officer (default: logged as the"
                     " operating-system account at this terminal)")


def report_command(app: TrajectoryApplication, args: argparse.Namespace, out: TextIO) -> int:
    try:
        period = Period.parse(args.period)
    except PeriodRefused as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return EXIT_USAGE
    target: Path = args.out
    if target.exists():
        print(f"trajectory: {target} exists; a delivery is never written over another",
              file=sys.stderr)
        return EXIT_USAGE
    if not target.parent.is_dir():
        print(f"trajectory: there is no directory {target.parent}", file=sys.stderr)
        return EXIT_USAGE
    from trajectory.listing import Operator, acting_user, actor_of

    who: Any = Operator.here()
    organisation = args.org
    if args.as_user:
        user = acting_user(app, args.as_user)
        if user is None:
            return EXIT_USAGE
        if user.role not in ("admin", "quality"):
            print("trajectory: the delivery is made by an admin or the quality officer",
                  file=sys.stderr)
            return EXIT_USAGE
        who, organisation = actor_of(user), user.organisation
    made = produce(app, period, who, organisation=organisation, correction=args.correction)
    write(made, target)
    out.write(f"wrote {len(made.rows)} records for {period} to {target}"
              f"{' (a correction)' if made.correction else ''}; {PROTOCOL}\n")
    if UNVERIFIED:
        out.write(f"not yet checked against the protocol's text: {', '.join(UNVERIFIED)}"
                  " (see docs/operations.md, the half-yearly CBS delivery)\n")
    if made.left_out:
        out.write(f"left out {len(made.left_out)}: correct them and deliver again\n")
        for left in made.left_out:
            out.write(f"  {left.trajectory_id} {left.organisation}: {', '.join(left.problems)}\n")
    return EXIT_OK


def add_municipalities_parser(sub: Any) -> None:
    towns = sub.add_parser(
        "municipalities",
        help="the municipalities a girl may live in (CBS's list; for the CBS delivery)")
    acts = towns.add_subparsers(dest="municipalities_command", required=True)
    load = acts.add_parser(
        "load", help="load CBS's list 'Gemeenten alfabetisch <year>', saved as CSV",
        description="Adds and renames municipalities; none is removed (a municipality that"
        " merged away keeps its code for the girls who lived there).")
    load.add_argument("file", type=Path, help="the CSV (Gemeentecode or GemeentecodeGM,"
                      " and Gemeentenaam)")
    acts.add_parser("list", help="the municipalities known, by code")


def municipalities_command(app: TrajectoryApplication, args: argparse.Namespace,
                           out: TextIO) -> int:
    from trajectory.bij.municipalities import (
        Municipalities,
        MunicipalityListRefused,
        parse_cbs_list,
    )
    from trajectory.listing import Operator

    known = Municipalities(app.db)
    if args.municipalities_command == "list":
        for code, name in sorted(known.all().items()):
            out.write(f"{code} {name}\n")
        return EXIT_OK
    source: Path = args.file
    try:
        towns = parse_cbs_list(source.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as e:
        print(f"trajectory: cannot read {source}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except MunicipalityListRefused as e:
        print(f"trajectory: {source}: {e}; nothing was loaded", file=sys.stderr)
        return EXIT_USAGE
    loaded = known.load(towns, source=source.name, by=Operator.here().user_id,
                        at=app.clock())
    out.write(f"loaded {len(towns)} municipalities from {source.name};"
              f" {loaded} loaded in all, {len(known.all())} known\n")
    return EXIT_OK
