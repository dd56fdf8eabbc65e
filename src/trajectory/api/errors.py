"""The one place where errors become HTTP: RFC 9457 problem+json for every failure.

No stack trace, SQL or internal name reaches a client: unexpected errors are logged with
the request id and answered with a bare 500 problem.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.persistence import PersistenceError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from trajectory.aggregates.errors import (
    RuleRefused,
    TrajectoryNotFound,
    VersionConflict,
    WriteRefused,
)
from trajectory.api.access import log_failure
from trajectory.api.problems import (
    PROBLEM,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    ApiError,
    FieldError,
    Problem,
    not_found,
    problem_responses,
    problem_type,
    title_of,
)
from trajectory.crypto import TrajectoryErased

__all__ = [  # the problem names, where the handlers have always found them
    "PROBLEM",
    "READ_PROBLEMS",
    "WRITE_PROBLEMS",
    "ApiError",
    "FieldError",
    "Problem",
    "field_errors",
    "handle_exception",
    "not_found",
    "problem",
    "problem_responses",
    "where_raised",
]

log = structlog.get_logger("trajectory.api")


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None,
    *,
    rule: str | None = None,
    unmet: list[str] | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    body = Problem(
        type=problem_type(rule),
        title=title_of(status),
        status=status,
        detail=detail,
        instance=request.url.path,
        rule=rule,
        unmet=unmet,
        errors=errors,
        request_id=request.scope.get("state", {}).get("request_id"),
    )
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers or {})


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
# msgspec names the field itself, not its path, when one is unknown or missing.
_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


def field_errors(exc: ValidationException) -> list[FieldError]:
    """Turn Litestar/msgspec validation details into (field, message) pairs.

    Litestar gives the path to the value (`key`, e.g. `waivers[0]`; `data` for the body
    itself); msgspec names an unknown or missing field only in its message.
    """
    out: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid"))
        match = _AT.match(message)
        text = match.group("message") if match else message
        key = str(item.get("key") or "")
        path = (match.group("path") if match else None) or ""
        field = "" if key in ("", "data") else key
        field = field or path.lstrip(".")
        named = _NAMED.search(text)
        if named and item.get("source") not in ("query", "path", "header", "cookie"):
            field = f"{field}.{named.group('name')}" if field else named.group("name")
        out.append(FieldError(field=field or "body", message=text))
    if not out:
        out.append(FieldError(field="body", message=exc.detail or "invalid request body"))
    return out


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Every exception, mapped once. The access log hears about refusals here too."""
    status, response = _map(request, exc)
    log_failure(request, status)
    return response


def _map(request: Request[Any, Any, Any], exc: Exception) -> tuple[int, Response[Problem]]:
    if isinstance(exc, ApiError):
        return exc.status, problem(
            request, exc.status, exc.detail, rule=exc.rule, errors=exc.errors, headers=exc.headers
        )
    if isinstance(exc, RuleRefused):
        return 409, problem(
            request, 409, exc.message, rule=exc.code, unmet=list(exc.unmet) or None
        )
    if isinstance(exc, VersionConflict):
        return 412, problem(
            request,
            412,
            f"the trajectory is at version {exc.actual}, not {exc.expected}; read it again",
            rule="version-mismatch",
        )
    if isinstance(exc, TrajectoryNotFound):
        return 404, problem(request, 404, "no such resource")
    if isinstance(exc, TrajectoryErased):
        return 410, problem(request, 410, "this trajectory was erased")
    if isinstance(exc, WriteRefused):
        log.error("write_refused", cause=type(exc.__cause__).__name__)
        return 500, problem(request, 500, "the act could not be recorded; nothing was recorded")
    if isinstance(exc, ValidationException):
        errors = field_errors(exc)
        fields = ", ".join(e.field for e in errors)
        return 422, problem(request, 422, f"invalid input: {fields}", errors=errors)
    if isinstance(exc, (UnicodeDecodeError, RecursionError)) and _decoding_the_body(exc):
        # msgspec raises these, not its DecodeError, for bytes that are not UTF-8 and for
        # nesting deeper than it recurses; Litestar passes them on as they are.
        return 400, problem(
            request, 400, "the body is not JSON: not UTF-8, or nested too deeply"
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = exc.detail if status < 500 else None
        if status == 404:
            detail = "no such resource"
        headers = dict(exc.headers or {})
        return status, problem(request, status, detail, headers=headers)
    if isinstance(exc, (StoreOperationalError, PersistenceError)) or _is_unavailable(exc):
        log.error("store_unavailable", error_type=type(exc).__name__, cause=_root_cause(exc))
        return 503, problem(
            request, 503, "the store is unavailable; try again shortly",
            headers={"Retry-After": "5"},
        )
    # No traceback in the log: its frames' text and values may carry care data or a token.
    log.error("unhandled_error", error_type=type(exc).__name__, at=where_raised(exc))
    return HTTP_500_INTERNAL_SERVER_ERROR, problem(request, 500, "an unexpected error occurred")


def _is_unavailable(exc: BaseException) -> bool:
    import sqlite3

    import psycopg
    import psycopg_pool

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, (psycopg.OperationalError, psycopg_pool.PoolTimeout)):
            return True
        if isinstance(cause, sqlite3.OperationalError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _root_cause(exc: BaseException) -> str:
    """The innermost cause's class (e.g. PoolTimeout, LockNotAvailable): what operators
    need to tell a database that is down from one that is busy. Never its message."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return type(exc).__name__


def _decoding_the_body(exc: BaseException) -> bool:
    """Whether the error was raised while Litestar decoded a request body as JSON."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        module = frame.f_globals.get("__name__", "")
        if module == "litestar.serialization.msgspec_hooks" and frame.f_code.co_name.startswith(
            "decode_"
        ):
            return True
        tb = tb.tb_next
    return False


def where_raised(exc: BaseException) -> str:
    """The innermost frame of an exception as module:function:line, for the logs."""
    tb = exc.__traceback__
    if tb is None:
        return "unknown"
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    return f"{frame.f_globals.get('__name__', '?')}:{frame.f_code.co_name}:{tb.tb_lineno}"
