"""`trajectory users add|sign-in|list|rotate-token|revoke`: the user store and web sign-in
from the command line; `trajectory teams list|add|member add|remove`: an organisation's
teams.

Apart from the store (`identity.users`), so that the store imports no application: the
API and the pages use the store, this module uses the application. The parser of these
commands stays in `trajectory.cli`, which names every command without loading any.
What must not change: the token is the last line `add` and `rotate-token` print (scripts
read it), the state is the last column of `list`, and a password is never read from an
argument (it would stay in the shell's history).
"""

from __future__ import annotations

import argparse
import getpass
import io
import sys
from typing import TextIO

import segno

from trajectory.application import TrajectoryApplication
from trajectory.identity.credentials import (
    Credentials,
    check_password_policy,
    enrol_totp,
)
from trajectory.identity.users import User, UserError, UserStore


def users_command(app: TrajectoryApplication, args: argparse.Namespace, out: TextIO) -> int:
    """`trajectory users add|list|rotate-token|revoke`; a token is printed once, as the last
    line."""
    store = UserStore(app.db, token_days=app.settings.token_days)
    try:
        if args.users_command == "add":
            password = read_password(args)
            if password is not None:
                check_password_policy(password)
            user, token = store.add(
                name=args.name, role=args.role, organisation=args.org, now=app.clock(),
                display_name=args.display_name,
            )
            out.write(f"added {user.name} ({user.role}, {user.organisation}) id {user.user_id}\n")
            set_sign_in(app, user, args, out, password)
            expires = app.clock() + store.token_lifetime
            out.write(f"token expires {expires.isoformat(timespec='minutes')}"
                      " (`trajectory users rotate-token NAME` for a new one)\n")
            out.write("token (shown once, store it safely):\n")
            out.write(f"{token}\n")
            return 0
        if args.users_command == "sign-in":
            found = store.find(args.name)
            if found is None:
                raise UserError(f"no user named {args.name!r}")
            if not (args.password or args.password_stdin or args.enrol_totp):
                raise UserError("give --password, --password-stdin and/or --enrol-totp")
            set_sign_in(app, found, args, out, read_password(args))
            return 0
        if args.users_command == "list":
            now = app.clock()
            for info in store.tokens():
                user = info.user
                state = "revoked" if user.revoked else "active"
                lifetime = "expired" if now >= info.expires_at else "expires"
                expiry = f"token {lifetime} {info.expires_at.isoformat(timespec='minutes')}"
                out.write(
                    f"{user.name}\t{user.role}\t{user.organisation}\t{user.user_id}"
                    f"\t{expiry}\tscopes {','.join(info.scopes)}\t{state}\n"
                )
            return 0
        if args.users_command == "rotate-token":
            info, token = store.rotate(args.name, app.clock())
            out.write(
                f"new token for {info.user.name}; the old one no longer works; expires"
                f" {info.expires_at.isoformat(timespec='minutes')}\n"
            )
            out.write("token (shown once, store it safely):\n")
            out.write(f"{token}\n")
            return 0
        if args.users_command == "revoke":
            user = store.revoke(args.name, app.clock())
            out.write(f"revoked {user.name}\n")
            return 0
    except UserError as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return 2
    return 2


def read_password(args: argparse.Namespace) -> str | None:
    """The password from standard input (`--password-stdin`, first line) or a prompt
    (`--password`, asked twice); None when neither was asked for."""
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    if getattr(args, "password", False):
        first = getpass.getpass("password: ")
        if getpass.getpass("password again: ") != first:
            raise UserError("the passwords differ")
        return first
    return None


def set_sign_in(
    app: TrajectoryApplication,
    user: User,
    args: argparse.Namespace,
    out: TextIO,
    password: str | None,
) -> None:
    """Set the password and/or enrol TOTP as the options ask; print the enrolment (the
    otpauth URI, a terminal QR code and the secret) for the user's authenticator app."""
    credentials = Credentials(app.db, app.keys)
    if password is not None:
        credentials.set_password(user.user_id, password)
        out.write("password set\n")
    if getattr(args, "enrol_totp", False):
        enrolment = enrol_totp(credentials, user)
        uri, secret = enrolment.uri, enrolment.secret
        qr = io.StringIO()
        segno.make(uri, error="m").terminal(out=qr, compact=True)
        out.write("TOTP enrolled: scan this code with an authenticator app (shown once)\n")
        out.write(qr.getvalue())
        out.write(f"{uri}\nsecret: {secret}\n")


OPERATOR = "operator"
"""Who a team change made on the command line is recorded as made by (the installation's
operator, not a user of the organisation)."""


def teams_command(app: TrajectoryApplication, args: argparse.Namespace, out: TextIO) -> int:
    """`trajectory teams list|add|member add|remove`: the organisation's administrator's
    acts on its teams, done by the installation's operator (the same rules: a member is an
    active coordinator or aftercare worker of the team's organisation)."""
    from trajectory.identity.administration import TeamAdministration, TeamRefused
    from trajectory.identity.teams import Teams

    teams = Teams(app.db)
    users = UserStore(app.db)

    def acting_for(organisation: str) -> TeamAdministration:
        operator = User(user_id=OPERATOR, name=OPERATOR, role="admin",
                        organisation=organisation)
        return TeamAdministration(teams, users, operator)

    try:
        if args.teams_command == "list":
            for listed in acting_for(args.org).listed():
                names = ", ".join(f"{u.name} ({u.role})" for u in listed.members) or "-"
                out.write(f"{listed.team.team_id}\t{listed.team.name}\t{names}\n")
            return 0
        if args.teams_command == "add":
            team = acting_for(args.org).add(args.name, app.clock())
            out.write(f"added team {team.name} ({team.organisation}) id {team.team_id}\n")
            return 0
        if args.teams_command == "member":
            found = teams.get(args.team)
            user = users.find(args.user)
            if found is None:
                raise UserError(f"no team with the id {args.team!r}")
            if user is None:
                raise UserError(f"no user named {args.user!r}")
            administration = acting_for(found.organisation)
            if args.member_command == "add":
                administration.add_member(found.team_id, user.user_id, app.clock())
                out.write(f"{user.name} belongs to {found.name} now\n")
            else:
                administration.remove_member(found.team_id, user.user_id, app.clock())
                out.write(f"{user.name} no longer belongs to {found.name}\n")
            return 0
    except TeamRefused as e:
        field = "--user" if e.field == "user_id" else f"--{e.field}"
        print(f"trajectory: {field}: {e.sentence[:1].lower()}{e.sentence[1:]}", file=sys.stderr)
        return 2
    except UserError as e:
        print(f"trajectory: {e}", file=sys.stderr)
        return 2
    return 2
