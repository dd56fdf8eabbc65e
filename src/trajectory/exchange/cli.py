"""`trajectory handover export|import|accept` and `trajectory keys card|partner`: the
exchange between installations on the command line. Translation only: the rules are
`exchange.handover`'s and the aggregate's; a refusal is a sentence on stderr and a
non-zero exit, and nothing is written (no file, no fact).

Acts on a girl's file are done as a user of this installation (`--as NAME`, her login
name), as the access log and her history record them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TextIO
from uuid import UUID

from trajectory.aggregates.errors import RuleRefused, TrajectoryNotFound
from trajectory.application import Actor, TrajectoryApplication
from trajectory.crypto import TrajectoryErased
from trajectory.exchange.handover import (
    AcknowledgementTakenIn,
    Exchange,
    ExchangeRefused,
    installation_organisations,
)
from trajectory.exchange.keys import Card, CardRefused, Partners, our_card
from trajectory.identity.users import UserStore
from trajectory.statistics.signing import SigningUnavailable
from trajectory.write_errors import InputRefused
from trajectory.writing import Via

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
_VIA = Via(client="cli")


def add_handover_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    handover = sub.add_parser(
        "handover", help="send a girl's handover to another installation, take one in")
    actions = handover.add_subparsers(dest="handover_command", required=True,
                                      metavar="ACTION")
    export = actions.add_parser(
        "export", help="seal her handover bundle for a registered partner organisation")
    export.add_argument("id", help="trajectory id")
    export.add_argument("--to", required=True, metavar="ORG",
                        help="the receiving organisation (a registered partner)")
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    _as_user(export)
    take_in = actions.add_parser(
        "import", help="take in a bundle (her trajectory opens here) or an acknowledgement"
        " (the acceptance is recorded on her trajectory)")
    take_in.add_argument("file", metavar="FILE")
    _as_user(take_in)
    accept = actions.add_parser(
        "accept", help="write the signed acknowledgement that a girl taken in was accepted")
    accept.add_argument("id", help="her trajectory id here")
    accept.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    accept.add_argument("--accepted-by", default="",
                        help="the receiving worker's name, as the sender will read it"
                        " (default: the user's display name)")
    _as_user(accept)


def _as_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="as_user", required=True, metavar="NAME",
                        help="the coordinator who does it (her login name)")


def add_keys_parsers(keys_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    card = keys_sub.add_parser(
        "card", help="write this installation's card (public keys and organisations) for a"
        " partner installation")
    card.add_argument("--out", required=True, metavar="FILE")
    card.add_argument("--org", action="append", default=[], metavar="ORG",
                      help="an organisation the card names (repeatable; default: every"
                      " organisation of this installation's users)")
    partner = keys_sub.add_parser("partner", help="the installations this one exchanges with")
    partner_sub = partner.add_subparsers(dest="partner_command", required=True,
                                         metavar="ACTION")
    add = partner_sub.add_parser(
        "add", help="register a partner's card; compare the fingerprints printed by"
        " telephone before you send a bundle")
    add.add_argument("file", metavar="FILE")
    partner_sub.add_parser("list", help="the registered partner organisations")


def keys_command(app: TrajectoryApplication, args: argparse.Namespace, out: TextIO) -> int:
    now = app.clock()
    if args.keys_command == "card":
        organisations = args.org or installation_organisations(app.db)
        if not organisations:
            print("trajectory: this installation has no organisation yet (add a user, or"
                  " name one with --org)", file=sys.stderr)
            return EXIT_USAGE
        try:
            card = our_card(app.keys, app.db, organisations, now)
        except SigningUnavailable as e:
            print(f"trajectory: {e}", file=sys.stderr)
            return EXIT_REFUSED
        if not _write_new(args.out, card.to_bytes()):
            return EXIT_USAGE
        signing, encryption = card.fingerprints
        print(f"card written to {args.out} for {', '.join(organisations)}", file=out)
        print(f"  signing key    {signing}", file=out)
        print(f"  encryption key {encryption}", file=out)
        return EXIT_OK
    if args.partner_command == "add":
        try:
            card = Card.from_bytes(Path(args.file).read_bytes())
        except (OSError, CardRefused) as e:
            print(f"trajectory: {args.file}: {e}", file=sys.stderr)
            return EXIT_USAGE
        registered = Partners(app.db).register(card, by=f"cli:{getpass.getuser()}", now=now)
        signing, encryption = card.fingerprints
        print(f"registered {', '.join(registered)}", file=out)
        print(f"  signing key    {signing}", file=out)
        print(f"  encryption key {encryption}", file=out)
        print("Compare both fingerprints by telephone with the partner's administrator"
              " before you exchange a bundle.", file=out)
        return EXIT_OK
    partners = Partners(app.db).all()
    if not partners:
        print("no partner organisation is registered", file=out)
    for organisation, partner in partners.items():
        card = Card((organisation,), partner.signing_key, partner.encryption_key)
        signing, encryption = card.fingerprints
        print(f"{organisation}\n  signing key    {signing}\n  encryption key {encryption}",
              file=out)
    return EXIT_OK


def _write_new(path: str, data: bytes) -> bool:
    """Write a new file readable by its owner only; never over an existing one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"trajectory: {path} exists; choose a new file", file=sys.stderr)
        return False
    except OSError as e:
        print(f"trajectory: {path}: {e.strerror}", file=sys.stderr)
        return False
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return True


