"""Approved research projects: the one rule every export asks (`check_export`).

A research project is a record: its name, purpose, ethics reference (METC or an
equivalent committee), the data it needs (files and variables, `projects.Declaration`,
and the intake period), the organisations in scope, the day it expires, who proposed it.
Each organisation in scope decides on its own participation: its privacy officer
approves. The installation has no privacy-officer role; the `admin` of an organisation
is its privacy officer here (the one who already answers for erasures and the access log).
An admin of one of the project's organisations binds researcher accounts to it.

An export is refused unless the project is known, every organisation in scope approved
it (its latest decision), it has not expired, and the researcher is bound to it; it then
holds only the organisations in scope and the declared period, files and variables
(`Approval.scope`), and its manifest names the approvals. The API, the web pages and the
command line all call `check_export` (through `research.approved_export`); none decides on its own.
`export_project` itself (the engine) is not the gate.

The operator of the command line (`cli:<login>`) runs on the server with the database
and the master key; she is bound to no project, so the binding rule is not asked of her,
every other rule is.

Records are append-only (triggers refuse UPDATE and DELETE on both stores): a proposal is
one row, each decision and each binding a row of its own; the latest decision of an
organisation is the one in force. Every step, refused ones too, is in the access log.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from trajectory.access_log import AccessEntry, AccessLog, Acting
from trajectory.aggregates.errors import RuleRefused
from trajectory.persistence.database import Database, Row, RowWrite
from trajectory.research.projects import (
    PROJECT_NAME,
    Declaration,
    DeclarationError,
)

APPROVER_ROLE = "admin"
"""Who approves an organisation's participation: its admin (there is no privacy-officer
role; the admin is it)."""
DECISIONS = ("approved", "declined")
OPERATOR_PREFIX = "cli:"
"""The command line's operator (`research.cli`): not bound to projects (see above)."""


class ProjectRefused(RuleRefused):
    """A project step or an export the rules refuse; `code` is stable, `status` the HTTP
    status it maps to (404 unknown, 403 not yours, 409 not now)."""

    status = 409

    def __init__(self, message: str, *, code: str, status: int = 409):
        super().__init__(message, code=code)
        self.status = status


class ProjectInvalid(ValueError):
    """A proposal that cannot be: `field` names the part."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Decision:
    """An organisation's decision on its participation: who, which organisation, when."""

    organisation: str
    decision: str
    decided_by: str
    decided_at: datetime


@dataclass(frozen=True)
class Member:
    researcher: str
    bound_by: str
    bound_at: datetime


@dataclass(frozen=True)
class Project:
    name: str
    purpose: str
    ethics_reference: str
    declaration: Declaration
    period_from: date
    period_to: date
    organisations: tuple[str, ...]
    expires_on: date
    proposed_by: str
    proposed_at: datetime
    decisions: tuple[Decision, ...] = ()
    """Every decision, in the order taken."""
    members: tuple[Member, ...] = ()

    @property
    def in_force(self) -> dict[str, Decision]:
        """Each organisation's latest decision."""
        latest: dict[str, Decision] = {}
        for d in self.decisions:
            latest[d.organisation] = d
        return latest

    @property
    def approvals(self) -> tuple[Decision, ...]:
        """The approvals in force, in the order of the organisations in scope."""
        latest = self.in_force
        return tuple(latest[o] for o in self.organisations
                     if o in latest and latest[o].decision == "approved")

    @property
    def approved(self) -> bool:
        return len(self.approvals) == len(self.organisations)

    def expired(self, today: date) -> bool:
        return today > self.expires_on

    def bound(self, researcher: str) -> bool:
        return any(m.researcher == researcher for m in self.members)


@dataclass(frozen=True)
class Approval:
    """An approved project's warrant for one export: what it may hold."""

    project: Project

    @property
    def organisations(self) -> tuple[str, ...]:
        return self.project.organisations


# -- reading ---------------------------------------------------------------------------


