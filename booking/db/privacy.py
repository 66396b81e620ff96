"""Queries that erase citizens' personal data once it is no longer needed (invariant 7), and
that find, export and erase one citizen's data on request (DSGVO Art. 15 and 17).

Personal data means the name, email address and phone number a citizen typed, wherever
they ended up: appointments, tickets (the name of a checked-in appointment, the call-ahead
address), waitlist entries, the SMTP reasons kept with failed messages (a server may quote
the address) and the answers kept for Idempotency-Key replays. Statuses, times and counts
stay, so statistics survive.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from booking.db import Connection


class ErasedCounts(msgspec.Struct, frozen=True):
    appointments: int
    tickets: int
    waitlist_entries: int


async def erase_personal_data_before(conn: Connection, days: int) -> ErasedCounts:
    """Blank name, email and phone of everything that ended more than ``days`` days ago."""
    appointments = await conn.fetchval(
        """
        with erased as (
            update appointment
               set citizen_name = null, email = null, phone = null,
                   personal_data_erased_at = now()
             where personal_data_erased_at is null
               and ends_at < now() - make_interval(days => $1)
            returning id
        ), reasons as (
            update outbox set last_error = null
             where appointment_id in (select id from erased) and last_error is not null
        )
        select count(*) from erased
        """,
        days,
    )
    tickets = await conn.fetchval(
        """
        with erased as (
            update ticket
               set citizen_name = null, email = null, personal_data_erased_at = now()
             where personal_data_erased_at is null
               and issued_at < now() - make_interval(days => $1 + 1)
            returning id
        ), reasons as (
            update outbox set last_error = null
             where ticket_id in (select id from erased) and last_error is not null
        )
        select count(*) from erased
        """,
        days,
    )
    # By the end of the wanted range, whatever the status: an entry that was never confirmed
    # or never got an offer is of no use once its last day has passed.
    waitlist_entries = await conn.fetchval(
        """
        with erased as (
            update waitlist_entry
               set citizen_name = null, email = null, personal_data_erased_at = now()
             where personal_data_erased_at is null
               and latest_day < (now() - make_interval(days => $1))::date
            returning id
        ), reasons as (
            update outbox set last_error = null
             where waitlist_entry_id in (select id from erased) and last_error is not null
        )
        select count(*) from erased
        """,
        days,
    )
    return ErasedCounts(appointments, tickets, waitlist_entries)


# -- one citizen, on request -------------------------------------------------------------


class CitizenAppointment(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    status: str
    location: str
    services: list[str]
    starts_at: datetime
    ends_at: datetime
    citizen_name: str | None
    email: str | None
    phone: str | None
    language: str
    booked_by: str
    created_at: datetime


class CitizenTicket(msgspec.Struct, frozen=True, kw_only=True):
    display_code: str
    location: str
    day: date
    status: str
    citizen_name: str | None
    email: str | None
    issued_at: datetime
    appointment_code: str | None


class CitizenWaitlistEntry(msgspec.Struct, frozen=True, kw_only=True):
    public_id: str
    status: str
    earliest_day: date
    latest_day: date
    citizen_name: str | None
    email: str | None
    language: str
    created_at: datetime


class CitizenMessage(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    appointment_code: str | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None


class CitizenData(msgspec.Struct, frozen=True, kw_only=True):
    appointments: list[CitizenAppointment]
    tickets: list[CitizenTicket]
    waitlist_entries: list[CitizenWaitlistEntry]
    messages: list[CitizenMessage]


async def citizen_data(conn: Connection, email: str) -> CitizenData:
    """Everything kept under this email address (any case), oldest first."""
    appointments = await conn.fetch(
        """
        select a.code, a.status, l.slug as location,
               array(select s.slug
                       from appointment_service x join service s on s.id = x.service_id
                      where x.appointment_id = a.id order by x.position) as services,
               a.starts_at, a.ends_at, a.citizen_name, a.email, a.phone, a.language,
               a.booked_by, a.created_at
          from appointment a
          join location l on l.id = a.location_id
         where lower(a.email) = lower($1)
         order by a.created_at, a.id
        """,
        email,
    )
    tickets = await conn.fetch(
        """
        select t.display_code, l.slug as location, t.day, t.status, t.citizen_name, t.email,
               t.issued_at, a.code as appointment_code
          from ticket t
          left join appointment a on a.id = t.appointment_id
          join location l on l.id = t.location_id
         where lower(a.email) = lower($1) or lower(t.email) = lower($1)
         order by t.issued_at, t.id
        """,
        email,
    )
    entries = await conn.fetch(
        """
        select public_id, status, earliest_day, latest_day, citizen_name, email, language,
               created_at
          from waitlist_entry
         where lower(email) = lower($1)
         order by created_at, id
        """,
        email,
    )
    messages = await conn.fetch(
        """
        select o.kind, a.code as appointment_code, o.created_at, o.sent_at, o.failed_at
          from outbox o
          left join appointment a on a.id = o.appointment_id
          left join waitlist_entry w on w.id = o.waitlist_entry_id
          left join ticket t on t.id = o.ticket_id
         where lower(a.email) = lower($1) or lower(w.email) = lower($1)
            or lower(t.email) = lower($1)
         order by o.created_at, o.id
        """,
        email,
    )
    return CitizenData(
        appointments=[CitizenAppointment(**dict(r)) for r in appointments],
        tickets=[CitizenTicket(**dict(r)) for r in tickets],
        waitlist_entries=[CitizenWaitlistEntry(**dict(r)) for r in entries],
        messages=[CitizenMessage(**dict(r)) for r in messages],
    )


async def upcoming_appointment_codes(conn: Connection, email: str, now: datetime) -> list[str]:
    """Codes of the citizen's pending and booked appointments still ahead: they hold capacity."""
    rows = await conn.fetch(
        """
        select code from appointment
         where lower(email) = lower($1) and status in ('pending', 'booked') and ends_at > $2
         order by id
        """,
        email,
        now,
    )
    return [row["code"] for row in rows]


