"""What the admin controllers share: field types, finding a location, and the grid report."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

import msgspec
from msgspec import UNSET, Meta

from booking import grid
from booking.clock import Clock
from booking.db import Connection
from booking.db import catalogue as q
from booking.db.catalogue import Location
from booking.errors import InvalidInput, NotFound

# Single-line text: no control characters (PostgreSQL refuses NUL, and a line has no breaks).
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=LINE_PATTERN)]
Line = Annotated[str, Meta(max_length=200, pattern=LINE_PATTERN)]
Paragraph = Annotated[str, Meta(max_length=5000, pattern=r"^[^\x00]*$")]
# A year in minutes: more lead, deadline or reminder time than that is a typo.
Minutes = Annotated[int, Meta(ge=0, le=366 * 24 * 60)]


class ConflictUnitOut(msgspec.Struct, frozen=True):
    starts_at: datetime
    rule_capacity: int
    booked: int


class ConflictingAppointmentOut(msgspec.Struct, frozen=True):
    code: str
    status: str
    starts_at: datetime
    ends_at: datetime


class GridOut(msgspec.Struct, frozen=True):
    """What regeneration changed, and which units and appointments the rules no longer cover."""

    location: str
    created: int
    changed: int
    removed: int
    conflict_units: list[ConflictUnitOut]
    conflicting_appointments: list[ConflictingAppointmentOut]


def grid_out(report: grid.GridReport) -> GridOut:
    return msgspec.convert(report, GridOut, from_attributes=True)


async def regenerate(db: Connection, location: Location, clock: Clock) -> GridOut:
    """In the caller's transaction, so citizens never see slots the change just removed."""
    return grid_out(await grid.regenerate_location_grid(db, location.id, clock.now()))


async def locked_location(db: Connection, slug: str) -> Location:
    """For changes: the lock orders concurrent edits of one location's hours and grid."""
    return _found(await q.lock_location(db, slug))


async def find_location(db: Connection, slug: str) -> Location:
    return _found(await q.location_by_slug(db, slug))


def _found(location: Location | None) -> Location:
    if location is None:
        raise NotFound("No such location.")
    return location


def given(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields a request actually sent, so that a PATCH changes only those."""
    return {
        name: value
        for name in patch.__struct_fields__
        if (value := getattr(patch, name)) is not UNSET
    }


@cache
def _known_time_zones() -> frozenset[str]:
    # "localtime" and friends name whatever the server is set to, not a place.
    return frozenset(available_timezones() - {"localtime", "posixrules", "Factory"})


def check_time_zone(name: str) -> None:
    if name not in _known_time_zones():
        raise InvalidInput.field("time_zone", "unknown IANA time zone, e.g. Europe/Berlin")
