"""The command line: read settings once, build the application, run one command."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from trajectory.application import TrajectoryApplication
from trajectory.composition import build_application
from trajectory.identity.users import ROLES
from trajectory.projections.cli import add_projection_parser, projections_command
from trajectory.settings import Settings, SettingsError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trajectory",
        description="Event-sourced treatment trajectories for youth care.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", help="address to listen on (TRAJECTORY_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (TRAJECTORY_PORT)")
    serve.add_argument(
        "--demo", action="store_true", help="load demo data (if empty) and print demo tokens"
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="API processes on this address (TRAJECTORY_WORKERS; default 1): one per core"
        " lets concurrent writers use every core",
    )

    init = sub.add_parser("init", help="create the database tables (once, before workers start)")
    init.add_argument(
        "--runtime-role",
        metavar="NAME",
        help="PostgreSQL: grant this existing role what the servers need, and only INSERT and"
        " SELECT on the access log and the erasure records (run init as the owner role)",
    )

    demo = sub.add_parser("demo", help="write realistic synthetic trajectories")
    demo.add_argument("--count", type=int, default=40, help="number of girls (default 40)")
    demo.add_argument("--seed", type=int, default=2014, help="random seed (default 2014)")

    show = sub.add_parser("show", help="print a trajectory's state and history (access-logged)")
    show.add_argument("id", help="trajectory id")
    show.add_argument(
        "--as", dest="as_user", metavar="USER",
        help="read as this user, who must be able to see her (default: logged as the"
        " operating-system account at this terminal)",
    )

    listing = sub.add_parser(
        "list", help="the trajectories a user sees: short id, phase, status (access-logged)"
    )
    listing.add_argument("--as", dest="as_user", metavar="USER", required=True,
                         help="the coordinator or aftercare worker whose list it is")

    verify = sub.add_parser("verify", help="recompute every hash chain; exit 1 on tampering")
    verify.add_argument(
        "--export", metavar="DIR", help="check a research export against the store instead"
    )

    keys = sub.add_parser(
        "keys", help="manage the master key, this installation's card and its partners")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rotate = keys_sub.add_parser(
        "rotate", help="re-wrap every data key under a new master key (events untouched)"
    )
    rotate.add_argument(
        "--new-key-file",
        help="file with the new master key (created with a fresh key when it does not exist);"
        " default: replace the configured key file",
    )

    new_key = keys_sub.add_parser(
        "new", help="write a fresh master key to a new file, readable by its owner only"
    )
    new_key.add_argument("--out", required=True, metavar="FILE", help="the file to create")
    # The exchange with other installations (trajectory.exchange): cards and partners.
    from trajectory.exchange.cli import add_handover_parser, add_keys_parsers

    add_keys_parsers(keys_sub)
    add_handover_parser(sub)

    erase = sub.add_parser(
        "erase",
        help="crypto-shred a trajectory whose retention period has ended (irreversible);"
        " any other erasure needs two admins (web page or POST /admin/erasures)",
    )
    erase.add_argument("id", help="trajectory id")
    erase.add_argument("--reason", required=True, help="why (no names: this is kept)")
    erase.add_argument(
        "--legal-ground",
        required=True,
        choices=["retention-expired", "request-granted", "court-order", "other"],
    )
    erase.add_argument(
        "--yes", action="store_true",
        help="do not ask for confirmation (scripted retention runs: retention-expired only)",
    )

    sub.add_parser("retention", help="list trajectories due for destruction, with due dates")

    add_projection_parser(sub)

    from trajectory.statistics.cli import add_statistics_parser

    add_statistics_parser(sub)

    users = sub.add_parser("users", help="manage users and their tokens")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = users_sub.add_parser("add", help="add a user; prints the token as the last line")
    add.add_argument("--name", required=True)
    add.add_argument(
        "--role", required=True, choices=list(ROLES)
    )
    add.add_argument("--org", required=True, help="organisation")
    add.add_argument("--display-name", default="",
                     help="how the pages name her to colleagues (default: --name)")
    _sign_in_options(add)
    sign_in = users_sub.add_parser(
        "sign-in", help="set a user's web sign-in: password and/or a new TOTP enrolment"
    )
    sign_in.add_argument("name")
    _sign_in_options(sign_in)
    users_sub.add_parser("list", help="list users, their tokens' expiry and scopes (never tokens)")
    rotate_token = users_sub.add_parser(
        "rotate-token", help="issue a new token (printed last) and end the old one at once"
    )
    rotate_token.add_argument("name")
    revoke = users_sub.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("name")

    teams = sub.add_parser("teams", help="manage an organisation's teams and their members")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True, metavar="ACTION")
    teams_list = teams_sub.add_parser("list", help="list an organisation's teams and members")
    teams_list.add_argument("--org", required=True, help="organisation")
    teams_add = teams_sub.add_parser("add", help="add a team; prints its id")
    teams_add.add_argument("--org", required=True, help="organisation")
    teams_add.add_argument("--name", required=True)
    member = teams_sub.add_parser("member", help="add or remove a team's member")
    member.add_argument("member_command", choices=["add", "remove"])
    member.add_argument("--team", required=True, help="the team's id (`teams list`)")
    member.add_argument("--user", required=True, help="her user name")

    # Research exports (trajectory.research): `export`; `verify --export DIR` is above.
    from trajectory.research.cli import add_export_parser

    add_export_parser(sub)
    from trajectory.protocol_replay import add_protocol_parser

    add_protocol_parser(sub)
    from trajectory.bij.cli import add_municipalities_parser, add_report_parser

    add_report_parser(sub)
    add_municipalities_parser(sub)
    return parser


def _sign_in_options(parser: argparse.ArgumentParser) -> None:
    """Web sign-in needs both: a password and a TOTP second factor."""
    password = parser.add_mutually_exclusive_group()
    password.add_argument(
        "--password", action="store_true", help="set the web password (asked twice)"
    )
    password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the web password from the first line of standard input",
    )
    parser.add_argument(
        "--enrol-totp",
        action="store_true",
        help="enrol a TOTP second factor: prints the otpauth URI, a QR code and the secret",
    )


def _app(settings: Settings) -> TrajectoryApplication:
    """The application of a command (built by the composition root, which also registers
    the read models' erasure hooks, so `erase` removes their rows too)."""
    return build_application(settings)


def main(argv: Sequence[str] | None = None) -> int:
    from trajectory.logs import configure_logging

    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level)
    try:
        return _dispatch(args, settings)
    except SettingsError as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `trajectory show ID | head`
        sys.stderr.close()
        return EXIT_OK
    except Exception as e:  # the one place a command's failure becomes a message
        from trajectory.errors import describe_startup_error

        message = describe_startup_error(e)
        if message is None:
            raise
        print(f"trajectory: {message}", file=sys.stderr)
        return EXIT_FAILED


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        from trajectory.api.server import serve

        return serve(
            settings, host=args.host, port=args.port, demo=args.demo, workers=args.workers
        )
    if args.command == "statistics" and args.statistics_command == "combine":
        # The rapporteur's command: the documents alone, no store of her own.
        from trajectory.statistics.cli import combine_command

        return combine_command(args, sys.stdout)
    if args.command == "keys" and args.keys_command == "new":
        from trajectory.keys_cli import new_key_file

        return new_key_file(args.out, sys.stdout)
    if args.command == "protocol":
        from trajectory.protocol_replay import protocol_command

        return protocol_command(lambda: _app(settings), args)
    app = _app(settings)
    try:
        if args.command == "init":  # building the application made them
            print("tables ready")
            if args.runtime_role:
                return _grant_runtime_role(app, args.runtime_role)
            return EXIT_OK
        if args.command == "projections":
            return int(projections_command(app, args, sys.stdout))
        if args.command == "demo":
            from trajectory.demo import DEMO_STUDY, approve_demo_study, run_demo

            started = time.monotonic()
            count = run_demo(app, count=args.count, seed=args.seed)
            approve_demo_study(app)  # (the demo's export needs an approved project)
            print(f"wrote {count} demo trajectories in {time.monotonic() - started:.1f} s;"
                  f" research project {DEMO_STUDY} approved")
            return EXIT_OK
        if args.command == "show":
            from trajectory.show import show

            try:
                trajectory_id = UUID(args.id)
            except ValueError:
                print(f"trajectory: {args.id!r} is not a trajectory id (a UUID)", file=sys.stderr)
                return EXIT_USAGE
            user = None
            if args.as_user:
                from trajectory.listing import acting_user

                if (user := acting_user(app, args.as_user)) is None:
                    return EXIT_USAGE
            return int(show(app, trajectory_id, sys.stdout, user))
        if args.command == "list":
            from trajectory.listing import list_trajectories

            return list_trajectories(app, args.as_user, sys.stdout)
        if args.command == "verify":
            if args.export:
                from trajectory.research.cli import verify_export_command

                return verify_export_command(app, args.export, sys.stdout)
            return _verify(app)
        if args.command == "export":
            from trajectory.research.cli import export_command

            return export_command(app, args, sys.stdout)
        if args.command == "keys" and args.keys_command in ("card", "partner"):
            from trajectory.exchange.cli import keys_command

            return keys_command(app, args, sys.stdout)
        if args.command == "report":
            from trajectory.bij.cli import report_command

            return report_command(app, args, sys.stdout)
        if args.command == "municipalities":
            from trajectory.bij.cli import municipalities_command

            return municipalities_command(app, args, sys.stdout)
        if args.command == "handover":
            from trajectory.exchange.cli import handover_command

            return handover_command(app, args, sys.stdout)
        if args.command == "keys":
            from trajectory.keys_cli import rotate_keys

            return rotate_keys(app, args.new_key_file, sys.stdout)
        if args.command == "erase":
            from trajectory.keys_cli import erase_command

            return erase_command(app, args, sys.stdin, sys.stdout)
        if args.command == "retention":
            from trajectory.keys_cli import retention_command

            return retention_command(app, sys.stdout)
        if args.command == "statistics":
            from trajectory.statistics.cli import statistics_command

            return statistics_command(app, args, sys.stdout)
        if args.command == "users":
            from trajectory.identity.cli import users_command

            return users_command(app, args, sys.stdout)
        if args.command == "teams":
            from trajectory.identity.cli import teams_command

            return teams_command(app, args, sys.stdout)
    finally:
        app.close()
    return EXIT_USAGE


