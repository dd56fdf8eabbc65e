"""What the web tests share: a small world of people (each with a password and a TOTP
secret) and trajectories, a browser that signs in and fills in forms over HTTP, and an
HTML reader for the checks on labels and links.

The world is made through the application service (fast); everything under test goes
over HTTP, through the same app the server runs (`create_app`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pyotp
import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient

from tests.builders import handover_package, intake, phase_2_facts, record_all
from tests.conftest import FakeClock
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.vocabulary import ConsentGiver
from trajectory.api.app import create_app
from trajectory.api.context import Services
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import (
    DecideComenshaRegistration,
    GiveResearchConsent,
    HoldHandoverMeeting,
    PrepareHandover,
)
from trajectory.composition.http import build_services
from trajectory.identity import credentials as credentials_module
from trajectory.identity.credentials import Credentials
from trajectory.protocol.rules import age_on

PASSWORD = "lang genoeg wachtwoord 42"
CONSENT_NOTE = "moeder tekende het formulier bij het huisbezoek"
"""Free text of the research consent: no export may carry it."""

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For a test of the pages themselves: the store's part is tested on both stores elsewhere."""
ORG_A = "Stichting Zonnebloem"
ORG_B = "Jeugdzorg Noordkaap"
AFTERCARE_ORG = "Nazorg Westhoek"
GIRL = "Noor Verborgen"
OTHER_GIRL = "Lina Elders"
HANDED_OVER_GIRL = "Sara Overdracht"

# who -> (role, organisation); the keys are the user names and ids.
PEOPLE: dict[str, tuple[str, str]] = {
    "coordinator": ("coordinator", ORG_A),
    "coordinator-b": ("coordinator", ORG_B),
    "aftercare": ("aftercare", AFTERCARE_ORG),
    "aftercare-other": ("aftercare", AFTERCARE_ORG),
    "researcher": ("researcher", "Universiteit Onderzoek"),
    "admin": ("admin", ORG_A),
    "admin-2": ("admin", ORG_A),
    "admin-b": ("admin", ORG_B),
    "quality": ("quality", ORG_A),
    "inspector": ("inspector", "Inspectie Gezondheidszorg en Jeugd"),
    "privacy": ("privacy", ORG_A),
}
DISPLAY_NAMES: dict[str, str] = {
    "coordinator": "Marieke de Graaf",
    "coordinator-b": "Bram Jansen",
    "aftercare": "Fatima El Idrissi",
    "aftercare-other": "Eva Bakker",
    "researcher": "Ruben Smit",
    "admin": "Sanne Visser",
    "admin-2": "Mark de Boer",
    "admin-b": "Lotte Mulder",
    "quality": "Kees Peters",
    "inspector": "Ingrid Dekker",
    "privacy": "Petra Vos",
}
"""How the pages name the people of the world: a care record names people as people."""


@dataclass
class World:
    app: TrajectoryApplication
    services: Services
    asgi: Litestar
    clock: FakeClock
    secrets: dict[str, str]
    girl: UUID
    other_girl: UUID
    handed_over: UUID

    def actor(self, who: str) -> Actor:
        role, org = PEOPLE[who]
        return Actor(user_id=who, role=role, organisation=org)

    @contextmanager
    def browser(self, who: str | None = None, **kwargs: Any) -> Iterator[Browser]:
        with TestClient(self.asgi, **kwargs) as client:
            b = Browser(self, client)
            if who is not None:
                b.sign_in(who)
            yield b

    def access(self, trajectory_id: UUID | str | None = None) -> list[dict[str, Any]]:
        if trajectory_id is None:
            return self.app.db.fetchall("SELECT * FROM access_log ORDER BY entry_id")
        return self.services.access.for_trajectory(str(trajectory_id))

    def version(self, trajectory_id: UUID) -> int:
        return self.app.current_version(trajectory_id)

    def approve_project(self, name: str, **options: Any) -> None:
        """An approved research project `name` the researcher is bound to (every export
        needs one: `tests.project_support`)."""
        from tests.project_support import approved_project

        approved_project(self.app, name, researcher="researcher", **options)

    def give_research_consent(self, trajectory_id: UUID) -> ConsentGiver:
        """Record her consent to pseudonymised research, as her coordinator does (through
        the command, so the protocol checks who may give it): she herself from 16, a
        parent before. Intake records none, and an export leaves out every girl without
        it; a test of what an export holds needs girls who gave it."""
        state = self.app.get(trajectory_id).state
        coordinator = Actor(user_id=state.coordinator, role="coordinator",
                            organisation=state.organisation)
        today = amsterdam_date(self.clock())
        giver: ConsentGiver = "girl" if age_on(state.date_of_birth, today) >= 16 else "parent"
        self.app.execute(trajectory_id, GiveResearchConsent(given_by=giver, note=CONSENT_NOTE),
                         coordinator)
        return giver


# argon2id with the library's defaults takes ~0.2 s a hash, by design; the tests use the
# same algorithm with small costs (the CLI test keeps the defaults).
_CHEAP = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)


def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials_module, "_HASHER", _CHEAP)
    monkeypatch.setattr(credentials_module, "_DUMMY_HASH", _CHEAP.hash("nobody's password"))


