"""The access log, in the spirit of NEN 7513: who did what to which trajectory, and how.

Append-only (the database refuses UPDATE and DELETE). An entry for a write is one of the
rows of the write's own transaction; an entry for a read is written before the answer
leaves. If the entry cannot be written, the act fails: no access goes unlogged.
A list that shows several girls (the caseload page) writes one entry naming them all
(`shown`), so each girl's own log shows it too.

Hash-chained as well (`persistence.ledger`): `trajectory verify` names an entry changed
behind the triggers' back.

Every act a coordinator does on a girl while she holds an emergency access to her file
(`trajectory.emergency`) names that access (`emergency_access`), whatever the entry
point: the mark is added here, where every entry passes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from trajectory.emergency import EmergencyAccesses
from trajectory.metrics import CommitObserver, Timed
from trajectory.persistence.database import Database, RowWrite

Action = Literal[
    "read", "write", "search", "export", "erase", "audit-read", "login",
    # an administrator's acts on her organisation's users (`identity.administration`)
    "user-list", "user-add", "user-role", "user-second-factor", "user-revoke", "user-sessions",
    # her agenda app read her feed of due dates (`web.calendar_feed`)
    "calendar-read",
    # emergency access (`trajectory.emergency`): opened, ended early, reviewed
    "emergency-open", "emergency-end", "emergency-review",
    # an administrator's acts on her organisation's teams (`identity.teams`), and the
    # organisation's settings of access (`trajectory.emergency.AccessSettings`)
    "team-add", "team-retire", "team-member-add", "team-member-remove", "access-settings",
    # the privacy officer made a girl's access report (`web.privacy_pages`)
    "access-report",
]
Outcome = Literal["ok", "denied", "refused", "rejected", "replayed", "failed", "proposed"]


class Acting(Protocol):
    """Who acts, as an entry names her (the application's `Actor` is one)."""

    @property
    def user_id(self) -> str: ...

    @property
    def on_behalf_of(self) -> str | None: ...

    @property
    def role(self) -> str: ...

    @property
    def organisation(self) -> str: ...


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    user_id: str | None
    on_behalf_of: str | None
    role: str | None
    organisation: str | None
    client: str | None
    action: str
    trajectory_id: str | None
    outcome: str
    request_id: str | None
    shown: tuple[str, ...] = ()
    """The trajectories a list showed (their ids), in the one entry of that list."""
    emergency_access: str | None = None
    """The emergency access the act was done under (its id), if any."""

    @classmethod
    def by(
        cls,
        actor: Acting,
        *,
        at: datetime,
        action: str,
        outcome: str,
        trajectory_id: str | None = None,
        client: str | None = None,
        request_id: str | None = None,
    ) -> AccessEntry:
        """The entry of an act by `actor` (NEN 7513: who, as whom, from where, on which
        file, with what outcome)."""
        return cls(
            at=at,
            user_id=actor.user_id,
            on_behalf_of=actor.on_behalf_of,
            role=actor.role,
            organisation=actor.organisation,
            client=client,
            action=action,
            trajectory_id=trajectory_id,
            outcome=outcome,
            request_id=request_id,
        )

    def row(self) -> RowWrite:
        return RowWrite(
            "access_log",
            {
                "at": self.at.isoformat(),
                "user_id": self.user_id,
                "on_behalf_of": self.on_behalf_of,
                "role": self.role,
                "organisation": self.organisation,
                "client": self.client,
                "action": self.action,
                "trajectory_id": self.trajectory_id,
                "outcome": self.outcome,
                "request_id": self.request_id,
                # NULL when nothing was listed: the hash of every earlier entry stays valid
                "shown": " ".join(self.shown) or None,
                # NULL for an act not done by emergency access (every earlier one)
                "emergency_access": self.emergency_access,
            },
        )

    def marked(self, db: Database) -> AccessEntry:
        """This entry, naming the emergency access its user holds to its trajectory at its
        moment, if she holds one (only a coordinator can)."""
        if self.emergency_access or self.role != "coordinator" or not self.trajectory_id:
            return self
        if self.user_id is None:
            return self
        access = EmergencyAccesses(db).in_force(self.user_id, self.trajectory_id, self.at)
        return self if access is None else replace(self, emergency_access=access.access_id)


@dataclass
class _Waiting:
    row: RowWrite
    done: bool = False
    error: BaseException | None = None


class AccessLog:
    """Appends entries, and reads them back.

    Entries of concurrent requests are committed together (a group commit): the chain
    orders appends one transaction at a time, and a commit per entry would leave each
    request waiting for every other's disk flush. The first request to arrive writes what
    is waiting by then in one transaction; those that came meanwhile wait for it and then
    write theirs. Each returns only once its own entry is committed (or raises).

    Given `commit` (the application's `commit_rows`, as the HTTP services do), entries go
    through it instead: the application's group commit, shared with the commands that
    arrive together, and told to the application's `commit_observers`, not to this log's.
    """

    def __init__(self, db: Database, commit: Callable[[list[RowWrite]], None] | None = None):
        self.db = db
        self._commit = commit
        self._turn = threading.Condition()
        self._waiting: list[_Waiting] = []
        self._writing = False
        # Told of every group commit of its own, with its batch size (`metrics`); entries
        # given to `commit` are told to the application's observers instead.
        self.commit_observers: list[CommitObserver] = []

    def append(self, entry: AccessEntry) -> None:
        """Write one entry, committed before this returns; raises if it cannot be written."""
        if self._commit is not None:
            self._commit([entry.marked(self.db).row()])
            return
        mine = _Waiting(entry.marked(self.db).row())
        with self._turn:
            self._waiting.append(mine)
            while self._writing and not mine.done:
                self._turn.wait()
            if not mine.done:
                self._writing = True
                batch, self._waiting = self._waiting, []
        if not mine.done:
            error: BaseException | None = None
            try:
                with Timed(self.commit_observers, "access_log", len(batch)):
                    self.db.write(*(w.row for w in batch))
            except BaseException as e:  # every entry of the batch failed with it
                error = e
            with self._turn:
                for waiting in batch:
                    waiting.done, waiting.error = True, error
                self._writing = False
                self._turn.notify_all()
        if mine.error is not None:
            raise mine.error

    def for_trajectory(self, trajectory_id: str) -> list[dict[str, Any]]:
        """Every entry about one trajectory, also those of a list that showed her, in the
        order they were written. (Finding her in `shown` reads the whole log: this is the
        admin's occasional question, not a request's path.)"""
        rows = self.db.fetchall(
            "SELECT entry_id, at, user_id, on_behalf_of, role, organisation, client, action,"
            " trajectory_id, outcome, request_id, shown,"
            " emergency_access FROM access_log"
            " WHERE trajectory_id = ? OR shown LIKE ? ORDER BY entry_id",
            [trajectory_id, f"%{trajectory_id}%"],
        )
        for row in rows:
            row["shown"] = str(row["shown"]).split() if row["shown"] else []
        return rows

    def last_read(self, trajectory_id: str, user_id: str, before: str) -> str | None:
        """When `user_id` last read this trajectory before `before` (an ISO moment in UTC,
        as the entries' own): the girl's page shows her what is new since. The index on
        trajectory and entry finds it from the newest entry back."""
        row = self.db.fetchone(
            "SELECT at FROM access_log WHERE trajectory_id = ? AND user_id = ?"
            " AND action = 'read' AND outcome = 'ok' AND at < ?"
            " ORDER BY entry_id DESC LIMIT 1",
            [trajectory_id, user_id, before],
        )
        return str(row["at"]) if row else None

    def search(
        self,
        organisation: str,
        *,
        trajectory_ids: list[str] | None = None,
        user_id: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """An organisation's entries, newest first: those of its own people, and those of
        anyone about its girls. `trajectory_ids`: only about these (also a list that
        showed one); `since`/`until`: ISO moments, `until` excluded."""
        where = ["(organisation = ? OR trajectory_id IN"
                 " (SELECT trajectory_id FROM trajectory_index WHERE organisation = ?))"]
        params: list[object] = [organisation, organisation]
        if trajectory_ids is not None:
            if not trajectory_ids:
                return []
            about = []
            for tid in trajectory_ids:
                about.append("trajectory_id = ? OR shown LIKE ?")
                params += [tid, f"%{tid}%"]
            where.append("(" + " OR ".join(about) + ")")
        for column, value, op in (("user_id", user_id, "="), ("action", action, "="),
                                  ("outcome", outcome, "="), ("at", since, ">="),
                                  ("at", until, "<")):
            if value:
                where.append(f"{column} {op} ?")
                params.append(value)
        rows = self.db.fetchall(
            "SELECT entry_id, at, user_id, on_behalf_of, role, organisation, client, action,"
            " trajectory_id, outcome, request_id, shown,"
            " emergency_access FROM access_log WHERE "
            + " AND ".join(where) + " ORDER BY entry_id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        for row in rows:
            row["shown"] = str(row["shown"]).split() if row["shown"] else []
        return rows

    def count(self) -> int:
        row = self.db.fetchone("SELECT COUNT(*) AS n FROM access_log")
        return int(row["n"]) if row else 0
