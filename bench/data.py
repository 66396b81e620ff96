"""Realistic data for the bench: the demo city plus busy offices with eight weeks of grid,
tens of thousands of booked appointments, a morning's queue and 30 staffed desks (at an
office open all day, so the queue runs whatever the hour of the bench).

Built through the same query modules the service uses; only the bulk rows (appointments,
tickets) are inserted set-wise. Identity columns start at ``FIRST_ID`` so that the pgbench
scripts can tell an id from a count (bench.recording).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, time

import asyncpg

from bench.recording import FIRST_ID
from booking import calendar
from booking.db import catalogue as q
from booking.db import desks as desk_q
from booking.db import devices as device_q
from booking.db import staff as staff_q
from booking.db.catalogue import NewLocation, NewOpeningRule
from booking.demo import SERVICES, seed_demo
from booking.grid import regenerate_all_grids
from booking.tokens import token_hash

SERVICE = "beglaubigung"  # ten minutes: one grid unit, so every booking takes exactly one
DESKS = 12
QUEUE_DESKS = 30
RACE_CAPACITY = 30
HORIZON_DAYS = 56  # eight weeks
_CITIZEN_SERVICES = [s.slug for s in SERVICES if s.queue_prefix in "ABCD"]
_IDENTITY_TABLES = (
    "appointment", "ticket", "outbox", "desk", "staff_user", "api_token", "device",
    "audit_log", "waitlist_entry",
)  # fmt: skip


@dataclass(frozen=True)
class Size:
    offices: int
    fill: float  # share of the grid's places already booked
    tickets: int


FULL = Size(offices=6, fill=0.3, tickets=60_000)
QUICK = Size(offices=4, fill=0.05, tickets=4_000)


@dataclass(frozen=True)
class DeskLogin:
    desk_id: int
    staff_id: int
    token: str


@dataclass
class Loaded:
    book: str  # where wrk books
    pgbench: str  # the same kind of office, where pgbench's transactions book
    race: str
    queue: str
    locations: int = 0
    units: int = 0
    appointments: int = 0
    tickets: int = 0
    desks: list[DeskLogin] = field(default_factory=list)
    display_token: str = ""


def _hours(desks: int) -> list[NewOpeningRule]:
    return [NewOpeningRule(day, time(8), time(18), desks) for day in range(1, 6)]


def _all_day(now: datetime) -> list[NewOpeningRule]:
    """Open all of the bench's day: the worker closes a queue left waiting after hours."""
    weekday = now.astimezone(calendar.zone("Europe/Berlin")).isoweekday()
    return [NewOpeningRule(weekday, time(0), time(23, 50), DESKS)]


async def _office(conn: asyncpg.Connection, slug: str, hours: list[NewOpeningRule]) -> int:
    location_id = await q.insert_location_if_missing(
        conn,
        NewLocation(
            slug=slug, name_de=f"Bürgeramt {slug}", name_en=f"Citizens' office {slug}",
            city="Musterstadt", horizon_days=HORIZON_DAYS,
        ),
    )  # fmt: skip
    assert location_id is not None
    for service in _CITIZEN_SERVICES:
        service_id = await q.service_id(conn, service)
        assert service_id is not None
        await q.offer_service(conn, location_id, service_id, None)
    await q.insert_opening_rules(conn, location_id, hours)
    return location_id


async def _book_existing(conn: asyncpg.Connection, location_ids: list[int], fill: float) -> int:
    """Book about ``fill`` of every unit's places, as citizens would have over the weeks."""
    service_id = await q.service_id(conn, SERVICE)
    count: int = await conn.fetchval(
        """
        with picked as (
            select s.location_id, s.starts_at, row_number() over () as n
              from slot s, generate_series(1, s.capacity) as g(place)
             where s.location_id = any($1::bigint[]) and random() < $2
        ), a as (
            insert into appointment (code, location_id, starts_at, ends_at, citizen_name, email,
                                     manage_token_hash, token_salt, status, service_key,
                                     created_at)
            select 'E' || n, location_id, starts_at, starts_at + interval '10 minutes',
                   'Citizen ' || n, 'citizen' || n || '@example.org', '\\x00', '\\x00',
                   'booked', $3::bigint::text, now() - interval '20 days'
              from picked
            returning id, location_id, starts_at
        ), s as (
            insert into appointment_service (appointment_id, service_id, position)
            select id, $3::bigint, 0 from a
        ), u as (
            update slot set booked = slot.booked + c.n
              from (select location_id, starts_at, count(*) as n from a group by 1, 2) c
             where slot.location_id = c.location_id and slot.starts_at = c.starts_at
        )
        select count(*) from a
        """,
        location_ids, fill, service_id,
    )  # fmt: skip
    return count


