"""Queries for the slot grid: the rules it is built from, and applying a new grid safely."""

from __future__ import annotations

from datetime import datetime

import msgspec

from booking.availability import ClosedDays, GridUnit, OpeningWindow, SlotState
from booking.db import Connection


class GridLocation(msgspec.Struct, frozen=True):
    id: int
    slug: str
    time_zone: str
    grid_minutes: int
    horizon_days: int


class GridChanges(msgspec.Struct, frozen=True):
    created: int
    changed: int
    removed: int


class ConflictUnit(msgspec.Struct, frozen=True):
    starts_at: datetime
    rule_capacity: int
    booked: int


class ConflictingAppointment(msgspec.Struct, frozen=True):
    code: str
    status: str
    starts_at: datetime
    ends_at: datetime


_LOCATION_COLUMNS = "id, slug, time_zone, grid_minutes, horizon_days"


async def lock_grid_location(conn: Connection, location_id: int) -> GridLocation | None:
    """Lock the location row so that two regenerations of one location run one after another.

    ``no key update``: a booking or an offer inserting an appointment (a foreign-key share
    lock on the location) while holding units must not deadlock with a regeneration.
    """
    row = await conn.fetchrow(
        f"select {_LOCATION_COLUMNS} from location where id = $1 for no key update",  # noqa: S608
        location_id,
    )
    return None if row is None else GridLocation(**dict(row))


async def active_location_ids(conn: Connection) -> list[int]:
    return [r["id"] for r in await conn.fetch("select id from location where active order by id")]


async def opening_windows(conn: Connection, location_id: int) -> list[OpeningWindow]:
    rows = await conn.fetch(
        """
        select weekday, opens_at, closes_at, desks, valid_from, valid_until
          from opening_rule where location_id = $1
        """,
        location_id,
    )
    return [OpeningWindow(**dict(row)) for row in rows]


async def closed_days(conn: Connection, location_id: int) -> list[ClosedDays]:
    rows = await conn.fetch(
        "select first_day, last_day from closure where location_id = $1", location_id
    )
    return [ClosedDays(**dict(row)) for row in rows]


async def apply_grid(
    conn: Connection,
    location_id: int,
    units: list[GridUnit],
    since: datetime,
    until: datetime,
    *,
    hold_back_at: datetime | None = None,
) -> GridChanges:
    """Make the grid in [since, until) match ``units`` without ever dropping below booked.

    With ``hold_back_at``, places the rules add are quarantined for the waitlist, stamped
    with it; quarantined places the rules no longer have are dropped either way.
    """
    starts = [u.starts_at for u in units]
    row = await conn.fetchrow(
        """
        with upserted as (
            insert into slot (location_id, starts_at, window_ends_at, rule_capacity, capacity,
                              quarantined, quarantined_at)
            select $1, d.starts_at, d.window_ends_at, d.capacity, d.capacity,
                   case when $5::timestamptz is null then 0 else d.capacity end, $5
              from unnest($2::timestamptz[], $3::timestamptz[], $4::int[])
                   as d(starts_at, window_ends_at, capacity)
            on conflict (location_id, starts_at) do update
               set window_ends_at = excluded.window_ends_at,
                   rule_capacity = excluded.rule_capacity,
                   capacity = greatest(excluded.rule_capacity, slot.booked),
                   quarantined = least(
                       slot.quarantined + case when $5::timestamptz is null then 0
                           else greatest(0, excluded.rule_capacity - slot.capacity) end,
                       greatest(excluded.rule_capacity, slot.booked) - slot.booked),
                   quarantined_at = case
                       when $5::timestamptz is not null and excluded.rule_capacity > slot.capacity
                       then $5 else slot.quarantined_at end,
                   public_at = case
                       when $5::timestamptz is not null and excluded.rule_capacity > slot.capacity
                       then null else slot.public_at end
             where (slot.window_ends_at, slot.rule_capacity)
                   is distinct from (excluded.window_ends_at, excluded.rule_capacity)
            returning (xmax = 0) as inserted
        )
        select count(*) filter (where inserted) as created,
               count(*) filter (where not inserted) as changed
          from upserted
        """,
        location_id, starts, [u.window_ends_at for u in units], [u.capacity for u in units],
        hold_back_at,
    )  # fmt: skip
    assert row is not None
    # Units the rules no longer want: free ones go, booked ones stay at their bookings.
    # Free units past a shortened horizon go too; booked ones there remain valid.
    removed = await conn.fetchval(
        """
        with gone as (
            delete from slot s
             where s.location_id = $1 and s.starts_at >= $2 and s.booked = 0
               and (s.starts_at >= $3 or s.starts_at <> all($4::timestamptz[]))
            returning 1
        )
        select count(*) from gone
        """,
        location_id, since, until, starts,
    )  # fmt: skip
    kept = await conn.execute(
        """
        update slot s set rule_capacity = 0, capacity = s.booked, quarantined = 0,
                          quarantined_at = null, public_at = null
         where s.location_id = $1 and s.starts_at >= $2 and s.starts_at < $3
           and s.booked > 0 and s.rule_capacity > 0 and s.starts_at <> all($4::timestamptz[])
        """,
        location_id, since, until, starts,
    )  # fmt: skip
    return GridChanges(row["created"], row["changed"] + int(kept.split()[-1]), removed)


async def conflict_units(conn: Connection, location_id: int, since: datetime) -> list[ConflictUnit]:
    rows = await conn.fetch(
        """
        select starts_at, rule_capacity, booked from slot
         where location_id = $1 and starts_at >= $2 and booked > rule_capacity
         order by starts_at
        """,
        location_id,
        since,
    )
    return [ConflictUnit(**dict(row)) for row in rows]


async def conflicting_appointments(
    conn: Connection, location_id: int, since: datetime
) -> list[ConflictingAppointment]:
    """Appointments on units that the opening rules no longer cover; never personal data."""
    rows = await conn.fetch(
        """
        select a.code, a.status, a.starts_at, a.ends_at
          from appointment a
         where a.location_id = $1 and a.ends_at > $2 and a.status in ('pending', 'booked')
           and exists (select 1 from slot s
                        where s.location_id = a.location_id
                          and s.starts_at >= a.starts_at and s.starts_at < a.ends_at
                          and s.booked > s.rule_capacity)
         order by a.starts_at, a.code
        """,
        location_id,
        since,
    )
    return [ConflictingAppointment(**dict(row)) for row in rows]


async def free_units(
    conn: Connection, location_id: int, since: datetime, until: datetime
) -> list[SlotState]:
    """Units with room left, straight from the primary key range of one location.

    Quarantined places are held back for the waitlist: to a search they count as booked.
    """
    rows = await conn.fetch(
        """
        select starts_at, window_ends_at, capacity, booked + quarantined as booked from slot
         where location_id = $1 and starts_at >= $2 and starts_at < $3
           and booked + quarantined < capacity
         order by starts_at
        """,
        location_id,
        since,
        until,
    )
    return [SlotState(**dict(row)) for row in rows]