async def erase_citizen(conn: Connection, email: str) -> ErasedCounts:
    """Blank everything kept under this address; open waitlist entries are withdrawn."""
    appointment_ids: list[int] = [
        row["id"]
        for row in await conn.fetch(
            "select id from appointment where lower(email) = lower($1) order by id for update",
            email,
        )
    ]
    ticket_ids: list[int] = [
        row["id"]
        for row in await conn.fetch(
            """
            update ticket
               set citizen_name = null, email = null,
                   personal_data_erased_at = coalesce(personal_data_erased_at, now())
             where appointment_id = any($1::bigint[]) or lower(email) = lower($2)
            returning id
            """,
            appointment_ids,
            email,
        )
    ]
    await conn.execute(
        """
        update appointment
           set citizen_name = null, email = null, phone = null,
               personal_data_erased_at = coalesce(personal_data_erased_at, now())
         where id = any($1::bigint[])
        """,
        appointment_ids,
    )
    entry_ids: list[int] = [
        row["id"]
        for row in await conn.fetch(
            """
            update waitlist_entry
               set citizen_name = null, email = null,
                   personal_data_erased_at = coalesce(personal_data_erased_at, now()),
                   status = case when status in ('pending', 'active', 'offered')
                                 then 'cancelled' else status end
             where lower(email) = lower($1)
            returning id
            """,
            email,
        )
    ]
    await conn.execute(
        """
        update outbox set last_error = null
         where (appointment_id = any($1::bigint[]) or waitlist_entry_id = any($2::bigint[])
                or ticket_id = any($3::bigint[]))
           and last_error is not null
        """,
        appointment_ids,
        entry_ids,
        ticket_ids,
    )
    # Answers kept for Idempotency-Key replays repeat name, email and phone.
    await conn.execute(
        """
        delete from idempotency_key
         where lower(convert_from(response, 'UTF8')::jsonb ->> 'email') = lower($1)
        """,
        email,
    )
    return ErasedCounts(len(appointment_ids), len(ticket_ids), len(entry_ids))
