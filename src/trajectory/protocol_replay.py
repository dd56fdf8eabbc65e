"""`trajectory protocol check FILE` and `trajectory protocol replay FILE [--as-of DATE]`.

Check: does a proposed protocol file load, and does it keep the floor (every breach
listed with its rule code)? Replay: every trajectory's recorded decisions judged again
under it (`protocol.replay`), read-only: the store is only read, nothing is recorded, no
read model moves. Output for IT: girls by their number in the run and their opaque id,
never a name. Progress goes to stderr (a bar on a terminal, structlog lines elsewhere).
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TextIO
from uuid import UUID

import msgspec
import structlog

from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.vocabulary import Setting
from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.crypto import TrajectoryErased
from trajectory.protocol.floor import FloorBreach, floor_breaches, raw_breaches
from trajectory.protocol.loader import ProtocolError, parse_protocol
from trajectory.protocol.model import Protocol
from trajectory.protocol.registry import ProtocolRegistryError
from trajectory.protocol.replay import GirlReport, ReplayTotals, replay_trajectory

log = structlog.get_logger("trajectory.protocol_replay")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    """A proposed protocol judged: loaded (or why not) and every way it loosens the floor."""

    source: str
    protocol: Protocol | None = None
    problems: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # the floor's rule codes broken

    @property
    def ok(self) -> bool:
        return self.protocol is not None and not self.problems


def check_protocol_text(text: str, source: str) -> CheckResult:
    """Every reason a proposed protocol cannot be installed, the floor's all at once."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:  # the loader below names the line
        raw = None
    breaches: list[FloorBreach] = raw_breaches(raw) if raw is not None else []
    if breaches:
        return _result(source, None, breaches)
    try:
        protocol = parse_protocol(text, source, floor=False)
    except ProtocolError as e:
        return CheckResult(source=source, problems=(str(e),))
    return _result(source, protocol, floor_breaches(protocol))


def _result(source: str, protocol: Protocol | None, breaches: list[FloorBreach]) -> CheckResult:
    return CheckResult(
        source=source,
        protocol=protocol if not breaches else None,
        problems=tuple(str(ProtocolError.from_breach(source, b)) for b in breaches),
        rules=tuple(b.rule for b in breaches),
    )


class ReplayReport(msgspec.Struct, kw_only=True):
    """A replay: the proposed protocol, the day, the totals, and each girl it touches."""

    protocol: str
    as_of: date
    totals: ReplayTotals
    girls: list[GirlReport]
    seconds: float = 0.0


