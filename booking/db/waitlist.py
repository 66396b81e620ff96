"""Queries for waitlist entries: joining, confirming, leaving, matching, and their figures.

Emails are stored lower-case (a check constraint), so one address is one address. An entry
that ends blanks its contact data at once: an offer appointment keeps its own copy under the
normal retention, and nothing else needs it.
"""

from __future__ import annotations

from datetime import date, datetime, time

import asyncpg
import msgspec

from booking.db import Connection


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    public_id: str
    email: str | None
    citizen_name: str | None
    language: str
    # Repeats included, ascending, like ``SetLocation.service_ids``.
    service_ids: list[int]
    location_ids: list[int]
    earliest_day: date
    latest_day: date
    weekdays: list[int]
    time_from: time | None
    time_until: time | None
    status: str
    manage_token_hash: bytes
    confirm_token_hash: bytes | None
    token_salt: bytes
    confirm_until: datetime | None


class NewEntry(msgspec.Struct, frozen=True, kw_only=True):
    public_id: str
    email: str
    citizen_name: str | None
    language: str
    service_ids: list[int]
    location_ids: list[int]
    earliest_day: date
    latest_day: date
    weekdays: list[int]
    time_from: time | None
    time_until: time | None
    manage_token_hash: bytes
    confirm_token_hash: bytes
    token_salt: bytes
    confirm_until: datetime


class Named(msgspec.Struct, frozen=True):
    slug: str
    name_de: str
    name_en: str


class Place(Named, frozen=True):
    time_zone: str


class EmailEntries(msgspec.Struct, frozen=True):
    waiting: int  # confirmed: active or with an open offer
    unconfirmed: int


class LocationWaiting(msgspec.Struct, frozen=True):
    id: int
    slug: str
    name_de: str
    name_en: str
    allocation_mode: str
    waiting: int


class Figures(msgspec.Struct, frozen=True):
    waiting: int
    offers_open: int
    accepted: int
    declined: int
    lapsed: int


class ServiceFigures(Figures, frozen=True, kw_only=True):
    slug: str
    name_de: str
    name_en: str


_ENTRY_COLUMNS = """
    id, public_id, email, citizen_name, language, service_ids, location_ids, earliest_day,
    latest_day, weekdays, time_from, time_until, status, manage_token_hash, confirm_token_hash,
    token_salt, confirm_until
"""


def _entry(row: asyncpg.Record) -> Entry:
    return Entry(**dict(row))


async def insert_entry(conn: Connection, new: NewEntry) -> Entry:
    row = await conn.fetchrow(
        f"""
        insert into waitlist_entry (public_id, email, citizen_name, language, service_ids,
                                    location_ids, earliest_day, latest_day, weekdays, time_from,
                                    time_until, manage_token_hash, confirm_token_hash,
                                    token_salt, confirm_until)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        returning {_ENTRY_COLUMNS}
        """,  # noqa: S608 - column list is a constant
        new.public_id, new.email, new.citizen_name, new.language, new.service_ids,
        new.location_ids, new.earliest_day, new.latest_day, new.weekdays, new.time_from,
        new.time_until, new.manage_token_hash, new.confirm_token_hash, new.token_salt,
        new.confirm_until,
    )  # fmt: skip
    assert row is not None
    return _entry(row)


async def entry_by_public_id(
    conn: Connection, public_id: str, *, for_update: bool = False
) -> Entry | None:
    query = (
        f"select {_ENTRY_COLUMNS} from waitlist_entry where public_id = $1 for update"  # noqa: S608
        if for_update
        else f"select {_ENTRY_COLUMNS} from waitlist_entry where public_id = $1"  # noqa: S608
    )
    row = await conn.fetchrow(query, public_id)
    return None if row is None else _entry(row)


async def entry_by_id(conn: Connection, entry_id: int) -> Entry | None:
    row = await conn.fetchrow(
        f"select {_ENTRY_COLUMNS} from waitlist_entry where id = $1",  # noqa: S608
        entry_id,
    )
    return None if row is None else _entry(row)


async def lock_waiting_entry(conn: Connection, entry_id: int) -> bool:
    """Lock an entry that is still waiting; False when it is not, or another worker has it."""
    found = await conn.fetchval(
        "select true from waitlist_entry where id = $1 and status = 'active'"
        " for update skip locked",
        entry_id,
    )
    return bool(found)


async def entries_of_email(conn: Connection, email: str) -> EmailEntries:
    row = await conn.fetchrow(
        """
        select count(*) filter (where status in ('active', 'offered'))::int as waiting,
               count(*) filter (where status = 'pending')::int as unconfirmed
          from waitlist_entry
         where email = $1 and status in ('pending', 'active', 'offered')
        """,
        email,
    )
    assert row is not None
    return EmailEntries(**dict(row))


async def set_status(conn: Connection, entry_id: int, status: str, *, was: str) -> bool:
    """Move an entry on from status ``was``; False when it had moved on already."""
    result = await conn.execute(
        """
        update waitlist_entry set status = $2, confirm_until = null
         where id = $1 and status = $3
        """,
        entry_id, status, was,
    )  # fmt: skip
    return result.endswith(" 1")


async def end_entry(conn: Connection, entry_id: int, status: str, *, was: tuple[str, ...]) -> bool:
    """End an entry in one of the ``was`` states and blank its contact data."""
    result = await conn.execute(
        """
        update waitlist_entry
           set status = $2, confirm_until = null, email = null, citizen_name = null,
               personal_data_erased_at = now()
         where id = $1 and status = any($3::text[])
        """,
        entry_id, status, list(was),
    )  # fmt: skip
    return result.endswith(" 1")


