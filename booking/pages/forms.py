"""What the booking forms carry, read from query or form fields and checked like the API does.

Field rules are the API's own types (``booking.api.appointments``); only the messages are the
pages', written for people and translated where they are shown.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

import msgspec
from litestar.datastructures import FormMultiDict, MultiDict

from booking.api.appointments import Email, Name, Phone, Services, Slug
from booking.errors import InvalidInput
from booking.i18n import N_

Fields = MultiDict[Any] | FormMultiDict

_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


class Selection(msgspec.Struct, frozen=True, kw_only=True):
    """A chosen start: where, for what, when, and the hold keeping it (if any)."""

    location: str
    services: list[str]
    start: datetime
    hold: uuid.UUID | None = None

    def params(self) -> list[tuple[str, str]]:
        found = [("location", self.location), *(("service", s) for s in self.services)]
        found.append(("start", self.start.isoformat()))
        if self.hold is not None:
            found.append(("hold", str(self.hold)))
        return found


class Contact(msgspec.Struct, frozen=True):
    name: str = ""
    email: str = ""
    phone: str = ""


def checked(value: object, kind: Any, field: str) -> Any:
    """``value`` as the API's type ``kind``; a 422 naming the field otherwise."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError:
        raise InvalidInput.field(field, f"not a valid {field}") from None


def services(fields: Fields) -> list[str]:
    found: list[str] = checked(fields.getall("service", []), Services, "service")
    return found


def location(fields: Fields) -> str:
    found: str = checked(fields.get("location", ""), Slug, "location")
    return found


def optional_date(fields: Fields, name: str) -> date | None:
    raw = fields.get(name)
    found: date | None = checked(raw, date, name) if raw else None
    return found


def optional_month(fields: Fields) -> date | None:
    raw = fields.get("month")
    found: date | None = checked(f"{raw}-01", date, "month") if raw else None
    return found


def optional_start(fields: Fields) -> datetime | None:
    raw = fields.get("start")
    if not raw:
        return None
    start: datetime = checked(raw, datetime, "start")
    if start.tzinfo is None:
        raise InvalidInput.field("start", "needs a time zone")
    return start


def selection(fields: Fields) -> Selection:
    start = optional_start(fields)
    if start is None:
        raise InvalidInput.field("start", "missing")
    hold = fields.get("hold")
    return Selection(
        location=location(fields),
        services=services(fields),
        start=start,
        hold=checked(hold, uuid.UUID, "hold") if hold else None,
    )


def request_id(fields: Fields) -> str:
    """The form's own Idempotency-Key, made when the review page was shown."""
    found = str(fields.get("request", ""))
    if not _REQUEST_ID.match(found):
        raise InvalidInput.field("request", "missing or malformed")
    return found


def new_request_id() -> str:
    return uuid.uuid4().hex


def contact(fields: Fields) -> Contact:
    return Contact(
        name=" ".join(str(fields.get("name", "")).split())[:500],
        email=str(fields.get("email", "")).strip()[:500],
        phone=str(fields.get("phone", "")).strip()[:500],
    )


def contact_problems(given: Contact) -> dict[str, str]:
    """Field name -> message (an English msgid), in the order of the form."""
    problems: dict[str, str] = {}
    if not given.name:
        problems["name"] = N_("Enter your full name.")
    elif not _valid(given.name, Name):
        problems["name"] = N_("Your name can be at most 200 characters long.")
    if not given.email:
        problems["email"] = N_("Enter your email address.")
    elif not _valid(given.email, Email):
        problems["email"] = N_(
            "Enter an email address in the correct format, like name@example.org."
        )
    if given.phone and not _valid(given.phone, Phone):
        problems["phone"] = N_("Enter a telephone number, like 030 1234567 or +49 30 1234567.")
    return problems


def _valid(value: str, kind: Any) -> bool:
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return False
    return True
