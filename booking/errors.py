"""Domain errors carry their HTTP status and a stable code, so handlers never map them by hand."""

from __future__ import annotations

from typing import ClassVar

import msgspec


class FieldProblem(msgspec.Struct, frozen=True):
    field: str
    message: str


class ErrorBody(msgspec.Struct, frozen=True):
    """The one error shape of the API: clients switch on ``code``, people read ``message``."""

    status: int
    code: str
    message: str
    details: list[FieldProblem] = msgspec.field(default_factory=list)


class BookingError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        message: str,
        details: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> ErrorBody:
        return ErrorBody(self.status, self.code, self.message, self.details)


class InvalidInput(BookingError):
    status = 422
    code = "invalid_input"

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        return cls(f"{field}: {message}", [FieldProblem(field, message)])


class Unauthorized(BookingError):
    """No valid credentials: a staff session cookie, or ``Authorization: Bearer`` a token."""

    status = 401
    code = "unauthorized"

    def __init__(
        self,
        message: str = "Please sign in. / Bitte melden Sie sich an.",
        details: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        # RFC 9110: a 401 names the scheme that would succeed.
        super().__init__(message, details, {"WWW-Authenticate": "Bearer", **(headers or {})})


class Forbidden(BookingError):
    """Signed in, but not with the role or at the location this needs."""

    status = 403
    code = "forbidden"


class NotFound(BookingError):
    status = 404
    code = "not_found"


class Conflict(BookingError):
    status = 409
    code = "conflict"


class TooManyRequests(BookingError):
    status = 429
    code = "too_many_requests"


class Unavailable(BookingError):
    status = 503
    code = "unavailable"