async def expire_stale(conn: Connection, now: datetime, today: date) -> int:
    """Unconfirmed entries past their window and waiting ones past their last day lapse.

    Entries busy right then (being confirmed, offered to) are left for the next run.
    """
    expired: int = await conn.fetchval(
        """
        with gone as (
            update waitlist_entry w
               set status = 'expired', confirm_until = null, email = null,
                   citizen_name = null, personal_data_erased_at = now()
              from (select id from waitlist_entry
                     where (status = 'pending' and confirm_until <= $1)
                        or (status = 'active' and latest_day < $2)
                       for update skip locked) stale
             where w.id = stale.id
            returning 1
        )
        select count(*) from gone
        """,
        now, today,
    )  # fmt: skip
    return expired


async def waiting_entries(
    conn: Connection, location_id: int, first_day: date, last_day: date
) -> list[Entry]:
    """Entries waiting for this location within the days, first come first."""
    rows = await conn.fetch(
        f"""
        select {_ENTRY_COLUMNS} from waitlist_entry
         where status = 'active' and location_ids @> array[$1::bigint]
           and latest_day >= $2 and earliest_day <= $3
         order by created_at, id
        """,  # noqa: S608
        location_id, first_day, last_day,
    )  # fmt: skip
    return [_entry(row) for row in rows]


async def open_offer_code(conn: Connection, entry_id: int) -> str | None:
    code: str | None = await conn.fetchval(
        "select code from appointment where waitlist_entry_id = $1 and status = 'pending'",
        entry_id,
    )
    return code


async def services_by_ids(conn: Connection, service_ids: list[int]) -> list[Named]:
    """In the given order, repeats included."""
    rows = await conn.fetch(
        """
        select s.slug, s.name_de, s.name_en
          from unnest($1::bigint[]) with ordinality as wanted(id, n)
          join service s on s.id = wanted.id
         order by wanted.n
        """,
        service_ids,
    )
    return [Named(**dict(row)) for row in rows]


async def locations_by_ids(conn: Connection, location_ids: list[int]) -> list[Place]:
    rows = await conn.fetch(
        """
        select l.slug, l.name_de, l.name_en, l.time_zone
          from unnest($1::bigint[]) with ordinality as wanted(id, n)
          join location l on l.id = wanted.id
         order by wanted.n
        """,
        location_ids,
    )
    return [Place(**dict(row)) for row in rows]


async def insert_message(conn: Connection, kind: str, entry_id: int, message_id: str) -> None:
    await conn.execute(
        "insert into outbox (kind, waitlist_entry_id, message_id) values ($1, $2, $3)",
        kind, entry_id, message_id,
    )  # fmt: skip


async def waiting_per_location(conn: Connection) -> list[LocationWaiting]:
    rows = await conn.fetch(
        """
        select l.id, l.slug, l.name_de, l.name_en, l.allocation_mode,
               (select count(*) from waitlist_entry w
                 where w.status = 'active' and w.location_ids @> array[l.id])::int as waiting
          from location l
         where l.active
         order by l.name_de
        """
    )
    return [LocationWaiting(**dict(row)) for row in rows]


async def service_figures(conn: Connection, location_id: int) -> list[ServiceFigures]:
    """Per service offered online here: who waits, and what became of the offers made here.

    An entry gets one offer in its life, so the entry's status is the offer's outcome.
    """
    rows = await conn.fetch(
        """
        with offer as (
            select x.service_id, w.status
              from appointment a
              join waitlist_entry w on w.id = a.waitlist_entry_id
              join appointment_service x on x.appointment_id = a.id
             where a.waitlist_entry_id is not null and a.location_id = $1
        )
        select s.slug, s.name_de, s.name_en,
               (select count(*) from waitlist_entry w
                 where w.status = 'active' and w.location_ids @> array[$1::bigint]
                   and w.service_ids @> array[s.id])::int as waiting,
               count(o.status) filter (where o.status = 'offered')::int as offers_open,
               count(o.status) filter (where o.status = 'fulfilled')::int as accepted,
               count(o.status) filter (where o.status = 'cancelled')::int as declined,
               count(o.status) filter (where o.status = 'expired')::int as lapsed
          from location_service ls
          join service s on s.id = ls.service_id
          left join offer o on o.service_id = s.id
         where ls.location_id = $1 and ls.bookable_online
         group by s.id
         order by s.name_de
        """,
        location_id,
    )
    return [ServiceFigures(**dict(row)) for row in rows]


async def location_figures(conn: Connection, location_id: int) -> Figures:
    row = await conn.fetchrow(
        """
        select (select count(*) from waitlist_entry
                 where status = 'active' and location_ids @> array[$1::bigint])::int as waiting,
               count(*) filter (where w.status = 'offered')::int as offers_open,
               count(*) filter (where w.status = 'fulfilled')::int as accepted,
               count(*) filter (where w.status = 'cancelled')::int as declined,
               count(*) filter (where w.status = 'expired')::int as lapsed
          from appointment a join waitlist_entry w on w.id = a.waitlist_entry_id
         where a.waitlist_entry_id is not null and a.location_id = $1
        """,
        location_id,
    )
    assert row is not None
    return Figures(**dict(row))
