"""Every 4xx and 5xx leaves the server in the one ``ErrorBody`` shape."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from booking.db.constraints import translate
from booking.errors import BookingError, ErrorBody, FieldProblem

log = logging.getLogger("booking.api")


# Python renames some phrases (3.13: 413 "Content Too Large"); clients switch on these codes.
_STABLE_CODES = {413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_input"}
# How long a client should wait before retrying when PostgreSQL or Redis is out of reach.
RETRY_AFTER_SECONDS = 5


def _code_for(status: int) -> str:
    if status in _STABLE_CODES:
        return _STABLE_CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _respond(body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    return Response(body, status_code=body.status, media_type=MediaType.JSON, headers=headers)


def _field_problems(extra: object) -> list[FieldProblem]:
    if not isinstance(extra, list):
        return []
    problems = []
    for item in extra:
        if isinstance(item, dict):
            # A parameter named after a Python keyword (from_) is "from" to the client.
            where = str(item.get("key") or item.get("source") or "body").rstrip("_")
            problems.append(FieldProblem(where, str(item.get("message", "invalid"))))
    return problems


def handle_booking_error(_: Request[Any, Any, Any], exc: BookingError) -> Response[ErrorBody]:
    return _respond(exc.body(), exc.headers)


def handle_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    details = _field_problems(exc.extra)
    message = "; ".join(f"{p.field}: {p.message}" for p in details) or exc.detail
    return _respond(ErrorBody(422, "invalid_input", message, details))


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    status = exc.status_code
    if status >= 500:
        return handle_unexpected(request, exc)
    body = ErrorBody(status, _code_for(status), exc.detail, _field_problems(exc.extra))
    return _respond(body, exc.headers)


def handle_database(
    request: Request[Any, Any, Any], exc: asyncpg.PostgresError
) -> Response[ErrorBody]:
    translated = translate(exc)
    if translated is None:
        return handle_unexpected(request, exc)
    return _respond(translated.body())


# Outages rather than bugs: the server is gone, restarting, refusing or too slow. In the API,
# sockets are only opened to PostgreSQL and Redis, so an OSError is one of theirs.
OUTAGES: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,  # shutdown, starting up, query cancelled
    asyncpg.InsufficientResourcesError,  # too many connections
    # A pooled connection PostgreSQL has just terminated, used before asyncpg read the
    # closed socket: its protocol is still consuming the server's farewell error.
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
)


def _caused_by_outage(exc: BaseException) -> bool:
    """Whether an outage is behind ``exc``: cleaning up after a lost connection raises its own
    error ("the underlying connection is closed") with the real cause as its context."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OUTAGES):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def handle_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """PostgreSQL or Redis out of reach (restarting, down, overloaded): fail fast with 503.

    No traceback: the cause is outside the code, and the pool reconnects by itself.
    """
    log.warning(
        "backing service unavailable (%s) on %s %s", type(exc).__name__, request.method,
        request.url.path,
    )  # fmt: skip
    body = ErrorBody(
        503,
        "unavailable",
        "The service is briefly unavailable; please try again in a moment. / "
        "Der Dienst ist kurz nicht erreichbar; bitte versuchen Sie es gleich noch einmal.",
    )
    return _respond(body, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    if _caused_by_outage(exc):
        return handle_unavailable(request, exc)
    # The path and the exception type are enough to find the bug; bodies may hold personal data.
    log.error(
        "unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc
    )
    return _respond(ErrorBody(500, "internal_error", "An unexpected error occurred."))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    BookingError: handle_booking_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    asyncpg.PostgresError: handle_database,
    **dict.fromkeys(OUTAGES, handle_unavailable),
    Exception: handle_unexpected,
}
