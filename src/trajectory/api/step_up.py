"""`POST /auth/step-up`: the long-lived token, the password and a new TOTP code give a
token for five minutes that may do the irreversible acts (export, erase) and nothing else.

The rule is `identity.step_up`'s, the same strength the web pages ask before the same
acts. Failures count in the same throttle as bad tokens (per client address), and per
account too (six digits are few); every attempt is in the access log.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, post
from litestar.params import JSONBody

from trajectory.api.context import access_entry, caller, client_of, services
from trajectory.api.problems import ApiError, problem_responses
from trajectory.api.security import STEPS_UP, authenticated
from trajectory.identity.credentials import Credentials
from trajectory.identity.step_up import StepUpRefused, StepUpUnavailable, step_up


class StepUpRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Her password and the current code of her authenticator app."""

    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    totp: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class StepUpOut(msgspec.Struct, kw_only=True):
    token: str
    expires_at: datetime
    scopes: list[str]


def _step_up(request: Request[Any, Any, Any], data: StepUpRequest) -> StepUpOut:
    svc = services(request)
    user = caller(request)
    client = client_of(request) or "unknown"
    per_user = f"step-up-user:{user.user_id}"
    wait = svc.throttle.blocked_for(per_user)
    if wait:
        raise ApiError(
            429,
            "too many failed step-ups for this account; wait and try again",
            headers={"Retry-After": str(int(wait))},
        )
    app = svc.application
    now = app.clock()
    try:
        done = step_up(
            svc.users,
            Credentials(app.db, app.keys),
            user,
            password=data.password,
            code=data.totp,
            now=now,
        )
    except StepUpUnavailable as e:
        _log(request, "denied")
        raise ApiError(403, str(e), rule="step-up-unavailable") from None
    except StepUpRefused as e:
        svc.throttle.failed(client)
        svc.throttle.failed(per_user)
        _log(request, "denied")
        raise ApiError(401, str(e), rule="step-up-refused") from None
    _log(request, "ok")
    return StepUpOut(
        token=done.token,
        expires_at=done.bearer.expires_at,
        scopes=sorted(done.bearer.scopes),
    )


def _log(request: Request[Any, Any, Any], outcome: str) -> None:
    entry = access_entry(request, action="step-up", trajectory_id=None, outcome=outcome)
    services(request).access.append(entry)
    request.scope["state"]["access_logged"] = True


@post(
    "/auth/step-up",
    guards=[authenticated],
    # Any long-lived token of a role with sensitive acts may ask; a step-up token carries
    # no `read` and so cannot extend itself.
    opt={"roles": STEPS_UP, "scope": "read"},
    status_code=200,
    summary="Step up: a five-minute token for an export or an erasure",
    tags=["auth"],
    responses=problem_responses((400, 401, 403, 422, 429, 500, 503)),
)
async def step_up_token(
    request: Request[Any, Any, Any], data: JSONBody[StepUpRequest]
) -> StepUpOut:
    """Send the long-lived bearer token, the password and a new TOTP code (a code is good
    once). The answer's token may do the role's irreversible acts (a researcher: `export`;
    an admin: `erase`) for five minutes, and nothing else. A wrong password or code
    answers 401 and counts towards the throttle (429)."""
    return await anyio.to_thread.run_sync(partial(_step_up, request, data))
