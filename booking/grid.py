"""Use cases for the slot grid: generate a location's horizon from its rules, idempotently.

The grid is derived state: rules and closures are the truth, and regenerating any number
of times converges to the same rows. Capacity never drops below what is booked; the units
and appointments where the rules now ask for less are reported for admins instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from booking.availability import grid_units, local_day_bounds
from booking.db import Connection, quarantine
from booking.db import slots as q
from booking.db.slots import ConflictingAppointment, ConflictUnit
from booking.errors import NotFound


class GridReport(msgspec.Struct, frozen=True):
    location: str
    created: int
    changed: int
    removed: int
    conflict_units: list[ConflictUnit]
    conflicting_appointments: list[ConflictingAppointment]


async def regenerate_location_grid(conn: Connection, location_id: int, now: datetime) -> GridReport:
    """Bring one location's future grid in line with its rules, in the caller's transaction."""
    location = await q.lock_grid_location(conn, location_id)
    if location is None:
        raise NotFound("No such location.")
    today = now.astimezone(ZoneInfo(location.time_zone)).date()
    last_day = today + timedelta(days=location.horizon_days)
    _, until = local_day_bounds(last_day, location.time_zone)
    wanted = [
        unit
        for unit in grid_units(
            await q.opening_windows(conn, location_id),
            await q.closed_days(conn, location_id),
            location.time_zone,
            location.grid_minutes,
            today,
            last_day,
        )
        if unit.starts_at >= now
    ]
    # New opening hours go to the waitlist first, like freed capacity (docs/design/waitlist.md).
    waiting = await quarantine.anyone_waiting(conn, location_id)
    changes = await q.apply_grid(
        conn, location_id, wanted, now, until, hold_back_at=now if waiting else None
    )
    return GridReport(
        location=location.slug,
        created=changes.created,
        changed=changes.changed,
        removed=changes.removed,
        conflict_units=await q.conflict_units(conn, location_id, now),
        conflicting_appointments=await q.conflicting_appointments(conn, location_id, now),
    )


async def regenerate_all_grids(conn: Connection, now: datetime) -> list[GridReport]:
    """Extend every active location's horizon, one transaction each, so one failure stays local."""
    reports = []
    for location_id in await q.active_location_ids(conn):
        async with conn.transaction():
            reports.append(await regenerate_location_grid(conn, location_id, now))
    return reports


async def grid_conflicts(conn: Connection, location_id: int, now: datetime) -> GridReport:
    """The standing conflicts without regenerating, for the admins' list."""
    location = await q.lock_grid_location(conn, location_id)
    if location is None:
        raise NotFound("No such location.")
    return GridReport(
        location=location.slug,
        created=0,
        changed=0,
        removed=0,
        conflict_units=await q.conflict_units(conn, location_id, now),
        conflicting_appointments=await q.conflicting_appointments(conn, location_id, now),
    )
