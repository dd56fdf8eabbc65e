"""The limits on guessing a password or a code, wherever one is asked for: at sign-in,
at the re-authentication before an export or an erasure, and at linking a new
authenticator app.

Each failure counts twice: towards the client's address (one guesser trying many
accounts) and towards the account (many addresses trying one account: a botnet, or
everybody behind one proxy). Either limit reached refuses the next attempt before the
password is even checked, also the right one, so a guess after the limit tells nothing.
The account is the name that was typed, known or not, so that an unknown name is
limited like a known one and the answers do not tell them apart.

Every failure is access-logged as a refused `login`, against the account it tried when
that account exists: a run of guesses at one account is seen in that account's log.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from trajectory.access_log import AccessEntry
from trajectory.api.context import client_of, request_id
from trajectory.identity.users import User
from trajectory.web.core import web
from trajectory.web.i18n import N_

TOO_MANY = N_("Too many failed attempts. Wait a minute and try again.")


def _keys(request: Request[Any, Any, Any], account: str) -> tuple[str, str]:
    return "web:" + (client_of(request) or "unknown"), "web-account:" + account[:200]


def guessing_blocked(request: Request[Any, Any, Any], account: str) -> bool:
    """Whether this client, or anyone trying this account, must wait."""
    throttle = web(request).services.throttle
    return any(throttle.blocked_for(key) > 0 for key in _keys(request, account))


def guess_failed(request: Request[Any, Any, Any], account: str) -> None:
    """Count a wrong password or code, and log it against the account it tried."""
    throttle = web(request).services.throttle
    for key in _keys(request, account):
        throttle.failed(key)
    log_login(request, web(request).services.users.find(account[:200]), "denied")


def log_login(request: Request[Any, Any, Any], user: User | None, outcome: str) -> None:
    """One `login` entry in the access log: a sign-in, a re-authentication or a new
    second factor, by (or against) `user`."""
    w = web(request)
    w.services.access.append(
        AccessEntry(
            at=w.services.application.clock(),
            user_id=user.user_id if user else None,
            on_behalf_of=None,
            role=user.role if user else None,
            organisation=user.organisation if user else None,
            client=client_of(request),
            action="login",
            trajectory_id=None,
            outcome=outcome,
            request_id=request_id(request),
        )
    )
