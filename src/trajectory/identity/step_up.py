"""Step-up: a short-lived token for the irreversible acts, for a person who has just proved
herself again with her password and a new TOTP code.

The web pages ask for both before an export or an erasure (and keep that fresh for five
minutes); the API asks the same through this rule, so that a leaked long-lived token is
not enough to erase a girl's file or take her data out. The step-up token carries only
the sensitive scopes of her role (`users.STEP_UP_SCOPES`) and lives STEP_UP_MINUTES.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trajectory.identity.credentials import Credentials
from trajectory.identity.users import STEP_UP_SCOPES, Bearer, User, UserStore


class StepUpRefused(Exception):
    """The password or the code is wrong (or used already): a failed authentication."""


class StepUpUnavailable(Exception):
    """She cannot step up at all: no sensitive acts in her role, or no password and TOTP."""


@dataclass(frozen=True)
class StepUp:
    token: str
    bearer: Bearer


def step_up(
    users: UserStore,
    credentials: Credentials,
    user: User,
    *,
    password: str,
    code: str,
    now: datetime,
) -> StepUp:
    """Check `user`'s password, then her TOTP code (accepted once), and issue the token.
    The password is checked first, so that a wrong one does not use up her code."""
    if not STEP_UP_SCOPES.get(user.role):
        raise StepUpUnavailable(f"the role {user.role} has no acts that need a step-up")
    found = credentials.check_password(user.name, password)
    if found is None or found.user.user_id != user.user_id:
        if not _has_password(credentials, user.user_id):
            raise StepUpUnavailable(_NOT_ENROLLED)
        raise StepUpRefused("the password or the code is wrong")
    if not found.has_totp:
        raise StepUpUnavailable(_NOT_ENROLLED)
    if not credentials.verify_totp(user.user_id, code, now):
        raise StepUpRefused("the password or the code is wrong (a code is good once)")
    token, bearer = users.issue_step_up(user, now)
    return StepUp(token, bearer)


def _has_password(credentials: Credentials, user_id: str) -> bool:
    row = credentials.db.fetchone("SELECT password_hash FROM users WHERE user_id = ?", [user_id])
    return bool(row and row["password_hash"])


_NOT_ENROLLED = (
    "stepping up needs a password and a TOTP second factor; an administrator sets them"
    " with `trajectory users sign-in NAME --password --enrol-totp`"
)