def _project(row: Row, decisions: Sequence[Row], members: Sequence[Row]) -> Project:
    return Project(
        name=str(row["name"]),
        purpose=str(row["purpose"]),
        ethics_reference=str(row["ethics_reference"]),
        declaration=Declaration.from_row(row["files"], row["variables"]),
        period_from=date.fromisoformat(str(row["period_from"])),
        period_to=date.fromisoformat(str(row["period_to"])),
        organisations=tuple(json.loads(str(row["organisations"]))),
        expires_on=date.fromisoformat(str(row["expires_on"])),
        proposed_by=str(row["proposed_by"]),
        proposed_at=datetime.fromisoformat(str(row["proposed_at"])),
        decisions=tuple(
            Decision(str(d["organisation"]), str(d["decision"]), str(d["decided_by"]),
                     datetime.fromisoformat(str(d["decided_at"]))) for d in decisions),
        members=tuple(
            Member(str(m["researcher"]), str(m["bound_by"]),
                   datetime.fromisoformat(str(m["bound_at"]))) for m in members),
    )


def find_project(db: Database, name: str) -> Project | None:
    row = db.fetchone("SELECT * FROM research_project_proposals WHERE name = ?", [name])
    if row is None:
        return None
    decisions = db.fetchall(
        "SELECT * FROM research_project_decisions WHERE project = ? ORDER BY seq", [name])
    members = db.fetchall(
        "SELECT * FROM research_project_members WHERE project = ? ORDER BY seq", [name])
    return _project(row, decisions, members)


def all_projects(db: Database) -> list[Project]:
    """Every project, by name (a project record holds no care data)."""
    names = [str(r["name"]) for r in db.fetchall(
        "SELECT name FROM research_project_proposals ORDER BY name")]
    return [p for p in (find_project(db, n) for n in names) if p is not None]


def _known(db: Database, name: str) -> Project:
    project = find_project(db, name) if PROJECT_NAME.match(name) else None
    if project is None:
        raise ProjectRefused(f"there is no research project {name!r}", code="project-unknown",
                             status=404)
    return project


# -- the steps ---------------------------------------------------------------------------


def _entry(by: Acting, at: datetime, action: str, outcome: str, what: str,
           client: str | None) -> AccessEntry:
    return AccessEntry.by(by, at=at, action=action, outcome=outcome, client=client,
                          request_id=f"research-project:{what}")


def _refused(db: Database, by: Acting, at: datetime, action: str, what: str,
             client: str | None, e: ProjectRefused) -> None:
    outcome = "denied" if e.status in (403, 404) else "refused"
    AccessLog(db).append(_entry(by, at, action, outcome, f"{what}:{e.code}", client))


def propose(
    db: Database, by: Acting, *, name: str, purpose: str, ethics_reference: str,
    files: Iterable[str] | None, variables: Iterable[str] | None, period_from: date,
    period_to: date, organisations: Iterable[str], expires_on: date, now: datetime,
    today: date, client: str | None = None,
) -> Project:
    """A researcher proposes a project; it is used only once every organisation in scope
    approved it. The proposal and its access-log entry are one transaction."""
    try:
        if not PROJECT_NAME.match(name):
            raise ProjectInvalid("name", "use 1 to 64 letters, digits, '.', '-' or '_',"
                                 " starting with a letter or digit")
        for field, text in (("purpose", purpose), ("ethics_reference", ethics_reference)):
            if not text.strip():
                raise ProjectInvalid(field, "say it (it is part of the record)")
        scope = sorted({o.strip() for o in organisations if o.strip()})
        if not scope:
            raise ProjectInvalid("organisations", "name at least one organisation")
        if period_to < period_from:
            raise ProjectInvalid("period_to", "the period ends before it begins")
        if expires_on < today:
            raise ProjectInvalid("expires_on", "the project would have expired already")
        try:
            declaration = Declaration.of(files, variables)
        except DeclarationError as e:
            raise ProjectInvalid(e.field, str(e).split(": ", 1)[-1]) from None
        if find_project(db, name) is not None:
            raise ProjectRefused(f"there is a research project {name!r} already",
                                 code="project-exists")
    except ProjectRefused as e:
        _refused(db, by, now, "write", name, client, e)
        raise
    except ProjectInvalid:
        AccessLog(db).append(_entry(by, now, "write", "rejected", name, client))
        raise
    files_json, variables_json = declaration.to_json()
    row = {
        "name": name, "purpose": purpose.strip(), "ethics_reference": ethics_reference.strip(),
        "files": files_json, "variables": variables_json,
        "period_from": period_from.isoformat(), "period_to": period_to.isoformat(),
        "organisations": json.dumps(scope), "expires_on": expires_on.isoformat(),
        "proposed_by": by.user_id, "proposed_at": now.isoformat(),
    }
    db.write(RowWrite("research_project_proposals", row),
             _entry(by, now, "write", "proposed", name, client).row())
    project = find_project(db, name)
    assert project is not None
    return project


