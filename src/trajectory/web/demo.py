"""Sign-in for the demo accounts of `trajectory serve --demo`: a fresh password and a fresh
TOTP secret for each, printed with the address of the web pages. Demo data only: a real
account is enrolled by an administrator (`trajectory users add --password --enrol-totp`).
"""

from __future__ import annotations

import secrets
from typing import TextIO

from trajectory.application import TrajectoryApplication
from trajectory.identity.credentials import Credentials, new_totp_secret, provisioning_uri
from trajectory.identity.users import UserStore


def enrol_demo_accounts(
    application: TrajectoryApplication,
    names: list[str],
    address: str,
    out: TextIO,
) -> None:
    users = UserStore(application.db)
    credentials = Credentials(application.db, application.keys)
    out.write(f"web pages: {address}/app/ (sign in with a password and a TOTP code)\n")
    for name in names:
        user = users.find(name)
        if user is None:
            continue
        password = secrets.token_urlsafe(12)
        secret = new_totp_secret()
        credentials.set_password(user.user_id, password)
        credentials.save_totp(user.user_id, secret)
        out.write(
            f"  {user.role:12} {name:18} password {password}  TOTP secret {secret}\n"
            f"  {'':12} {'':18} {provisioning_uri(secret, name)}\n"
        )
    out.flush()
