"""What a problem answer is: the problem+json shape, its titles and type URIs, the
statuses each kind of endpoint may answer, and `ApiError` (a status already decided).

A leaf: it imports nothing else of `trajectory.api`, so that the handlers, the request
context, the access log and the exception mapping (`api.errors`) can all use it without
importing each other. What must not change: the type URIs and titles (clients match on
them) and the fields of `Problem` (the OpenAPI schema).
"""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec

PROBLEM_TYPES = "https://trajectory.example/problems/"
"""A refusal with a rule code has the type PROBLEM_TYPES + its rule; others about:blank."""

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    408: "Request timeout",
    409: "Refused by the rules",
    410: "Gone",
    412: "Precondition failed",
    413: "Request body too large",
    414: "Request target too long",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem; `rule`, `unmet` and `errors` are our extensions."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    rule: str | None = None
    unmet: list[str] | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None


MEANING = {
    400: "The body is not JSON.",
    401: "No valid bearer token, or an expired one (type `token-expired`).",
    403: (
        "The caller's role may not use this endpoint, or the token lacks the scope it needs"
        " (`scope-missing`; `step-up-required`: get a token from POST /auth/step-up)."
    ),
    404: "No such trajectory, or one the caller may not see (the same answer).",
    409: "The rules refuse the command: `rule` names the rule, `unmet` the criteria.",
    410: "The trajectory was erased (crypto-shredded).",
    412: "If-Match does not match the trajectory's version: read it again.",
    413: "The body is over the size limit.",
    422: "The input does not fit the schema: `errors` names each field.",
    429: "Too many failed authentications from this client: wait Retry-After seconds.",
    500: "Nothing was recorded.",
    503: "The store is unavailable: try again after Retry-After seconds.",
}
READ_PROBLEMS = (400, 401, 403, 404, 410, 422, 429, 500, 503)
WRITE_PROBLEMS = (*READ_PROBLEMS, 409, 412, 413)


def problem_responses(statuses: tuple[int, ...] = READ_PROBLEMS) -> dict[int, ResponseSpec]:
    """The OpenAPI description of the problems an endpoint may answer."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM,
            description=MEANING[status],
            generate_examples=False,
        )
        for status in sorted(statuses)
    }


class ApiError(Exception):
    """An error raised by our own handlers with its HTTP status already decided."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        rule: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.rule = rule
        self.errors = errors
        self.headers = headers or {}


def not_found() -> ApiError:
    # The same words whether it does not exist or the caller may not see it.
    return ApiError(404, "no such resource")


def problem_type(rule: str | None) -> str:
    return f"{PROBLEM_TYPES}{rule}" if rule else "about:blank"


def title_of(status: int) -> str:
    return TITLES.get(status, "Error")
