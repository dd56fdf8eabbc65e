"""Stepping up in API tests: a person with a password and a TOTP secret, and the five-minute
token `POST /auth/step-up` gives her for an export or an erasure."""

from __future__ import annotations

import httpx
import pyotp

from tests.conftest import FakeClock
from tests.live import Live
from trajectory.identity.credentials import Credentials, new_totp_secret

PASSWORD = "een lang genoeg wachtwoord 7"


def enrol(live: Live, name: str) -> str:
    """Give the user `name` the password above and a new TOTP secret (returned)."""
    app = live.services.application
    user = live.services.users.find(name)
    assert user is not None
    credentials = Credentials(app.db, app.keys)
    credentials.set_password(user.user_id, PASSWORD)
    secret = new_totp_secret()
    credentials.save_totp(user.user_id, secret)
    return secret


def code(secret: str, clock: FakeClock) -> str:
    """The current code; the clock then moves a step on (a code is good once)."""
    value = pyotp.TOTP(secret).at(clock())
    clock.advance(seconds=30)
    return value


def ask_step_up(
    http: httpx.Client, secret: str, clock: FakeClock, password: str = PASSWORD
) -> httpx.Response:
    return http.post("/auth/step-up", json={"password": password, "totp": code(secret, clock)})


def stepped_up(live: Live, http: httpx.Client, secret: str, clock: FakeClock) -> httpx.Client:
    """A client that sends the step-up token of `http`'s user."""
    answer = ask_step_up(http, secret, clock)
    assert answer.status_code == 200, answer.text
    return live.client(answer.json()["token"])
