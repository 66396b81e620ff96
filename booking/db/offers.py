"""Read queries for what citizens may book: active locations, services offered online."""

from __future__ import annotations

import msgspec

from booking.db import Connection


class OfferedService(msgspec.Struct, frozen=True):
    slug: str
    duration_minutes: int


class PublicLocation(msgspec.Struct, frozen=True):
    id: int
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
    requires_confirmation: bool
    services: list[OfferedService]


class PublicService(msgspec.Struct, frozen=True):
    slug: str
    name_de: str
    name_en: str
    description_de: str
    description_en: str
    documents_de: list[str]
    documents_en: list[str]
    duration_minutes: int
    leika_id: str | None
    locations: list[OfferedService]


class SetLocation(msgspec.Struct, frozen=True):
    """A location offering a whole service set, with the set's summed local duration."""

    id: int
    slug: str
    name_de: str
    name_en: str
    street: str
    postal_code: str
    city: str
    email: str
    time_zone: str
    grid_minutes: int
    horizon_days: int
    min_lead_minutes: int
    cancel_deadline_minutes: int
    reminder_minutes: int
    requires_confirmation: bool
    total_minutes: int
    # One id per requested service, repeats included, in ascending order.
    service_ids: list[int]


async def public_locations(conn: Connection) -> list[PublicLocation]:
    rows = await conn.fetch(
        """
        select l.id, l.slug, l.name_de, l.name_en, l.street, l.postal_code, l.city, l.phone,
               l.email, l.time_zone, l.grid_minutes, l.horizon_days, l.min_lead_minutes,
               l.requires_confirmation,
               coalesce(
                   (select jsonb_agg(
                               jsonb_build_object('slug', s.slug, 'duration_minutes',
                                                  coalesce(ls.duration_minutes, s.duration_minutes))
                               order by s.name_de)
                      from location_service ls join service s on s.id = ls.service_id
                     where ls.location_id = l.id and ls.bookable_online and s.active),
                   '[]') as services
          from location l
         where l.active
         order by l.name_de
        """
    )
    return [msgspec.convert(dict(row), PublicLocation) for row in rows]


async def public_services(conn: Connection) -> list[PublicService]:
    rows = await conn.fetch(
        """
        select s.slug, s.name_de, s.name_en, s.description_de, s.description_en,
               s.documents_de, s.documents_en, s.duration_minutes, s.leika_id,
               coalesce(
                   (select jsonb_agg(
                               jsonb_build_object('slug', l.slug, 'duration_minutes',
                                                  coalesce(ls.duration_minutes, s.duration_minutes))
                               order by l.name_de)
                      from location_service ls join location l on l.id = ls.location_id
                     where ls.service_id = s.id and ls.bookable_online and l.active),
                   '[]') as locations
          from service s
         where s.active
         order by s.name_de
        """
    )
    return [msgspec.convert(dict(row), PublicService) for row in rows]


async def known_service_slugs(conn: Connection, slugs: list[str]) -> set[str]:
    rows = await conn.fetch(
        "select slug from service where active and slug = any($1::text[])", slugs
    )
    return {row["slug"] for row in rows}


async def known_location_slugs(conn: Connection, slugs: list[str]) -> set[str]:
    rows = await conn.fetch(
        "select slug from location where active and slug = any($1::text[])", slugs
    )
    return {row["slug"] for row in rows}


async def locations_offering(
    conn: Connection, service_slugs: list[str], location_slugs: list[str] | None
) -> list[SetLocation]:
    """Locations offering every service of the set online; a repeated slug counts twice."""
    rows = await conn.fetch(
        """
        select l.id, l.slug, l.name_de, l.name_en, l.street, l.postal_code, l.city, l.email,
               l.time_zone, l.grid_minutes, l.horizon_days, l.min_lead_minutes,
               l.cancel_deadline_minutes,
               l.reminder_minutes, l.requires_confirmation,
               sum(coalesce(ls.duration_minutes, s.duration_minutes))::int as total_minutes,
               array_agg(s.id order by s.id) as service_ids
          from unnest($1::text[]) as wanted(slug)
          join service s on s.slug = wanted.slug and s.active
          join location_service ls on ls.service_id = s.id and ls.bookable_online
          join location l on l.id = ls.location_id and l.active
         where $2::text[] is null or l.slug = any($2::text[])
         group by l.id
        having count(distinct s.id) = (select count(distinct w) from unnest($1::text[]) as w)
         order by l.name_de
        """,
        service_slugs,
        location_slugs,
    )
    return [SetLocation(**dict(row)) for row in rows]