def _actor(app: TrajectoryApplication, name: str) -> Actor | None:
    user = UserStore(app.db).find(name)
    if user is None or user.revoked or user.role != "coordinator":
        print(f"trajectory: {name!r} is not an active coordinator of this installation",
              file=sys.stderr)
        return None
    return Actor(user_id=user.user_id, role=user.role, organisation=user.organisation)


def handover_command(app: TrajectoryApplication, args: argparse.Namespace,
                     out: TextIO) -> int:
    actor = _actor(app, args.as_user)
    if actor is None:
        return EXIT_USAGE
    exchange = Exchange(app)
    try:
        if args.handover_command == "import":
            try:
                data = Path(args.file).read_bytes()
            except OSError as e:
                print(f"trajectory: {args.file}: {e.strerror}", file=sys.stderr)
                return EXIT_USAGE
            taken = exchange.take_in(actor, data, via=_VIA)
            if isinstance(taken, AcknowledgementTakenIn):
                print(f"acknowledged by {taken.receiver} on {taken.accepted_on}: the handover"
                      f" of trajectory {taken.trajectory_id} was accepted", file=out)
            else:
                print(f"taken in from {taken.sender}: trajectory {taken.trajectory_id}"
                      f" (bundle {taken.bundle_hash})", file=out)
            return EXIT_OK
        try:
            trajectory_id = UUID(args.id)
        except ValueError:
            print(f"trajectory: {args.id!r} is not a trajectory id (a UUID)", file=sys.stderr)
            return EXIT_USAGE
        if args.handover_command == "export":
            if Path(args.out).exists():
                print(f"trajectory: {args.out} exists; choose a new file", file=sys.stderr)
                return EXIT_USAGE
            exported = exchange.export(actor, trajectory_id, args.to, via=_VIA)
            if not _write_new(args.out, exported.data):
                return EXIT_USAGE
            print(f"bundle for {args.to} written to {args.out} (hash {exported.bundle_hash});"
                  " recorded in her file", file=out)
            return EXIT_OK
        user = UserStore(app.db).by_id(actor.user_id)
        accepted_by = args.accepted_by or (user.shown_name if user else actor.user_id)
        if Path(args.out).exists():
            print(f"trajectory: {args.out} exists; choose a new file", file=sys.stderr)
            return EXIT_USAGE
        sealed = exchange.acknowledge(actor, trajectory_id, accepted_by)
        if not _write_new(args.out, sealed):
            return EXIT_USAGE
        print(f"acknowledgement written to {args.out}; send it to the sending organisation",
              file=out)
        return EXIT_OK
    except ExchangeRefused as e:
        print(f"trajectory: refused ({e.code}): {e.message}; nothing was recorded",
              file=sys.stderr)
        return EXIT_REFUSED
    except (RuleRefused, InputRefused) as e:
        code = getattr(e, "code", "refused")
        print(f"trajectory: refused ({code}): {e}; nothing was recorded", file=sys.stderr)
        return EXIT_REFUSED
    except (TrajectoryNotFound, TrajectoryErased):
        print("trajectory: no such trajectory that you may act on", file=sys.stderr)
        return EXIT_REFUSED
