"""Teams: an organisation's groups of professionals (a group home, an ambulatory team, a
night service), and who belongs to which.

A girl belongs to a team (`TeamAssigned` in her stream); the coordinators of that team see
her file and record on it (`trajectory.visibility`). A membership is a row with the moment
it began and, once it ended, the moment it ended: nothing is overwritten, so who could see
whom on any day can be answered afterwards. A team is retired rather than deleted, for the
same reason: her history still names it.

Only an organisation's admin changes teams (`identity.administration`); this module holds
no policy about who may, only what a team and a membership are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trajectory.persistence.database import Database


class TeamError(ValueError):
    """A change to teams that cannot be made (an unknown team, a name in use, ...)."""


@dataclass(frozen=True)
class Team:
    team_id: str
    organisation: str
    name: str
    retired: bool = False


@dataclass(frozen=True)
class Membership:
    team_id: str
    user_id: str
    added_at: str
    removed_at: str | None


def _team(row: dict[str, Any]) -> Team:
    return Team(str(row["team_id"]), str(row["organisation"]), str(row["name"]),
                retired=row["retired_at"] is not None)


class Teams:
    """The teams of every organisation of the installation, and their members."""

    def __init__(self, db: Database):
        self.db = db

    # -- reading -------------------------------------------------------------------------
    def of_organisation(self, organisation: str, *, retired: bool = False) -> list[Team]:
        """Her organisation's teams by name (the retired ones too, with `retired`)."""
        rows = self.db.fetchall(
            "SELECT team_id, organisation, name, retired_at FROM teams"
            " WHERE organisation = ? ORDER BY name, team_id",
            [organisation],
        )
        return [t for t in map(_team, rows) if retired or not t.retired]

    def get(self, team_id: str) -> Team | None:
        row = self.db.fetchone(
            "SELECT team_id, organisation, name, retired_at FROM teams WHERE team_id = ?",
            [team_id],
        )
        return _team(row) if row else None

    def names(self, organisation: str) -> dict[str, str]:
        """team id -> name, retired teams included (her history may name one)."""
        return {t.team_id: t.name for t in self.of_organisation(organisation, retired=True)}

    def teams_of(self, user_id: str) -> list[str]:
        """The teams she belongs to now (their ids)."""
        rows = self.db.fetchall(
            "SELECT m.team_id FROM team_members m JOIN teams t ON t.team_id = m.team_id"
            " WHERE m.user_id = ? AND m.removed_at IS NULL AND t.retired_at IS NULL"
            " ORDER BY m.team_id",
            [user_id],
        )
        return [str(r["team_id"]) for r in rows]

    def members(self, team_id: str) -> list[str]:
        """Who belongs to the team now (user ids)."""
        rows = self.db.fetchall(
            "SELECT user_id FROM team_members WHERE team_id = ? AND removed_at IS NULL"
            " ORDER BY added_at",
            [team_id],
        )
        return [str(r["user_id"]) for r in rows]

    def memberships(self, organisation: str) -> list[Membership]:
        """Every membership of the organisation's teams, ended ones too, oldest first."""
        rows = self.db.fetchall(
            "SELECT m.team_id, m.user_id, m.added_at, m.removed_at FROM team_members m"
            " JOIN teams t ON t.team_id = m.team_id WHERE t.organisation = ?"
            " ORDER BY m.added_at, m.user_id",
            [organisation],
        )
        return [Membership(str(r["team_id"]), str(r["user_id"]), str(r["added_at"]),
                           None if r["removed_at"] is None else str(r["removed_at"]))
                for r in rows]

    def has_teams(self, organisation: str) -> bool:
        return bool(self.of_organisation(organisation))

    # -- changing ------------------------------------------------------------------------
    def create(self, organisation: str, name: str, *, by: str, now: datetime,
               team_id: str | None = None) -> Team:
        name = " ".join(name.split())
        if not name or len(name) > 100:
            raise TeamError("a team needs a name of at most 100 characters")
        if any(t.name.casefold() == name.casefold() for t in self.of_organisation(organisation)):
            raise TeamError(f"the organisation already has a team named {name!r}")
        team = Team(team_id or uuid.uuid4().hex[:12], organisation, name)
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO teams (team_id, organisation, name, created_at, created_by)"
                " VALUES (?, ?, ?, ?, ?)",
                [team.team_id, organisation, name, now.isoformat(), by],
            )
        return team

    def retire(self, team_id: str, *, now: datetime) -> None:
        """The team no longer exists: nobody sees a girl through it any more."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE teams SET retired_at = ? WHERE team_id = ? AND retired_at IS NULL",
                       [now.isoformat(), team_id])

    def add_member(self, team_id: str, user_id: str, *, by: str, now: datetime) -> bool:
        """She belongs to the team from now on; False if she already did."""
        if user_id in self.members(team_id):
            return False
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO team_members (team_id, user_id, added_at, added_by)"
                " VALUES (?, ?, ?, ?)",
                [team_id, user_id, now.isoformat(), by],
            )
        return True

    def remove_member(self, team_id: str, user_id: str, *, by: str, now: datetime) -> bool:
        """She no longer belongs to the team (her membership keeps its row); False if she
        did not."""
        if user_id not in self.members(team_id):
            return False
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE team_members SET removed_at = ?, removed_by = ?"
                " WHERE team_id = ? AND user_id = ? AND removed_at IS NULL",
                [now.isoformat(), by, team_id, user_id],
            )
        return True
