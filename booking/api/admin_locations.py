"""Admin API for locations: admins create them; location admins edit and list their own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, Meta, UnsetType

from booking.api.admin_common import (
    GridOut,
    Line,
    Minutes,
    Name,
    Slug,
    check_time_zone,
    given,
    locked_location,
    regenerate,
)
from booking.api.dependencies import ClockDep, Transaction
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role, Staff
from booking.clock import Clock
from booking.db import Connection
from booking.db import catalogue as q
from booking.db.audit import record
from booking.db.catalogue import Location, NewLocation

# Changing any of these moves, adds or removes grid units.
_GRID_FIELDS = ("time_zone", "grid_minutes", "horizon_days")

Phone = Annotated[str, Meta(max_length=50, pattern=r"^[0-9 +()./-]*$")]
Email = Annotated[str, Meta(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+$")]
TimeZoneName = Annotated[str, Meta(min_length=1, max_length=64, examples=["Europe/Berlin"])]
GridMinutes = Annotated[int, Meta(ge=5, le=120)]
HorizonDays = Annotated[int, Meta(ge=1, le=366)]


class LocationPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every field optional: a PATCH changes exactly the fields it sends."""

    slug: Slug | UnsetType = UNSET
    name_de: Name | UnsetType = UNSET
    name_en: Name | UnsetType = UNSET
    street: Line | UnsetType = UNSET
    postal_code: Line | UnsetType = UNSET
    city: Line | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    time_zone: TimeZoneName | UnsetType = UNSET
    grid_minutes: GridMinutes | UnsetType = UNSET
    horizon_days: HorizonDays | UnsetType = UNSET
    min_lead_minutes: Minutes | UnsetType = UNSET
    cancel_deadline_minutes: Minutes | UnsetType = UNSET
    requires_confirmation: bool | UnsetType = UNSET
    reminder_minutes: Minutes | UnsetType = UNSET
    allocation_mode: Literal["fcfs", "lottery"] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class LocationIn(LocationPatch, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out get the schema's defaults: Europe/Berlin, a 10-minute grid, 60 days."""

    slug: Slug
    name_de: Name
    name_en: Name


class LocationOut(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name_de: str
    name_en: str
    street: str
    postal_code: str
    city: str
    phone: str
    email: str
    time_zone: str
    grid_minutes: int
    horizon_days: int
    min_lead_minutes: int
    cancel_deadline_minutes: int
    requires_confirmation: bool
    reminder_minutes: int
    allocation_mode: str
    active: bool
    created_at: datetime


class LocationChange(msgspec.Struct, frozen=True):
    """``grid`` is null when the change left the slot grid alone."""

    location: LocationOut
    grid: GridOut | None


def _out(location: Location) -> LocationOut:
    return msgspec.convert(location, LocationOut, from_attributes=True)


async def create_location(db: Connection, staff: Staff, data: LocationIn) -> Location:
    """Shared by the API and the admin pages."""
    # No opening rules yet, so there is no grid to build.
    fields = given(data)
    if "time_zone" in fields:
        check_time_zone(fields["time_zone"])
    location = await q.insert_location(db, NewLocation(**fields))
    await record(db, staff.actor, "location.create", "location", location.id, location.id)
    return location


async def update_location(
    db: Connection, clock: Clock, staff: Staff, slug: str, data: LocationPatch
) -> tuple[Location, GridOut | None]:
    """The changed location, and the grid report when the change moved the grid."""
    fields = given(data)
    if "time_zone" in fields:
        check_time_zone(fields["time_zone"])
    current = await locked_location(db, slug)
    updated = await q.update_location(db, msgspec.structs.replace(current, **fields))
    await record(
        db, staff.actor, "location.update", "location", updated.id, updated.id,
        {"fields": sorted(fields)},
    )  # fmt: skip
    moved = any(getattr(updated, name) != getattr(current, name) for name in _GRID_FIELDS)
    return updated, await regenerate(db, updated, clock) if moved else None


class LocationController(Controller):
    path = "/locations"

    @get(guards=[requires(Role.LOCATION_ADMIN)])
    async def list_locations(self, db: Transaction, staff: CurrentStaff) -> list[LocationOut]:
        """Every location for admins, active or not; their own for location admins."""
        return [_out(loc) for loc in await q.all_locations(db) if staff.works_at(loc.slug)]

    @post(guards=[requires(Role.ADMIN)])
    async def create_location(
        self, db: Transaction, staff: CurrentStaff, data: JSONBody[LocationIn]
    ) -> LocationOut:
        return _out(await create_location(db, staff, data))

    @patch("/{slug:str}", guards=[requires(Role.LOCATION_ADMIN, location="slug")])
    async def update_location(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        data: JSONBody[LocationPatch],
    ) -> LocationChange:  # fmt: skip
        updated, report = await update_location(db, clock, staff, slug, data)
        return LocationChange(_out(updated), report)
