"""Every 4xx and 5xx leaves the server in the one ``ErrorBody`` shape."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from booking.db.constraints import translate
from booking.errors import BookingError, ErrorBody, FieldProblem

log = logging.getLogger("booking.api")


def _code_for(status: int) -> str:
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


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
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
    Exception: handle_unexpected,
}
