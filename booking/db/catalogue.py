"""Queries for locations, services, opening rules and closures."""

from __future__ import annotations

from datetime import date, time

import msgspec

from booking.db import Connection


class NewLocation(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name_de: str
    name_en: str
    street: str
    postal_code: str
    city: str
    phone: str = ""
    email: str = ""
    time_zone: str = "Europe/Berlin"
    grid_minutes: int = 10
    horizon_days: int = 60
    min_lead_minutes: int = 60
    requires_confirmation: bool = False


class NewService(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name_de: str
    name_en: str
    description_de: str
    description_en: str
    documents_de: list[str]
    documents_en: list[str]
    duration_minutes: int
    queue_prefix: str


class NewOpeningRule(msgspec.Struct, frozen=True):
    weekday: int
    opens_at: time
    closes_at: time
    desks: int


class NewClosure(msgspec.Struct, frozen=True):
    first_day: date
    last_day: date
    reason_de: str
    reason_en: str


async def insert_location_if_missing(conn: Connection, loc: NewLocation) -> int | None:
    """The new location's id, or None when the slug exists already."""
    location_id: int | None = await conn.fetchval(
        """
        insert into location (slug, name_de, name_en, street, postal_code, city, phone, email,
                              time_zone, grid_minutes, horizon_days, min_lead_minutes,
                              requires_confirmation)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        on conflict (slug) do nothing
        returning id
        """,
        loc.slug, loc.name_de, loc.name_en, loc.street, loc.postal_code, loc.city, loc.phone,
        loc.email, loc.time_zone, loc.grid_minutes, loc.horizon_days, loc.min_lead_minutes,
        loc.requires_confirmation,
    )  # fmt: skip
    return location_id


async def upsert_service(conn: Connection, svc: NewService) -> int:
    service_id: int = await conn.fetchval(
        """
        insert into service (slug, name_de, name_en, description_de, description_en,
                             documents_de, documents_en, duration_minutes, queue_prefix)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        on conflict (slug) do update set slug = excluded.slug
        returning id
        """,
        svc.slug, svc.name_de, svc.name_en, svc.description_de, svc.description_en,
        svc.documents_de, svc.documents_en, svc.duration_minutes, svc.queue_prefix,
    )  # fmt: skip
    return service_id


async def offer_service(
    conn: Connection, location_id: int, service_id: int, duration_minutes: int | None
) -> None:
    await conn.execute(
        """
        insert into location_service (location_id, service_id, duration_minutes)
        values ($1, $2, $3)
        on conflict (location_id, service_id) do nothing
        """,
        location_id, service_id, duration_minutes,
    )  # fmt: skip


async def insert_opening_rules(
    conn: Connection, location_id: int, rules: list[NewOpeningRule]
) -> None:
    await conn.executemany(
        """
        insert into opening_rule (location_id, weekday, opens_at, closes_at, desks)
        values ($1, $2, $3, $4, $5)
        """,
        [(location_id, r.weekday, r.opens_at, r.closes_at, r.desks) for r in rules],
    )


async def insert_closures(conn: Connection, location_id: int, closures: list[NewClosure]) -> None:
    await conn.executemany(
        """
        insert into closure (location_id, first_day, last_day, reason_de, reason_en)
        values ($1, $2, $3, $4, $5)
        """,
        [(location_id, c.first_day, c.last_day, c.reason_de, c.reason_en) for c in closures],
    )


async def count_catalogue(conn: Connection) -> tuple[int, int]:
    row = await conn.fetchrow(
        "select (select count(*) from location), (select count(*) from service)"
    )
    assert row is not None
    return int(row[0]), int(row[1])