def replay_store(
    app: TrajectoryApplication,
    proposed: Protocol,
    as_of: date,
    *,
    organisation: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Every trajectory (of `organisation`, when given) replayed under `proposed`; girls
    untouched by it are counted in the totals only. Reads, never writes."""
    started = time.monotonic()
    if organisation is None:
        ids = app.stored_trajectory_ids()
    else:
        ids = [UUID(str(row["trajectory_id"])) for row in app.index(organisation)]
    totals = ReplayTotals()
    girls: list[GirlReport] = []
    for number, trajectory_id in enumerate(ids, start=1):
        girl = _replay_one(app, trajectory_id, proposed, as_of, number)
        if girl == OTHER_SETTING:
            totals.other_setting += 1
        elif isinstance(girl, GirlReport):
            totals.add(girl)
            if girl.affected:
                girls.append(girl)
        if progress is not None:
            progress(number, len(ids))
    seconds = round(time.monotonic() - started, 3)
    log.info(
        "protocol_replayed",
        protocol=f"{proposed.name} {proposed.version}",
        trajectories=totals.girls,
        events=totals.events,
        affected=totals.girls_affected,
        seconds=seconds,
    )
    return ReplayReport(
        protocol=f"{proposed.name} {proposed.version}",
        as_of=as_of,
        totals=totals,
        girls=girls,
        seconds=seconds,
    )


OTHER_SETTING = "other-setting"


def chosen_for(app: TrajectoryApplication, proposed: Protocol, setting: Setting) -> bool:
    """Whether a girl of `setting` would be opened under `proposed` were it installed: the
    settings it names, or (naming none) those the current protocol serves."""
    if proposed.protocol.settings:
        return setting in proposed.protocol.settings
    return app.protocols.for_setting(setting) is app.protocols.current


def _replay_one(
    app: TrajectoryApplication, trajectory_id: UUID, proposed: Protocol, as_of: date, number: int
) -> GirlReport | str | None:
    if app.keys is not None and app.keys.is_erased(trajectory_id):
        return None  # crypto-shredded: nothing to read
    try:
        events = [app.mapper.to_domain_event(s) for s in app.stored_events(trajectory_id)]
    except TrajectoryErased:
        return None
    if not events:
        return None
    opened = events[0]
    if not isinstance(opened, TrajectoryOpened):
        return None
    if not chosen_for(app, proposed, opened.setting):
        return OTHER_SETTING
    try:
        own: Protocol | None = app.protocols.get(opened.protocol_name, opened.protocol_version)
    except ProtocolRegistryError:
        own = None
    return replay_trajectory(events, proposed, own, as_of, number=number)


# -- the command line -----------------------------------------------------------------------


def add_protocol_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    protocol = sub.add_parser("protocol", help="check a proposed protocol, or replay it")
    protocol_sub = protocol.add_subparsers(dest="protocol_command", required=True)
    check = protocol_sub.add_parser(
        "check", help="validate a protocol file (exit 0) or list why not (exit 1)"
    )
    check.add_argument("file")
    replay = protocol_sub.add_parser(
        "replay",
        help="judge every trajectory's recorded decisions under a proposed protocol"
        " (read-only)",
    )
    replay.add_argument("file")
    replay.add_argument(
        "--as-of", metavar="DATE", help="the day of the report, YYYY-MM-DD (default today)"
    )
    replay.add_argument("--json", action="store_true", help="the report as JSON")


def check_command(path: str, out: TextIO) -> int:
    result = check_file(path)
    if result.ok:
        assert result.protocol is not None
        p = result.protocol
        print(
            f"ok: {p.name} {p.version}, {p.last_phase} phases, keeps the floor", file=out
        )
        return EXIT_OK
    for problem in result.problems:
        print(problem, file=out)
    return EXIT_FAILED


def check_file(path: str) -> CheckResult:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        return CheckResult(source=path, problems=(f"{path}: (file): cannot be read: {e.strerror}",))
    return check_protocol_text(text, path)


def replay_command(
    app: TrajectoryApplication,
    proposed: Protocol,
    as_of: date | None,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
) -> int:
    from trajectory.logs import Progress

    day = as_of or amsterdam_date(app.clock())
    report = replay_store(app, proposed, day, progress=Progress("replay", 0, err))
    if args.json:
        out.write(msgspec.json.encode(report).decode())
        out.write("\n")
    else:
        write_text_report(report, out)
    return EXIT_OK


def write_text_report(report: ReplayReport, out: TextIO) -> None:
    t = report.totals
    print(f"replay of {report.protocol} as of {report.as_of.isoformat()}", file=out)
    for girl in report.girls:
        print(f"girl {girl.number} ({girl.trajectory_id}, under {girl.protocol}):", file=out)
        for r in girl.refusals:
            unmet = f" unmet: {', '.join(r.unmet)}" if r.unmet else ""
            what = r.decision + (f" to phase {r.to_phase}" if r.to_phase else "")
            what += f" {r.subject}" if r.subject else ""
            print(f"  refused {what} on {r.on.isoformat()} [{r.rule}]{unmet}", file=out)
        for a in girl.above_caps:
            print(f"  above cap: {a.what} {a.subject} at {a.highest}, {a.days} days", file=out)
        for change in girl.attention:
            print(f"  attention {change.became}: {change.code} (due {change.due_on})", file=out)
    refused = sum(t.refused.values())
    print(
        f"total: {t.girls} trajectories, {t.events} events; {t.girls_affected} affected;"
        f" {t.other_setting} of another setting not replayed;"
        f" {refused} decisions refused"
        + "".join(f", {n} {d}" for d, n in sorted(t.refused.items()))
        + f"; {t.above_cap_girls} with permissions or contacts above the caps"
        f" ({sum(t.above_cap_days.values())} days);"
        f" attention items newly due {t.attention_due}, overdue {t.attention_overdue};"
        f" in {report.seconds:.1f} s",
        file=out,
    )
    for rule, n in sorted(t.refused_by_rule.items()):
        print(f"  rule {rule}: {n}", file=out)
    for criterion, n in sorted(t.unmet.items()):
        print(f"  unmet {criterion}: {n}", file=out)


def protocol_command(app_factory: Callable[[], TrajectoryApplication],
                     args: argparse.Namespace) -> int:
    """`check` needs no store; `replay` opens one (read-only use) once the file and the
    day are found good."""
    if args.protocol_command == "check":
        return check_command(args.file, sys.stdout)
    result = check_file(args.file)
    if not result.ok:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        return EXIT_FAILED
    assert result.protocol is not None
    as_of = None
    if args.as_of:
        try:
            as_of = date.fromisoformat(args.as_of)
        except ValueError:
            print(f"trajectory: --as-of {args.as_of!r} is not a date (YYYY-MM-DD)",
                  file=sys.stderr)
            return EXIT_USAGE
    app = app_factory()
    try:
        return replay_command(app, result.protocol, as_of, args, sys.stdout, sys.stderr)
    finally:
        app.close()
