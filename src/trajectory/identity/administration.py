"""An administrator's acts on the users of her own organisation: list them, add one,
change a role, give a new second factor, revoke, end sessions; and on its teams: add one,
retire one, add and remove a member.

The rules live here, below every entry point (the admin's pages; the command line acts as
the installation's operator and is not bound by them): an administrator acts only on
users of her own organisation (another's are "not found", not "forbidden": she learns
nothing of them), never revokes herself nor changes her own role (she would lock the
organisation out), and adds no installation-wide roles. A refusal names the field and
carries an English sentence the page shows in the reader's language.

Adding a user and giving a new second factor use the same functions as
`trajectory users add` and `users sign-in --enrol-totp` (`UserStore.add`,
`Credentials.set_password`, `enrol_totp`): one implementation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from trajectory.identity.credentials import Credentials, Enrolment, enrol_totp
from trajectory.identity.teams import Team, TeamError, Teams
from trajectory.identity.users import ROLE_SCOPES, ROLES, User, UserError, UserStore


def N_(message: str) -> str:  # noqa: N802 - the catalogue's marker: extracted, not translated
    return message


ORGANISATION_ROLES = tuple(r for r in ROLES if r not in ("researcher", "inspector"))
"""Roles an organisation's administrator gives: a researcher belongs to a university and an
inspector to the inspectorate, both added by the installation's operator."""

NOT_FOUND = N_("There is no user of your organisation by that name.")


class AdminRefused(UserError):
    """An act the rules refuse: `field` is where the page shows `sentence`."""

    def __init__(self, field: str, sentence: str):
        super().__init__(sentence)
        self.field = field
        self.sentence = sentence


@dataclass(frozen=True)
class ListedUser:
    user: User
    has_second_factor: bool


@dataclass(frozen=True)
class NewUser:
    """What the administrator hands over once: the first password and the enrolment."""

    user: User
    password: str
    enrolment: Enrolment


def first_password() -> str:
    """A first password of 20 characters from an unambiguous alphabet, shown once."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


class Administration:
    """The acts of `admin` (an administrator) on her organisation's users."""

    def __init__(self, users: UserStore, credentials: Credentials, admin: User):
        if admin.role != "admin":
            raise AdminRefused("user", N_("Only an administrator manages users."))
        self.users = users
        self.credentials = credentials
        self.admin = admin

    def listed(self) -> list[ListedUser]:
        """Her organisation's users, revoked ones too (she sees that they are)."""
        return [ListedUser(u, self.credentials.has_totp(u.user_id))
                for u in self.users.all() if u.organisation == self.admin.organisation]

    def target(self, user_id: str) -> User:
        found = self.users.by_id(user_id[:100])
        if found is None or found.organisation != self.admin.organisation:
            raise AdminRefused("user", NOT_FOUND)
        return found

    def add(self, *, name: str, role: str, now: datetime, display_name: str = "") -> NewUser:
        """A new user of her organisation, with a first password and a TOTP enrolment
        (her bearer token for programs is not handed out here: `users rotate-token`)."""
        name = name.strip()
        if not name:
            raise AdminRefused("name", N_("Fill in a name."))
        if len(name) > 200:
            raise AdminRefused("name", N_("A name has at most 200 characters."))
        if role not in ORGANISATION_ROLES:
            raise AdminRefused("role", N_("Choose one of the roles in the list."))
        if self.users.find(name) is not None:
            raise AdminRefused("name", N_("A user by that name exists already."))
        if len(display_name) > 200:
            raise AdminRefused("display_name", N_("A name has at most 200 characters."))
        user, _token = self.users.add(name=name, role=role,
                                      organisation=self.admin.organisation, now=now,
                                      display_name=display_name)
        password = first_password()
        self.credentials.set_password(user.user_id, password)
        return NewUser(user, password, enrol_totp(self.credentials, user))

    def change_role(self, user_id: str, role: str) -> User:
        user = self.target(user_id)
        if user.user_id == self.admin.user_id:
            raise AdminRefused("role", N_("You cannot change your own role."))
        if role not in ORGANISATION_ROLES:
            raise AdminRefused("role", N_("Choose one of the roles in the list."))
        if user.revoked:
            raise AdminRefused("role", N_("This user is revoked."))
        with self.users.db.transaction() as tx:
            tx.execute("UPDATE users SET role = ?, token_scopes = ? WHERE user_id = ?",
                       [role, " ".join(ROLE_SCOPES[role]), user.user_id])
            tx.execute("DELETE FROM step_up_tokens WHERE user_id = ?", [user.user_id])
            # what she may see changed: she signs in again under her new role
            tx.execute("DELETE FROM web_sessions WHERE user_id = ?", [user.user_id])
        return replace(user, role=role)

    def new_second_factor(self, user_id: str) -> tuple[User, Enrolment]:
        """A new TOTP secret: the old authenticator stops working and every session of
        hers ends; she enrols the new one (shown once to the administrator)."""
        user = self.target(user_id)
        if user.revoked:
            raise AdminRefused("user", N_("This user is revoked."))
        return user, enrol_totp(self.credentials, user)

    def may_revoke(self, user_id: str) -> User:
        """The user to revoke, or the refusal (asked before the confirmation is)."""
        user = self.target(user_id)
        if user.user_id == self.admin.user_id:
            raise AdminRefused("user", N_("You cannot revoke yourself."))
        return user

    def revoke(self, user_id: str, now: datetime) -> User:
        """No more sign-in: her token, step-up tokens and sessions end at once."""
        user = self.may_revoke(user_id)
        revoked = self.users.revoke(user.name, now)
        self.end_sessions(user_id)
        return revoked

    def end_sessions(self, user_id: str) -> User:
        user = self.target(user_id)
        with self.users.db.transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE user_id = ?", [user.user_id])
        return user


