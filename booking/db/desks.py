"""Queries for desks: the services each serves, who sits at it, and the queue's services.

A desk is taken by choosing it: the chooser leaves any other desk first, and a desk somebody
else sat at changes hands (shifts change at the counter, not in an admin screen).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from booking.db import Connection


class Desk(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    location_id: int
    name: str
    active: bool
    service_ids: list[int]
    services: list[str]  # slugs, in the order of service_ids
    staff_user_id: int | None
    staffed_by: str | None  # the staff member's display name
    staffed_at: datetime | None


class QueueService(msgspec.Struct, frozen=True, kw_only=True):
    """A service a location offers, with the number of its active desks that serve it."""

    id: int
    slug: str
    name_de: str
    name_en: str
    queue_prefix: str
    desks: int


# Column lists are constants, never built from input; the f-strings below only join them.
_DESK = """
    select d.id, d.location_id, d.name, d.active,
           coalesce(array_agg(s.id order by s.slug) filter (where s.id is not null),
                    '{}') as service_ids,
           coalesce(array_agg(s.slug order by s.slug) filter (where s.id is not null),
                    '{}') as services,
           d.staff_user_id, u.display_name as staffed_by, d.staffed_at
      from desk d
      left join desk_service x on x.desk_id = d.id
      left join service s on s.id = x.service_id
      left join staff_user u on u.id = d.staff_user_id
"""
_GROUP = " group by d.id, u.display_name"


async def desks_at(conn: Connection, location_id: int) -> list[Desk]:
    rows = await conn.fetch(
        f"{_DESK} where d.location_id = $1 {_GROUP} order by d.name",
        location_id,
    )
    return [Desk(**dict(row)) for row in rows]


async def desk_at(conn: Connection, location_id: int, desk_id: int) -> Desk | None:
    row = await conn.fetchrow(
        f"{_DESK} where d.location_id = $1 and d.id = $2 {_GROUP}",
        location_id,
        desk_id,
    )
    return None if row is None else Desk(**dict(row))


async def staffed_desk(conn: Connection, location_id: int, staff_user_id: int) -> Desk | None:
    """The active desk at this location where the staff member sits, if any."""
    row = await conn.fetchrow(
        f"""{_DESK} where d.location_id = $1 and d.staff_user_id = $2 and d.active
        {_GROUP}""",
        location_id,
        staff_user_id,
    )
    return None if row is None else Desk(**dict(row))


async def insert_desk(conn: Connection, location_id: int, name: str) -> int:
    desk_id: int = await conn.fetchval(
        "insert into desk (location_id, name) values ($1, $2) returning id", location_id, name
    )
    return desk_id


async def update_desk(
    conn: Connection, location_id: int, desk_id: int, name: str, active: bool
) -> bool:
    """False when the location has no such desk; an inactive desk is nobody's any more."""
    status = await conn.execute(
        """
        update desk
           set name = $3, active = $4,
               staff_user_id = case when $4 then staff_user_id end,
               staffed_at = case when $4 then staffed_at end
         where id = $2 and location_id = $1
        """,
        location_id, desk_id, name, active,
    )  # fmt: skip
    return status.endswith(" 1")


async def set_desk_services(conn: Connection, desk_id: int, service_ids: list[int]) -> None:
    await conn.execute(
        "delete from desk_service where desk_id = $1 and service_id <> all($2::bigint[])",
        desk_id,
        service_ids,
    )
    await conn.execute(
        """
        insert into desk_service (desk_id, service_id)
        select $1, unnest($2::bigint[])
        on conflict do nothing
        """,
        desk_id,
        service_ids,
    )


async def leave_desks(conn: Connection, staff_user_id: int) -> None:
    await conn.execute(
        "update desk set staff_user_id = null, staffed_at = null where staff_user_id = $1",
        staff_user_id,
    )


async def sit_at(
    conn: Connection, location_id: int, desk_id: int, staff_user_id: int, now: datetime
) -> bool:
    """Take the desk (after ``leave_desks``); False when there is no such active desk."""
    status = await conn.execute(
        """
        update desk set staff_user_id = $3, staffed_at = $4
         where id = $2 and location_id = $1 and active
        """,
        location_id, desk_id, staff_user_id, now,
    )  # fmt: skip
    return status.endswith(" 1")


async def queue_services(conn: Connection, location_id: int) -> list[QueueService]:
    """Active services the location offers, by prefix and name, with desks serving them."""
    rows = await conn.fetch(
        """
        select s.id, s.slug, s.name_de, s.name_en, s.queue_prefix,
               (select count(*) from desk_service x join desk d on d.id = x.desk_id
                 where x.service_id = s.id and d.location_id = ls.location_id and d.active
               )::int as desks
          from location_service ls join service s on s.id = ls.service_id
         where ls.location_id = $1 and s.active
         order by s.queue_prefix, s.name_de
        """,
        location_id,
    )
    return [QueueService(**dict(row)) for row in rows]
