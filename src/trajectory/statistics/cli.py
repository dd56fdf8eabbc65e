"""`trajectory statistics publish|combine|key`.

Wiring into the main parser takes three lines: `add_statistics_parser(sub)` where the
subcommands are built; `combine_command(args, out)` before the application is built
(combining needs no store: the rapporteur runs it on the documents alone); and
`statistics_command(app, args, out)` for the others.

Whom to trust. `combine` checks every document's signature against the public key the
document carries, and refuses a document whose figures were changed after signing. That
alone proves integrity, not origin: anyone can make a key and sign made-up figures. What
ties a document to an installation is a key known beforehand, fetched from the
installation over a channel the rapporteur trusts (`GET /statistics/signing-key` over
TLS, `trajectory statistics key` on its server, the fingerprint read out by telephone).
So: with `--trusted-keys FILE` (one published public key per line, `#` comments) a
document signed by any other key is refused; without it the embedded keys are used and
every document's fingerprint is printed, marked untrusted, for the rapporteur to compare
with the installations' published ones. The design's command line
(`statistics combine FILES...`) takes no list; the list makes it strict.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

import msgspec

from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.projections.victims import (
    ROUNDING_BASE,
    SMALL_CELL,
    TableOut,
    VictimsProjection,
    figures,
    frozen_on,
    published_through,
)
from trajectory.statistics.combine import CombineRefused, NationalOut, Source, combine
from trajectory.statistics.document import (
    DocumentRefused,
    PublishedFigures,
    sign,
    verify,
    write,
)
from trajectory.statistics.signing import (
    PublicKey,
    SigningUnavailable,
    installation_public_key,
    public_key_of,
    signing_key,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_statistics_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "statistics", help="national figures: publish this installation's, combine several"
    )
    actions = parser.add_subparsers(dest="statistics_command", required=True, metavar="ACTION")
    publish = actions.add_parser(
        "publish",
        help="write a closed year's suppressed figures as a document signed with this"
        " installation's key",
    )
    publish.add_argument("--year", type=int, required=True, help="a closed year")
    publish.add_argument("--out", required=True, metavar="FILE", help="the file to create")
    publish.add_argument(
        "--installation", metavar="NAME",
        help="how the document names this installation (default: its key's fingerprint)",
    )
    combine_parser = actions.add_parser(
        "combine",
        help="verify installations' signed figures and add them up into the national table",
    )
    combine_parser.add_argument("files", nargs="+", metavar="FILE")
    combine_parser.add_argument(
        "--trusted-keys", metavar="FILE",
        help="the installations' published public keys, one per line: a document signed"
        " by any other key is refused",
    )
    combine_parser.add_argument(
        "--out", metavar="FILE", help="also write the national table as JSON"
    )
    actions.add_parser("key", help="print this installation's public signing key")
    return parser


# -- publish and key: an installation, on its own store --------------------------------------


def statistics_command(app: TrajectoryApplication, args: argparse.Namespace, out: TextIO) -> int:
    try:
        if args.statistics_command == "key":
            public = installation_public_key(app.keys, app.db, app.clock())
            out.write(f"public key  {public.to_text()}\nfingerprint {public.fingerprint}\n")
            return EXIT_OK
        return publish_command(app, args.year, Path(args.out), args.installation, out)
    except SigningUnavailable as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return EXIT_USAGE


def publish_command(
    app: TrajectoryApplication, year: int, target: Path, installation: str | None, out: TextIO
) -> int:
    today = amsterdam_date(app.clock())
    if year > published_through(today):
        print(
            f"trajectory: {year} is not closed: its figures are published from"
            f" {frozen_on(year).replace(day=1, month=2).isoformat()}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if target.exists():
        print(f"trajectory: {target} exists; a published document is never overwritten",
              file=sys.stderr)
        return EXIT_USAGE
    if not target.parent.is_dir():
        print(f"trajectory: there is no directory {target.parent}", file=sys.stderr)
        return EXIT_USAGE
    from trajectory.composition import projection_runner

    # The figures are read from the read model: bring it up to the log first.
    projection_runner(app, names=[VictimsProjection.name]).catch_up()
    key = signing_key(app.keys, app.db, app.clock())
    public = public_key_of(key)
    table = figures(app.db, year, year, today=today)
    document = sign(
        PublishedFigures(
            installation=installation or f"installation {public.fingerprint[:9]}",
            year=year,
            published_on=today,
            small_cell_threshold=table.small_cell_threshold,
            rounding_base=table.rounding_base,
            registered=table.registered,
            in_care=table.in_care,
        ),
        key,
    )
    write(document, target)
    out.write(
        f"wrote the figures of {year} to {target}, signed by {public.fingerprint}\n"
        f"registered with CoMensha: {_total(table.registered)};"
        f" taken into care: {_total(table.in_care)}\n"
    )
    return EXIT_OK


def _total(table: TableOut) -> str:
    (cell,) = table.rows[0].cells
    return "suppressed" if cell.n is None else str(cell.n)


# -- combine: the rapporteur, on documents alone ---------------------------------------------


def combine_command(args: argparse.Namespace, out: TextIO) -> int:
    trusted: set[bytes] | None = None
    if args.trusted_keys:
        try:
            trusted = read_trusted_keys(Path(args.trusted_keys))
        except (OSError, ValueError) as e:
            print(f"trajectory: {args.trusted_keys}: {e}", file=sys.stderr)
            return EXIT_USAGE
    sources: list[Source] = []
    refused: list[str] = []
    for name in args.files:
        try:
            figures_of, key = verify(Path(name).read_bytes())
        except OSError as e:
            refused.append(f"{name}: cannot be read ({e.strerror})")
            continue
        except DocumentRefused as e:
            refused.append(f"{name}: refused: {e}")
            continue
        if trusted is not None and key.raw not in trusted:
            refused.append(
                f"{name}: refused: signed by key {key.fingerprint}, which is not on the"
                " trusted list"
            )
            continue
        sources.append(Source(name=name, figures=figures_of, key=key,
                              trusted=trusted is not None))
    if refused:
        # Nothing is added up: a national table without one installation, silently,
        # would be a wrong table.
        for line in refused:
            print(f"trajectory: {line}", file=sys.stderr)
        print("trajectory: nothing was combined", file=sys.stderr)
        return EXIT_FAILED
    try:
        national = combine(sources)
    except CombineRefused as e:
        print(f"trajectory: {e}; nothing was combined", file=sys.stderr)
        return EXIT_FAILED
    out.write(render(national))
    if args.out:
        Path(args.out).write_bytes(
            msgspec.json.format(msgspec.json.encode(national), indent=1) + b"\n"
        )
        out.write(f"wrote the national table to {args.out}\n")
    return EXIT_OK


def read_trusted_keys(path: Path) -> set[bytes]:
    """The public keys in `path`: the first word of each line that is not a comment."""
    found: set[bytes] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if words:
            try:
                found.add(PublicKey.from_text(words[0]).raw)
            except ValueError as e:
                raise ValueError(f"line {number}: {e}") from None
    if not found:
        raise ValueError("no public key in the file")
    return found


def render(national: NationalOut) -> str:
    """The national table as text: a column per year, `N (P%)`, `-` where suppressed."""
    lines = ["sources (compare each fingerprint with the installation's published one):"]
    for s in national.sources:
        mark = "trusted" if s.trusted else "UNTRUSTED: only its own key vouches for it"
        lines.append(f"  {s.year}  {s.fingerprint}  {s.installation}  ({mark})")
    for name, table in (("registered", national.registered), ("in_care", national.in_care)):
        lines.append("")
        lines.append(f"{name}: {table.counts}")
        lines.append(f"  {'':28}" + "".join(f"{y:>14}" for y in national.years))
        for row in table.rows:
            cells = "".join(
                f"{'-':>14}" if c.n is None
                else f"{f'{c.n} ({c.percent}%)' if c.percent is not None else c.n:>14}"
                for c in row.cells
            )
            lines.append(f"  {row.key:28}{cells}")
    lines.append("")
    lines.append(f"suppressed ('-'): under {SMALL_CELL}, or to protect one that is;"
                 f" counts rounded to multiples of {ROUNDING_BASE}")
    for h in national.hidden_by_sources:
        lines.append(f"  {h.year} {h.table} {h.key}: suppressed by {', '.join(h.installations)}")
    lines.append(national.rule)
    return "\n".join(lines) + "\n"
