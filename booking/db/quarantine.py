"""Queries for capacity held back from the public for the waitlist ("quarantined" places).

A unit's places are booked, quarantined or free; searches and bookings only ever take free
ones (``booked + quarantined < capacity``), and ``slot_quarantine_fits`` backs that up in
the database. Releasing an appointment moves its place from booked to quarantined in one
statement; the waitlist worker moves it on to an offer (booked again) or, after the cooldown,
to free. Every move is one conditional UPDATE under the unit's row lock, so a place is never
handed to two people.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from booking.db import Connection


class OfferableUnit(msgspec.Struct, frozen=True):
    starts_at: datetime
    window_ends_at: datetime
    # A quarantined place the waitlist may have now (not just free room beside it).
    held_back: bool


class HoldingLocation(msgspec.Struct, frozen=True):
    id: int
    slug: str
    time_zone: str
    grid_minutes: int
    allocation_mode: str


class HeldBack(msgspec.Struct, frozen=True):
    location_id: int
    places: int
    first_held_at: datetime | None
    last_held_at: datetime | None


async def anyone_waiting(conn: Connection, location_id: int) -> bool:
    waiting: bool = await conn.fetchval(
        """
        select exists (select 1 from waitlist_entry
                        where status = 'active' and location_ids @> array[$1::bigint])
        """,
        location_id,
    )
    return waiting


async def hold_back(
    conn: Connection, location_id: int, since: datetime, until: datetime, now: datetime
) -> None:
    """Release one place on each unit into quarantine, stamped ``now``.

    A unit kept above its rules for a conflict (``booked + quarantined > rule_capacity``)
    shrinks instead, as a plain release does: that place does not exist in the rules.
    """
    await conn.execute(
        """
        update slot
           set booked = booked - 1,
               quarantined = case when booked + quarantined <= rule_capacity
                                  then quarantined + 1 else quarantined end,
               capacity = case when booked + quarantined <= rule_capacity
                               then capacity else greatest(rule_capacity, booked - 1) end,
               quarantined_at = case when booked + quarantined <= rule_capacity
                                     then $4 else quarantined_at end,
               public_at = case when booked + quarantined <= rule_capacity
                                then null else public_at end
         where location_id = $1 and starts_at >= $2 and starts_at < $3 and booked > 0
        """,
        location_id, since, until, now,
    )  # fmt: skip


async def take_turn(conn: Connection, location_id: int) -> bool:
    """Become the one matcher of a location until the caller's transaction ends.

    Two matchers at once would each skip the entry the other is offering to and so serve
    the list out of order; the second one leaves the location to the first.
    """
    got: bool = await conn.fetchval(
        "select pg_try_advisory_xact_lock(hashtextextended('waitlist-matcher', $1))",
        location_id,
    )
    return got


async def holding_locations(conn: Connection, now: datetime) -> list[HoldingLocation]:
    rows = await conn.fetch(
        """
        select l.id, l.slug, l.time_zone, l.grid_minutes, l.allocation_mode
          from location l
         where exists (select 1 from slot s
                        where s.location_id = l.id and s.quarantined > 0 and s.starts_at > $1)
         order by l.id
        """,
        now,
    )
    return [HoldingLocation(**dict(row)) for row in rows]


async def offerable_units(
    conn: Connection,
    location_id: int,
    since: datetime,
    until: datetime,
    held_before: datetime,
) -> list[OfferableUnit]:
    """Units an offer may use near places quarantined before ``held_before``.

    Windows never cross midnight, so a day either side of each such place is all an offer
    containing it can touch.
    """
    rows = await conn.fetch(
        """
        select s.starts_at, s.window_ends_at,
               (s.quarantined > 0 and s.quarantined_at <= $4) as held_back
          from slot s
         where s.location_id = $1 and s.starts_at >= $2 and s.starts_at < $3
           and ((s.quarantined > 0 and s.quarantined_at <= $4)
                or s.booked + s.quarantined < s.capacity)
           and exists (select 1 from slot q
                        where q.location_id = $1 and q.quarantined > 0 and q.quarantined_at <= $4
                          and q.starts_at > s.starts_at - interval '1 day'
                          and q.starts_at < s.starts_at + interval '1 day')
         order by s.starts_at
        """,
        location_id, since, until, held_before,
    )  # fmt: skip
    return [OfferableUnit(**dict(row)) for row in rows]


async def take_for_offer(
    conn: Connection, location_id: int, since: datetime, until: datetime, held_before: datetime
) -> int:
    """Take one place per unit for an offer, a quarantined one where there is one.

    The caller compares the count with the units it needed, as a booking does.
    """
    status = await conn.execute(
        """
        update slot
           set booked = booked + 1,
               quarantined = case when quarantined > 0 and quarantined_at <= $4
                                  then quarantined - 1 else quarantined end,
               quarantined_at = case when quarantined = 1 and quarantined_at <= $4
                                     then null else quarantined_at end,
               public_at = case when quarantined = 1 and quarantined_at <= $4
                                then null else public_at end
         where location_id = $1 and starts_at >= $2 and starts_at < $3
           and ((quarantined > 0 and quarantined_at <= $4) or booked + quarantined < capacity)
        """,
        location_id, since, until, held_before,
    )  # fmt: skip
    return int(status.split()[-1])


async def draw_public_moments(conn: Connection, cooldown: timedelta, window: timedelta) -> int:
    """Give each newly quarantined unit its random moment after the cooldown.

    Units locked right then are left for the next run (never waited for: no deadlock with
    bookings); the moment counts from ``quarantined_at`` either way.
    """
    status = await conn.execute(
        """
        update slot s
           set public_at = s.quarantined_at + $1::interval + random() * $2::interval
          from (select location_id, starts_at from slot
                 where quarantined > 0 and public_at is null
                   for update skip locked) new
         where s.location_id = new.location_id and s.starts_at = new.starts_at
        """,
        cooldown, window,
    )  # fmt: skip
    return int(status.split()[-1])


async def release_due(conn: Connection, now: datetime) -> int:
    """Free the places whose moment has come (or whose time has passed).

    A unit locked by a booking or a regeneration is skipped, never waited for (no deadlock
    with them), and released by the next run a quarter minute later.
    """
    released: int = await conn.fetchval(
        """
        with due as (
            select location_id, starts_at from slot
             where quarantined > 0 and (public_at <= $1 or starts_at <= $1)
               for update skip locked
        ), freed as (
            update slot s set quarantined = 0, quarantined_at = null, public_at = null
              from due
             where s.location_id = due.location_id and s.starts_at = due.starts_at
            returning 1
        )
        select count(*) from freed
        """,
        now,
    )
    return released


async def held_back(conn: Connection, now: datetime) -> list[HeldBack]:
    """Quarantined places still ahead, per location, and when the first and last were freed."""
    rows = await conn.fetch(
        """
        select location_id, sum(quarantined)::int as places,
               min(quarantined_at) as first_held_at, max(quarantined_at) as last_held_at
          from slot
         where quarantined > 0 and starts_at > $1
         group by location_id
        """,
        now,
    )
    return [HeldBack(**dict(row)) for row in rows]