def make_world(
    app: TrajectoryApplication,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    export_dir: Path | None = None,
) -> World:
    cheap_hashing(monkeypatch)
    if export_dir is not None:  # research exports of this test only
        monkeypatch.setattr(
            app, "settings", msgspec.structs.replace(app.settings, export_dir=str(export_dir))
        )
    # Facts are recorded at the test's clock, so that "as of a day" and the times in the
    # history follow the clock the test moves.
    monkeypatch.setattr(TrajectoryEvent, "create_timestamp", staticmethod(clock))
    services = build_services(app)
    assert app.keys is not None
    credentials = Credentials(app.db, app.keys)
    secrets: dict[str, str] = {}
    for name, (role, org) in PEOPLE.items():
        services.users.add(name=name, role=role, organisation=org, now=clock(), user_id=name,
                           display_name=DISPLAY_NAMES[name])
        credentials.set_password(name, PASSWORD)
        secrets[name] = pyotp.random_base32()
        credentials.save_totp(name, secrets[name])
    coordinator = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
    other = Actor(user_id="coordinator-b", role="coordinator", organisation=ORG_B)
    girl = app.open_trajectory(intake(identity=_who(GIRL)), coordinator).trajectory_id
    other_girl = app.open_trajectory(intake(identity=_who(OTHER_GIRL)), other).trajectory_id
    handed = app.open_trajectory(
        intake(identity=_who(HANDED_OVER_GIRL)), coordinator
    ).trajectory_id
    record_all(
        app,
        handed,
        [
            *phase_2_facts(),
            DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
            PrepareHandover(
                receiving_organisation=AFTERCARE_ORG,
                receiving_worker="aftercare",
                package=handover_package(),
            ),
            HoldHandoverMeeting(
                girl_present=True, sending_worker_present=True, receiving_worker_present=True
            ),
        ],
        coordinator,
    )
    return World(
        app=app,
        services=services,
        asgi=create_app(services),
        clock=clock,
        secrets=secrets,
        girl=girl,
        other_girl=other_girl,
        handed_over=handed,
    )


def _who(name: str) -> Identity:
    return Identity(name=name, date_of_birth=date(2010, 4, 1), home_region="Utrecht")


_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """A person at a browser: cookies kept, forms filled in from the page they are on."""

    world: World
    client: TestClient[Any]
    last: httpx.Response | None = None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        self.last = self.client.get(path, **kwargs)
        return self.last

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        self.last = self.client.post(path, data=data, **kwargs)
        return self.last

    def code(self, who: str) -> str:
        """The current TOTP code; the clock then moves on a step (a code is good once)."""
        value = pyotp.TOTP(self.world.secrets[who]).at(self.world.clock())
        self.world.clock.advance(seconds=30)
        return value

    def password_step(self, who: str, password: str = PASSWORD) -> httpx.Response:
        page = self.get("/app/login")
        return self.post(
            "/app/login",
            {"csrf_token": csrf_of(page.text), "username": who, "password": password,
             "next": "/app/"},
            follow_redirects=False,
        )

    def sign_in(self, who: str) -> httpx.Response:
        first = self.password_step(who)
        assert first.status_code == 303, first.text
        page = self.get(first.headers["location"])
        assert page.status_code == 200, page.text
        done = self.post(
            "/app/login/code",
            {"csrf_token": csrf_of(page.text), "code": self.code(who), "next": "/app/"},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        return done

    def submit(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        """Open the form's page, then post it with that page's CSRF token."""
        page = self.get(path)
        assert page.status_code == 200, page.text
        return self.post(path, {"csrf_token": csrf_of(page.text), **data}, **kwargs)

    def export(self, project: str, k: int = 5) -> httpx.Response:
        """Ask for a CSV research export from the research page, confirming her password
        and a new code (an export asks for both): the answer, not followed."""
        page = self.get("/app/research")
        return self.post(
            "/app/research/exports",
            {"csrf_token": csrf_of(page.text), "project": project, "format": "csv",
             "k": str(k), "reauth_password": PASSWORD, "reauth_code": self.code("researcher")},
            follow_redirects=False,
        )

    def session_cookie(self) -> str | None:
        for cookie in self.client.cookies.jar:
            if cookie.name == "trj_session":
                return cookie.value
        return None


# -- reading HTML ------------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


@dataclass
class Page(HTMLParser):
    """The parts of a page the checks look at: elements with their attributes, labels'
    targets, and the visible text."""

    elements: list[Element] = field(default_factory=list)
    labelled: set[str] = field(default_factory=set)
    text: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append(Element(tag, values))
        if tag == "label" and values.get("for"):
            self.labelled.add(values["for"])

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    @classmethod
    def of(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def inputs(self) -> list[Element]:
        """Every control a person fills in (not hidden fields, not buttons)."""
        return [
            e
            for e in self.elements
            if e.tag in ("select", "textarea")
            or (e.tag == "input" and e.attrs.get("type") not in ("hidden", "submit", "button"))
        ]

    def unlabelled(self) -> list[Element]:
        return [
            e
            for e in self.inputs()
            if e.attrs.get("id") not in self.labelled
            and not e.attrs.get("aria-label")
            and not e.attrs.get("aria-labelledby")
        ]

    def external_urls(self) -> list[str]:
        found = []
        for e in self.elements:
            for attr in ("src", "href", "action", "srcset", "data", "formaction"):
                value = e.attrs.get(attr, "")
                if re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", value, re.I) and not value.startswith(
                    "#"
                ):
                    found.append(f"{e.tag}[{attr}]={value}")
        return found

    def all_text(self) -> str:
        return " ".join(self.text)

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]