# -- teams ---------------------------------------------------------------------------------

TEAM_NOT_FOUND = N_("There is no team of your organisation by that name.")
MEMBER_ROLES = ("coordinator", "aftercare")
"""Who may belong to a team: those who work with the girls (`trajectory.visibility`)."""


class TeamRefused(AdminRefused):
    """A team act the rules refuse. `code` is its stable name (the API's `rule`), `kind`
    how an adapter answers it: `invalid` (the value does not do: 422), `not-found` (no
    such team of hers, or no such membership: 404) or `refused` (it cannot be done now:
    409)."""

    def __init__(self, field: str, sentence: str, *, code: str, kind: str = "refused"):
        super().__init__(field, sentence)
        self.code = code
        self.kind = kind


@dataclass(frozen=True)
class ListedTeam:
    team: Team
    members: tuple[User, ...]
    """Its members now, by name."""


def listed_teams(teams: Teams, users: UserStore, organisation: str) -> list[ListedTeam]:
    """The organisation's active teams by name, each with its members by name: what an
    administrator manages and a coordinator chooses from (`GET /teams`)."""
    out = []
    for team in teams.of_organisation(organisation):
        members = [u for uid in teams.members(team.team_id)
                   if (u := users.by_id(uid)) is not None]
        out.append(ListedTeam(team, tuple(sorted(members, key=lambda u: u.shown_name.casefold()))))
    return out


def team_candidates(users: UserStore, organisation: str) -> list[User]:
    """Who may be made a member of the organisation's teams: its active coordinators and
    aftercare workers, by name."""
    return sorted((u for u in users.all() if u.organisation == organisation
                   and u.role in MEMBER_ROLES and not u.revoked),
                  key=lambda u: u.shown_name.casefold())


