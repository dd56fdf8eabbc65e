"""`trajectory list --as NAME`: the trajectories a user sees, for a terminal.

Who acts on the command line is a user of the directory (`--as NAME`), and she sees what
she would see through the API: a coordinator her organisation's girls she has a
relationship with (`trajectory.visibility`), an aftercare worker those handed over to her.
The list is access-logged as a search, one entry naming every girl shown, as the caseload
is; the client is `cli`. No names: a short id, the phase, the status, the intake date.

`trajectory show ID` logs its read too: as the `--as` user (who must be able to see her),
or, without one, as the operator at the server's terminal (`os:LOGIN`, role `operator`).
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass, replace
from typing import TextIO

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.application import Actor, TrajectoryApplication
from trajectory.identity.users import User, UserStore
from trajectory.visibility import related_filter

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
CLIENT = "cli"
SHORT_ID = 8


@dataclass(frozen=True)
class Operator:
    """Whoever runs a command at the server without naming a user: the operating-system
    account, as the access log's user."""

    user_id: str
    role: str = "operator"
    organisation: str = ""
    on_behalf_of: str | None = None

    @classmethod
    def here(cls) -> Operator:
        try:
            login = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (a container)
            login = "unknown"
        return cls(user_id=f"os:{login}")


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.user_id, role=user.role, organisation=user.organisation)


def acting_user(app: TrajectoryApplication, name: str) -> User | None:
    """The active user named `name`, or None (told on stderr)."""
    user = UserStore(app.db).find(name)
    if user is None or user.revoked:
        print(f"trajectory: no active user {name!r}", file=sys.stderr)
        return None
    return user


def list_trajectories(app: TrajectoryApplication, name: str, out: TextIO) -> int:
    """Print the trajectories user `name` sees, and log the list as her search."""
    user = acting_user(app, name)
    if user is None:
        return EXIT_USAGE
    if user.role not in ("coordinator", "aftercare"):
        print(f"trajectory: a user with the role {user.role} sees no trajectories",
              file=sys.stderr)
        return EXIT_USAGE
    condition, params = related_filter(user)
    if user.role == "aftercare":
        condition += " AND status <> 'closed'"
    rows = app.db.fetchall(
        "SELECT trajectory_id, phase, status, intake_date FROM trajectory_index"
        f" WHERE {condition} ORDER BY intake_date, trajectory_id",
        params,
    )
    entry = AccessEntry.by(actor_of(user), at=app.clock(), action="search", outcome="ok",
                           client=CLIENT)
    # Written before anything is shown: no list leaves unlogged.
    AccessLog(app.db).append(replace(entry, shown=tuple(str(r["trajectory_id"]) for r in rows)))
    print(f"{'id':<{SHORT_ID}}  {'phase':>5}  {'status':<9}  intake", file=out)
    for row in rows:
        print(f"{str(row['trajectory_id'])[:SHORT_ID]}  {row['phase']:>5}  {row['status']:<9}"
              f"  {row['intake_date']}", file=out)
    count = "1 trajectory" if len(rows) == 1 else f"{len(rows)} trajectories"
    print(f"{count} ({user.organisation}, as {user.name})", file=out)
    return EXIT_OK