def _grant_runtime_role(app: Any, role: str) -> int:
    from trajectory.persistence.roles import RuntimeRoleError, grant_runtime_role

    try:
        statements = grant_runtime_role(app.db, role)
    except RuntimeRoleError as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return EXIT_USAGE
    for statement in statements:
        print(statement)
    print(f"runtime role {role} ready: run the servers and the runner as {role}")
    return EXIT_OK


def _verify(app: Any) -> int:
    from trajectory.logs import Progress
    from trajectory.verify import verify_store

    started = time.monotonic()
    report = verify_store(app, Progress("verify", 0))
    seconds = time.monotonic() - started
    for finding in report.findings:
        print(f"TAMPERED {finding}")
    for ledger_finding in report.ledger_findings:
        print(f"TAMPERED {ledger_finding}")
    for organisation_finding in report.organisation_findings:
        print(f"TAMPERED {organisation_finding}")
    for head in report.ledger_heads:  # keep these elsewhere to see a cut-off tail too
        print(f"chain {head.table}: {head.entries} entries, head seq {head.seq} {head.hash}")
    for erased in report.erased:
        print(f"ERASED trajectory {erased} (crypto-shredded; its events cannot be opened)")
    problems = (
        len(report.findings) + len(report.ledger_findings) + len(report.organisation_findings)
    )
    verdict = "ok" if report.ok else f"{problems} problem(s)"
    print(
        f"verified {report.trajectories - len(report.erased)} trajectories,"
        f" {report.events} events, {len(report.erased)} erased,"
        f" {report.organisations} organisation streams, in {seconds:.2f} s: {verdict}"
    )
    return EXIT_OK if report.ok else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