def decide(
    db: Database, by: Acting, name: str, *, decision: str = "approved", now: datetime,
    client: str | None = None,
) -> Project:
    """The admin (privacy officer) of an organisation in scope decides on its
    participation. A later decision of the same organisation replaces it in force (both
    stay on record)."""
    if decision not in DECISIONS:
        raise ProjectInvalid("decision", f"one of {', '.join(DECISIONS)}")
    try:
        project = _known(db, name)
        _check_admin_in_scope(project, by, "only an organisation's admin (its privacy"
                              " officer) decides on its participation")
    except ProjectRefused as e:
        _refused(db, by, now, "write", name, client, e)
        raise
    db.write(
        RowWrite("research_project_decisions", {
            "decision_id": secrets.token_hex(8), "project": name,
            "organisation": by.organisation, "decision": decision,
            "decided_by": by.user_id, "decided_at": now.isoformat(),
        }),
        _entry(by, now, "write", "ok", f"{name}:{decision}:{by.organisation}", client).row(),
    )
    found = find_project(db, name)
    assert found is not None
    return found


def _check_admin_in_scope(project: Project, by: Acting, not_an_admin: str) -> None:
    """An act on a project only an admin of one of its organisations may do."""
    if by.role != APPROVER_ROLE:
        raise ProjectRefused(not_an_admin, code="not-an-approver", status=403)
    if by.organisation not in project.organisations:
        raise ProjectRefused(
            f"{by.organisation!r} is not an organisation in the project's scope",
            code="organisation-out-of-scope", status=403)


def bind(
    db: Database, by: Acting, name: str, *, researcher_id: str, researcher_role: str,
    now: datetime, client: str | None = None,
) -> Project:
    """An admin of one of the project's organisations binds a researcher's account."""
    try:
        project = _known(db, name)
        _check_admin_in_scope(project, by, "only an admin of one of the project's"
                              " organisations binds researchers to it")
        if researcher_role != "researcher":
            raise ProjectInvalid("researcher", "no researcher's account by this name (only"
                                 " a researcher's account can be bound)")
    except ProjectRefused as e:
        _refused(db, by, now, "write", name, client, e)
        raise
    except ProjectInvalid:
        AccessLog(db).append(_entry(by, now, "write", "rejected", name, client))
        raise
    if not project.bound(researcher_id):
        db.write(
            RowWrite("research_project_members", {
                "member_id": secrets.token_hex(8), "project": name,
                "researcher": researcher_id, "bound_by": by.user_id,
                "bound_at": now.isoformat(),
            }),
            _entry(by, now, "write", "ok", f"{name}:bound:{researcher_id}", client).row(),
        )
    else:  # already bound: nothing new, but the act is on record
        AccessLog(db).append(_entry(by, now, "write", "replayed", f"{name}:bound", client))
    found = find_project(db, name)
    assert found is not None
    return found


def check_export(
    db: Database, actor: Acting, project: str, today: date, *,
    organisations: Sequence[str] | None = None, now: datetime | None = None,
    client: str | None = None,
) -> Approval:
    """The rule every export asks: an approved, unexpired project the researcher is bound
    to; `organisations` (asked for, optional) must lie in its scope. A refusal is
    access-logged (action export) and raised as `ProjectRefused` with a stable code."""
    try:
        found = _known(db, project)
        if not actor.user_id.startswith(OPERATOR_PREFIX) and not found.bound(actor.user_id):
            raise ProjectRefused(f"your account is not bound to project {project!r}: an admin"
                                 " of one of its organisations binds researchers",
                                 code="researcher-not-bound", status=403)
        outside = sorted(set(organisations or ()) - set(found.organisations))
        if outside:
            raise ProjectRefused(
                f"not in the project's scope: {', '.join(outside)}",
                code="organisation-out-of-scope", status=403)
        if not found.approved:
            waiting = [o for o in found.organisations
                       if o not in {a.organisation for a in found.approvals}]
            raise ProjectRefused(
                f"project {project!r} is not approved by {', '.join(waiting)}",
                code="project-not-approved")
        if found.expired(today):
            raise ProjectRefused(f"project {project!r} expired on"
                                 f" {found.expires_on.isoformat()}", code="project-expired")
    except ProjectRefused as e:
        at = now if now is not None else datetime.combine(today, time(), tzinfo=UTC)
        _refused(db, actor, at, "export", project, client, e)
        raise
    return Approval(found)