async def _staff_desks(
    conn: asyncpg.Connection, location_id: int, now: datetime
) -> list[DeskLogin]:
    service_ids = [await q.service_id(conn, slug) for slug in _CITIZEN_SERVICES]
    logins = []
    for number in range(1, QUEUE_DESKS + 1):
        desk_id = await desk_q.insert_desk(conn, location_id, f"Schalter {number}")
        await desk_q.set_desk_services(conn, desk_id, [s for s in service_ids if s is not None])
        staff_id = await staff_q.insert_account(
            conn,
            staff_q.NewAccount(
                email=f"desk{number}@bench.example", display_name=f"Desk {number}", role="desk"
            ),
        )
        await staff_q.set_locations(conn, staff_id, [location_id])
        token = "bkt_bench" + secrets.token_urlsafe(32)
        await staff_q.insert_api_token(conn, staff_id, "bench", token_hash(token))
        assert await desk_q.sit_at(conn, location_id, desk_id, staff_id, now)
        logins.append(DeskLogin(desk_id, staff_id, token))
    return logins


async def _queue(conn: asyncpg.Connection, location_id: int, now: datetime, tickets: int) -> None:
    """A morning's walk-ins waiting, oldest first, for the certification service."""
    day = now.astimezone(calendar.zone("Europe/Berlin")).date()
    await conn.execute(
        """
        insert into ticket (public_id, location_id, service_id, day, display_code, priority_at,
                            issued_at)
        select 'bench' || n, $1, (select id from service where slug = $2), $3, 'C' || n,
               $4::timestamptz - interval '1 hour' + n * interval '1 millisecond',
               $4::timestamptz - interval '1 hour'
          from generate_series(1, $5) as n
        """,
        location_id, SERVICE, day, now, tickets,
    )  # fmt: skip


async def load(conn: asyncpg.Connection, now: datetime, size: Size) -> Loaded:
    for n, table in enumerate(_IDENTITY_TABLES, 1):
        # A range of ids per table: an id is never mistaken for another table's.
        await conn.execute(f"alter table {table} alter column id restart with {n * FIRST_ID}")
    await seed_demo(conn, now)
    slugs = [f"stadt-{n}" for n in range(1, size.offices + 1)]
    loaded = Loaded(book=slugs[0], pgbench=slugs[1], race=slugs[2], queue=slugs[-1])
    hours = {slug: _hours(DESKS) for slug in slugs}
    hours[loaded.race] = _hours(RACE_CAPACITY)
    hours[loaded.queue] = _all_day(now)
    async with conn.transaction():
        ids = {slug: await _office(conn, slug, hours[slug]) for slug in slugs}
    del ids[loaded.race]
    await regenerate_all_grids(conn, now)
    async with conn.transaction():
        loaded.appointments = await _book_existing(conn, list(ids.values()), size.fill)
        queue_id = ids[loaded.queue]
        loaded.desks = await _staff_desks(conn, queue_id, now)
        await _queue(conn, queue_id, now, size.tickets)
        loaded.tickets = size.tickets
        loaded.display_token = "bkd_bench" + secrets.token_urlsafe(32)
        await device_q.insert_device_if_missing(
            conn, queue_id, "display", "Bench board", token_hash(loaded.display_token)
        )
    loaded.locations = await conn.fetchval("select count(*) from location")
    loaded.units = await conn.fetchval("select count(*) from slot")
    await conn.execute("analyze")
    return loaded


async def free_starts(conn: asyncpg.Connection, slug: str, now: datetime) -> list[datetime]:
    """Every free place of an office from two hours ahead, one round over all units per
    place left, so that concurrent bookers rarely meet on one unit."""
    rows = await conn.fetch(
        """
        select s.starts_at, s.capacity - s.booked - s.quarantined as free
          from slot s join location l on l.id = s.location_id
         where l.slug = $1 and s.starts_at >= $2::timestamptz + interval '2 hours'
           and s.starts_at < $2::timestamptz + make_interval(days => l.horizon_days - 1)
           and s.booked + s.quarantined < s.capacity
         order by s.starts_at
        """,
        slug, now,
    )  # fmt: skip
    most = max((row["free"] for row in rows), default=0)
    return [row["starts_at"] for place in range(most) for row in rows if row["free"] > place]
