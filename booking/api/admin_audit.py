"""Admin API for the audit log: newest first, filtered, a page at a time (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from booking.api.admin_common import Slug, find_location
from booking.api.dependencies import Transaction
from booking.auth.guards import requires
from booking.auth.principals import Role
from booking.db.audit import AuditQuery, audit_entries
from booking.errors import InvalidInput

Word = Annotated[str, QueryParameter(max_length=100)]


class AuditEntryOut(msgspec.Struct, frozen=True, kw_only=True):
    """``actor_name`` is the staff member's email or the device's name."""

    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str | None
    action: str
    object_kind: str
    object_id: str | None
    location: str | None
    detail: dict[str, Any]


class AuditPage(msgspec.Struct, frozen=True):
    """``next_before``: pass as ``before`` for the next (older) page; null on the last one."""

    entries: list[AuditEntryOut]
    next_before: int | None


def _check_offset(name: str, value: datetime | None) -> None:
    # A bare local time would be read in whatever zone the database server is set to.
    if value is not None and value.tzinfo is None:
        raise InvalidInput.field(name, "needs a UTC offset, e.g. 2026-06-01T00:00:00+02:00")


class AuditController(Controller):
    path = "/audit"
    guards = [requires(Role.ADMIN)]  # noqa: RUF012 - Litestar's layered attribute

    @get()
    async def list_entries(
        self,
        *,
        db: Transaction,
        action: FromQuery[Word | None] = None,
        actor_kind: FromQuery[Literal["staff", "device", "system", "anonymous"] | None] = None,
        actor_id: FromQuery[int | None] = None,
        object_kind: FromQuery[Word | None] = None,
        object_id: FromQuery[Word | None] = None,
        location: FromQuery[Slug | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        before: FromQuery[int | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> AuditPage:
        """``action`` "staff" matches every staff action ("staff.create", "staff.update")."""
        _check_offset("since", since)
        _check_offset("until", until)
        location_id = None if location is None else (await find_location(db, location)).id
        entries = await audit_entries(
            db,
            AuditQuery(
                action=action, actor_kind=actor_kind, actor_id=actor_id,
                object_kind=object_kind, object_id=object_id, location_id=location_id,
                since=since, until=until, before_id=before, limit=limit,
            ),
        )  # fmt: skip
        out = [
            AuditEntryOut(
                id=e.id, at=e.at, actor_kind=e.actor_kind, actor_id=e.actor_id,
                actor_name=e.actor_name, action=e.action, object_kind=e.object_kind,
                object_id=e.object_id, location=e.location_slug, detail=e.detail,
            )
            for e in entries
        ]  # fmt: skip
        return AuditPage(out, out[-1].id if len(out) == limit else None)