class TeamAdministration:
    """The acts of `admin` on her organisation's teams: add one, retire one, add and
    remove a member. Another organisation's team is "not found", as its users are; a
    member is an active coordinator or aftercare worker of her own organisation. The
    adapters (pages, API) log each act, refused ones too, under its own action."""

    def __init__(self, teams: Teams, users: UserStore, admin: User):
        if admin.role != "admin":
            raise AdminRefused("user", N_("Only an administrator manages teams."))
        self.teams = teams
        self.users = users
        self.admin = admin

    def listed(self) -> list[ListedTeam]:
        return listed_teams(self.teams, self.users, self.admin.organisation)

    def candidates(self) -> list[User]:
        return team_candidates(self.users, self.admin.organisation)

    def team(self, team_id: str) -> Team:
        """Her organisation's team (a retired one too), else the refusal."""
        found = self.teams.get(team_id[:100])
        if found is None or found.organisation != self.admin.organisation:
            raise TeamRefused("team", TEAM_NOT_FOUND, code="team-unknown", kind="not-found")
        return found

    def active(self, team_id: str) -> Team:
        team = self.team(team_id)
        if team.retired:
            raise TeamRefused("team", N_("This team is retired."), code="team-retired")
        return team

    def add(self, name: str, now: datetime) -> Team:
        name = " ".join(name.split())
        if not name:
            raise TeamRefused("name", N_("Fill in a name."), code="team-name",
                              kind="invalid")
        if len(name) > 100:
            raise TeamRefused("name", N_("A team's name has at most 100 characters."),
                              code="team-name", kind="invalid")
        if any(t.name.casefold() == name.casefold()
               for t in self.teams.of_organisation(self.admin.organisation)):
            raise TeamRefused("name", N_("Your organisation has a team by that name already."),
                              code="team-name-taken")
        try:
            return self.teams.create(self.admin.organisation, name, by=self.admin.user_id,
                                     now=now)
        except TeamError:  # a name taken at the same moment by another admin
            raise TeamRefused("name", N_("Your organisation has a team by that name already."),
                              code="team-name-taken") from None

    def retire(self, team_id: str, now: datetime) -> Team:
        """Nobody is placed with it any more; its girls stay visible to its members until
        they are placed with another team (`trajectory.visibility`)."""
        team = self.active(team_id)
        self.teams.retire(team.team_id, now=now)
        return replace(team, retired=True)

    def member(self, user_id: str) -> User:
        """A user she may make a member: an active coordinator or aftercare worker of her
        organisation."""
        user = self.users.by_id(user_id[:100])
        if user is None or user.organisation != self.admin.organisation:
            raise TeamRefused("user_id", NOT_FOUND, code="team-member-unknown",
                              kind="invalid")
        if user.revoked:
            raise TeamRefused("user_id", N_("This user is revoked."),
                              code="team-member-unknown", kind="invalid")
        if user.role not in MEMBER_ROLES:
            raise TeamRefused("user_id", N_("Only coordinators and aftercare workers belong"
                                            " to a team."),
                              code="team-member-role", kind="invalid")
        return user

    def add_member(self, team_id: str, user_id: str, now: datetime) -> tuple[Team, User]:
        team = self.active(team_id)
        user = self.member(user_id)
        if not self.teams.add_member(team.team_id, user.user_id, by=self.admin.user_id,
                                     now=now):
            raise TeamRefused("user_id", N_("This user belongs to this team already."),
                              code="team-member-already")
        return team, user

    def remove_member(self, team_id: str, user_id: str, now: datetime) -> tuple[Team, User]:
        """She no longer sees the team's girls (unless she is responsible for one). From a
        retired team too: its members still see the girls left in it."""
        team = self.team(team_id)
        user = self.users.by_id(user_id[:100])
        if user is None or user.user_id not in self.teams.members(team.team_id):
            raise TeamRefused("user_id", N_("This user is not a member of this team."),
                              code="team-member-unknown", kind="not-found")
        self.teams.remove_member(team.team_id, user.user_id, by=self.admin.user_id, now=now)
        return team, user
