"""Queries for locations, services, opening rules and closures.

The ``New*`` structs carry the editable columns with the schema's defaults; the row structs
add what the database assigns. Inserts and updates share one column list per table, so a
column added later cannot be forgotten in one of them.
"""

from __future__ import annotations

from datetime import date, datetime, time

import msgspec

from booking.db import Connection


class NewLocation(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name_de: str
    name_en: str
    street: str = ""
    postal_code: str = ""
    city: str = ""
    phone: str = ""
    email: str = ""
    time_zone: str = "Europe/Berlin"
    grid_minutes: int = 10
    horizon_days: int = 60
    min_lead_minutes: int = 60
    cancel_deadline_minutes: int = 1440
    requires_confirmation: bool = False
    reminder_minutes: int = 1440
    allocation_mode: str = "fcfs"
    active: bool = True


class Location(NewLocation, frozen=True, kw_only=True):
    id: int
    created_at: datetime


class NewService(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name_de: str
    name_en: str
    description_de: str = ""
    description_en: str = ""
    documents_de: list[str] = msgspec.field(default_factory=list)
    documents_en: list[str] = msgspec.field(default_factory=list)
    duration_minutes: int
    leika_id: str | None = None
    queue_prefix: str = "A"
    active: bool = True


class Service(NewService, frozen=True, kw_only=True):
    id: int
    created_at: datetime


class LocationService(msgspec.Struct, frozen=True):
    """A service as one location offers it; ``duration_minutes`` is None for the default."""

    service_slug: str
    duration_minutes: int | None
    default_duration_minutes: int
    bookable_online: bool


class NewOpeningRule(msgspec.Struct, frozen=True):
    weekday: int
    opens_at: time
    closes_at: time
    desks: int
    valid_from: date = date(2000, 1, 1)  # the schema's "always"
    valid_until: date | None = None


class OpeningRule(NewOpeningRule, frozen=True, kw_only=True):
    id: int


class NewClosure(msgspec.Struct, frozen=True):
    first_day: date
    last_day: date
    reason_de: str = ""
    reason_en: str = ""


class Closure(NewClosure, frozen=True, kw_only=True):
    id: int


# Column lists are constants, never built from input; the f-strings below only join them.
_LOCATION_FIELDS = """slug, name_de, name_en, street, postal_code, city, phone, email, time_zone,
    grid_minutes, horizon_days, min_lead_minutes, cancel_deadline_minutes, requires_confirmation,
    reminder_minutes, allocation_mode, active"""
_LOCATION_COLUMNS = f"id, {_LOCATION_FIELDS}, created_at"
_LOCATION_VALUES = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17"
_INSERT_LOCATION = f"insert into location ({_LOCATION_FIELDS}) values ({_LOCATION_VALUES})"  # noqa: S608

_SERVICE_FIELDS = """slug, name_de, name_en, description_de, description_en, documents_de,
    documents_en, duration_minutes, leika_id, queue_prefix, active"""
_SERVICE_COLUMNS = f"id, {_SERVICE_FIELDS}, created_at"
_SERVICE_VALUES = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11"
_INSERT_SERVICE = f"insert into service ({_SERVICE_FIELDS}) values ({_SERVICE_VALUES})"  # noqa: S608

_OFFER_COLUMNS = """s.slug as service_slug, ls.duration_minutes,
    s.duration_minutes as default_duration_minutes, ls.bookable_online"""
_RULE_COLUMNS = "id, weekday, opens_at, closes_at, desks, valid_from, valid_until"
_CLOSURE_COLUMNS = "id, first_day, last_day, reason_de, reason_en"


def _location_values(loc: NewLocation) -> tuple[object, ...]:
    """The values of ``_LOCATION_FIELDS``, in that order."""
    return (
        loc.slug, loc.name_de, loc.name_en, loc.street, loc.postal_code, loc.city, loc.phone,
        loc.email, loc.time_zone, loc.grid_minutes, loc.horizon_days, loc.min_lead_minutes,
        loc.cancel_deadline_minutes, loc.requires_confirmation, loc.reminder_minutes,
        loc.allocation_mode, loc.active,
    )  # fmt: skip


def _service_values(svc: NewService) -> tuple[object, ...]:
    """The values of ``_SERVICE_FIELDS``, in that order."""
    return (
        svc.slug, svc.name_de, svc.name_en, svc.description_de, svc.description_en,
        svc.documents_de, svc.documents_en, svc.duration_minutes, svc.leika_id,
        svc.queue_prefix, svc.active,
    )  # fmt: skip


# Locations


async def insert_location(conn: Connection, loc: NewLocation) -> Location:
    """A duplicate slug raises ``location_slug_key``, which the API reports as a conflict."""
    row = await conn.fetchrow(
        f"{_INSERT_LOCATION} returning {_LOCATION_COLUMNS}", *_location_values(loc)
    )
    assert row is not None
    return Location(**dict(row))


async def insert_location_if_missing(conn: Connection, loc: NewLocation) -> int | None:
    """The new location's id, or None when the slug exists already."""
    location_id: int | None = await conn.fetchval(
        f"{_INSERT_LOCATION} on conflict (slug) do nothing returning id", *_location_values(loc)
    )
    return location_id


async def all_locations(conn: Connection) -> list[Location]:
    rows = await conn.fetch(
        f"select {_LOCATION_COLUMNS} from location order by slug"  # noqa: S608
    )
    return [Location(**dict(row)) for row in rows]


async def location_by_slug(conn: Connection, slug: str) -> Location | None:
    row = await conn.fetchrow(
        f"select {_LOCATION_COLUMNS} from location where slug = $1",  # noqa: S608
        slug,
    )
    return None if row is None else Location(**dict(row))


async def lock_location(conn: Connection, slug: str) -> Location | None:
    """Lock the row so that concurrent edits of one location's hours are checked one by one."""
    row = await conn.fetchrow(
        f"select {_LOCATION_COLUMNS} from location where slug = $1 for update",  # noqa: S608
        slug,
    )
    return None if row is None else Location(**dict(row))


async def update_location(conn: Connection, loc: Location) -> Location:
    row = await conn.fetchrow(
        f"""
        update location set ({_LOCATION_FIELDS}) = ({_LOCATION_VALUES})
         where id = $18
        returning {_LOCATION_COLUMNS}
        """,  # noqa: S608
        *_location_values(loc),
        loc.id,
    )
    assert row is not None
    return Location(**dict(row))


# Services


async def insert_service(conn: Connection, svc: NewService) -> Service:
    """A duplicate slug raises ``service_slug_key``, which the API reports as a conflict."""
    row = await conn.fetchrow(
        f"{_INSERT_SERVICE} returning {_SERVICE_COLUMNS}", *_service_values(svc)
    )
    assert row is not None
    return Service(**dict(row))


async def upsert_service(conn: Connection, svc: NewService) -> int:
    """The id of the service with this slug, inserted if missing and otherwise left unchanged."""
    service_id: int = await conn.fetchval(
        f"{_INSERT_SERVICE} on conflict (slug) do update set slug = excluded.slug returning id",
        *_service_values(svc),
    )
    return service_id


async def all_services(conn: Connection) -> list[Service]:
    rows = await conn.fetch(f"select {_SERVICE_COLUMNS} from service order by slug")  # noqa: S608
    return [Service(**dict(row)) for row in rows]


async def lock_service(conn: Connection, slug: str) -> Service | None:
    # "no key update" leaves bookings free to reference the service meanwhile.
    row = await conn.fetchrow(
        f"select {_SERVICE_COLUMNS} from service where slug = $1 for no key update",  # noqa: S608
        slug,
    )
    return None if row is None else Service(**dict(row))


async def update_service(conn: Connection, svc: Service) -> Service:
    row = await conn.fetchrow(
        f"""
        update service set ({_SERVICE_FIELDS}) = ({_SERVICE_VALUES})
         where id = $12
        returning {_SERVICE_COLUMNS}
        """,  # noqa: S608
        *_service_values(svc),
        svc.id,
    )
    assert row is not None
    return Service(**dict(row))


async def service_id(conn: Connection, slug: str) -> int | None:
    found: int | None = await conn.fetchval("select id from service where slug = $1", slug)
    return found


# Which location offers which service


async def set_location_service(
    conn: Connection,
    location_id: int,
    service_id: int,
    duration_minutes: int | None,
    bookable_online: bool,
) -> LocationService:
    row = await conn.fetchrow(
        f"""
        with ls as (
            insert into location_service
                   (location_id, service_id, duration_minutes, bookable_online)
            values ($1, $2, $3, $4)
            on conflict (location_id, service_id) do update
               set duration_minutes = excluded.duration_minutes,
                   bookable_online = excluded.bookable_online
            returning service_id, duration_minutes, bookable_online
        )
        select {_OFFER_COLUMNS}
          from ls join service s on s.id = ls.service_id
        """,  # noqa: S608
        location_id, service_id, duration_minutes, bookable_online,
    )  # fmt: skip
    assert row is not None
    return LocationService(**dict(row))


async def offer_service(
    conn: Connection, location_id: int, service_id: int, duration_minutes: int | None
) -> None:
    await set_location_service(conn, location_id, service_id, duration_minutes, True)


async def location_services(conn: Connection, location_id: int) -> list[LocationService]:
    rows = await conn.fetch(
        f"""
        select {_OFFER_COLUMNS}
          from location_service ls join service s on s.id = ls.service_id
         where ls.location_id = $1
         order by s.slug
        """,  # noqa: S608
        location_id,
    )
    return [LocationService(**dict(row)) for row in rows]


async def delete_location_service(conn: Connection, location_id: int, service_id: int) -> bool:
    deleted = await conn.fetchval(
        """
        delete from location_service where location_id = $1 and service_id = $2
        returning true
        """,
        location_id,
        service_id,
    )
    return bool(deleted)


# Opening rules


async def insert_opening_rules(
    conn: Connection, location_id: int, rules: list[NewOpeningRule]
) -> list[OpeningRule]:
    rows = await conn.fetch(
        f"""
        insert into opening_rule
               (location_id, weekday, opens_at, closes_at, desks, valid_from, valid_until)
        select $1, r.weekday, r.opens_at, r.closes_at, r.desks, r.valid_from, r.valid_until
          from unnest($2::smallint[], $3::time[], $4::time[], $5::int[], $6::date[], $7::date[])
               with ordinality as r(weekday, opens_at, closes_at, desks, valid_from, valid_until, n)
         order by r.n
        returning {_RULE_COLUMNS}
        """,  # noqa: S608
        location_id,
        [r.weekday for r in rules],
        [r.opens_at for r in rules],
        [r.closes_at for r in rules],
        [r.desks for r in rules],
        [r.valid_from for r in rules],
        [r.valid_until for r in rules],
    )
    return [OpeningRule(**dict(row)) for row in rows]


async def opening_rules(conn: Connection, location_id: int) -> list[OpeningRule]:
    rows = await conn.fetch(
        f"""
        select {_RULE_COLUMNS} from opening_rule
         where location_id = $1
         order by weekday, opens_at, valid_from, id
        """,  # noqa: S608
        location_id,
    )
    return [OpeningRule(**dict(row)) for row in rows]


async def delete_opening_rule(conn: Connection, location_id: int, rule_id: int) -> bool:
    deleted = await conn.fetchval(
        "delete from opening_rule where location_id = $1 and id = $2 returning true",
        location_id,
        rule_id,
    )
    return bool(deleted)


async def delete_opening_rules(conn: Connection, location_id: int) -> None:
    await conn.execute("delete from opening_rule where location_id = $1", location_id)


# Closures


async def insert_closures(
    conn: Connection, location_id: int, closures: list[NewClosure]
) -> list[Closure]:
    rows = await conn.fetch(
        f"""
        insert into closure (location_id, first_day, last_day, reason_de, reason_en)
        select $1, c.first_day, c.last_day, c.reason_de, c.reason_en
          from unnest($2::date[], $3::date[], $4::text[], $5::text[])
               with ordinality as c(first_day, last_day, reason_de, reason_en, n)
         order by c.n
        returning {_CLOSURE_COLUMNS}
        """,  # noqa: S608
        location_id,
        [c.first_day for c in closures],
        [c.last_day for c in closures],
        [c.reason_de for c in closures],
        [c.reason_en for c in closures],
    )
    return [Closure(**dict(row)) for row in rows]


async def closures(conn: Connection, location_id: int) -> list[Closure]:
    rows = await conn.fetch(
        f"""
        select {_CLOSURE_COLUMNS} from closure
         where location_id = $1
         order by first_day, id
        """,  # noqa: S608
        location_id,
    )
    return [Closure(**dict(row)) for row in rows]


async def delete_closure(conn: Connection, location_id: int, closure_id: int) -> bool:
    deleted = await conn.fetchval(
        "delete from closure where location_id = $1 and id = $2 returning true",
        location_id,
        closure_id,
    )
    return bool(deleted)


async def count_catalogue(conn: Connection) -> tuple[int, int]:
    row = await conn.fetchrow(
        "select (select count(*) from location), (select count(*) from service)"
    )
    assert row is not None
    return int(row[0]), int(row[1])
