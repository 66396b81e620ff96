"""What every admin page shares: reading a form into the API's input type, and answering.

A form is converted into the very struct the JSON API takes (``booking.api.admin_*``), so
a page accepts exactly what the API accepts. Problems come back as field -> message (an
English msgid the template translates); each page names its fields' messages, and a field
it has no message for gets a general one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import asyncpg
import msgspec
from litestar import Request
from litestar.response import Redirect, Template

from booking.auth.principals import Role, Staff
from booking.db import Connection
from booking.db.constraints import translate
from booking.errors import BookingError, InvalidInput
from booking.i18n import N_
from booking.pages.rendering import page, url

T = TypeVar("T")
AnyRequest = Request[Any, Any, Any]
Problems = dict[str, str]

# "... - at `$[2].opens_at`" or "Object missing required field `name_de`".
_AT = re.compile(r"- at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"missing required field `(?P<field>[^`]+)`")
_GENERAL = N_("Check this entry.")


def _field_of(error: msgspec.ValidationError) -> str:
    text = str(error)
    found = _AT.search(text)
    path = found.group("path").lstrip(".") if found else ""
    missing = _MISSING.search(text)
    if missing:
        path = f"{path}.{missing.group('field')}" if path else missing.group("field")
    return path or "body"


def converted(kind: type[T], values: Mapping[str, Any] | list[Any]) -> T:
    """``values`` as the API's type ``kind`` (text form fields allowed), or a 422 naming the
    field as the API would (``[2].opens_at`` for lists)."""
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as error:
        raise InvalidInput.field(_field_of(error), str(error)) from None


def text_fields(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The named fields as stripped text, empty where missing: what the form shows again."""
    return {name: str(form.get(name, "")).strip() for name in names}


def present(values: Mapping[str, str]) -> dict[str, str]:
    """Only the fields given: an empty optional field means "leave it out"."""
    return {name: value for name, value in values.items() if value}


def problems_of(error: BookingError, messages: Mapping[str, str]) -> Problems:
    """Field -> message for a refused form; ``messages`` maps field names (or
    ``field:code`` for one kind of refusal, e.g. ``slug:conflict``) to msgids."""
    found: Problems = {}
    for detail in error.details or []:
        field = detail.field
        name = field.rsplit(".", 1)[-1]
        found.setdefault(
            field,
            messages.get(f"{name}:{error.code}") or messages.get(name) or _GENERAL,
        )
    if not found:
        found["form"] = messages.get(error.code, N_("This change could not be saved."))
    return found


async def attempt(db: Connection, work: Callable[[], Awaitable[T]]) -> T:
    """``work`` in a savepoint: when it is refused, the request's transaction goes on. A
    constraint the database enforces (a taken slug) is refused like the API refuses it."""
    try:
        async with db.transaction():
            return await work()
    except asyncpg.PostgresError as error:
        refused = translate(error)
        if refused is None:
            raise
        raise refused from error


def done(path: str, key: str, params: list[tuple[str, str]] | None = None) -> Redirect:
    """POST/redirect/GET: the page shows the status message named ``key``."""
    return Redirect(url(path, [*(params or []), ("done", key)]), status_code=303)


def status_message(request: AnyRequest, messages: Mapping[str, str]) -> str | None:
    return messages.get(str(request.query_params.get("done", "")))


def admin_page(
    request: AnyRequest,
    template: str,
    staff: Staff,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    **extra: Any,
) -> Template:
    """A page with the signed-in staff member for the header and the role checks."""
    return page(
        request,
        template,
        {"staff": staff, "is_admin": staff.role is Role.ADMIN, **context},
        status=status,
        **extra,
    )


def changed(sent: msgspec.Struct, current: object) -> dict[str, Any]:
    """The fields of a full form that differ from the stored record: the PATCH to send, so the
    audit log names what changed, as it does for the API's PATCH."""
    return {
        name: value
        for name in sent.__struct_fields__
        if (value := getattr(sent, name)) is not msgspec.UNSET
        and value != getattr(current, name, None)
    }


def checkbox(form: Mapping[str, Any], name: str) -> str:
    """A checkbox sends its value only when ticked."""
    return "true" if form.get(name) else "false"
