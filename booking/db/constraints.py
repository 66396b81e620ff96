"""The one place where database constraint violations become domain errors, by name.

Handlers and use cases let asyncpg's typed errors rise; the API turns them into a clear
4xx here instead of a 500, and a name missing from the table still gets a generic answer.
"""

from __future__ import annotations

import asyncpg

from booking.errors import BookingError, Conflict, FieldProblem, InvalidInput, Unavailable

_KNOWN: dict[str, tuple[type[BookingError], str, str]] = {
    # constraint name: (error, field, message)
    "location_slug_key": (Conflict, "slug", "A location with this slug exists already."),
    "service_slug_key": (Conflict, "slug", "A service with this slug exists already."),
    "desk_location_id_name_key": (Conflict, "name", "This location has a desk of that name."),
    "ticket_one_active_per_desk": (Conflict, "desk", "This desk has a ticket open already."),
    "staff_user_email_key": (Conflict, "email", "A staff user with this email exists already."),
    "slot_not_overbooked": (Conflict, "start", "This time is fully booked."),
    "opening_rule_check": (InvalidInput, "closes_at", "must be later than opens_at"),
    "opening_rule_check1": (InvalidInput, "valid_until", "must not be before valid_from"),
    "closure_check": (InvalidInput, "last_day", "must not be before first_day"),
}


def translate(exc: asyncpg.PostgresError) -> BookingError | None:
    """The domain error for a client-caused database error, or None for a real fault."""
    name = getattr(exc, "constraint_name", None) or ""
    if name in _KNOWN:
        kind, field, message = _KNOWN[name]
        return kind(f"{field}: {message}", [FieldProblem(field, message)])
    if isinstance(exc, asyncpg.TransactionRollbackError):
        return Unavailable("The service is busy; please try again.", headers={"Retry-After": "1"})
    if isinstance(exc, asyncpg.UniqueViolationError):
        return Conflict("This already exists.")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return Conflict("This is still referenced by other records or refers to a missing one.")
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError | asyncpg.DataError):
        return InvalidInput("A value is out of the allowed range.")
    return None
