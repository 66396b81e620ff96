"""Queries for the in-office queue: tickets, daily numbers, call events, call-ahead mails.

Every transaction that writes a call event first locks its location's ``queue_state`` row
(``lock_queue``) and holds it to commit, so a location's events are numbered without gaps
in commit order, and "call next" picks from a queue no other caller changes meanwhile.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import msgspec

from booking.db import Connection

NOTIFY_CHANNEL = "booking_calls"


class QueueLocation(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    slug: str
    name_de: str
    name_en: str
    time_zone: str
    poster_secret: str


class Ticket(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket with its service, desk and appointment as the queue shows them."""

    id: int
    public_id: str
    location_id: int
    service_id: int
    appointment_id: int | None
    day: date
    display_code: str
    status: str
    channel: str
    priority_at: datetime
    desk_id: int | None
    recalls: int
    issued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    email: str | None
    language: str
    notify_places: int | None
    notify_minutes: int | None
    service_slug: str
    service_name_de: str
    service_name_en: str
    desk_name: str | None
    appointment_code: str | None
    booked_start: datetime | None
    citizen_name: str | None  # the appointment's, for staff; walk-ins are anonymous


class NewTicket(msgspec.Struct, frozen=True, kw_only=True):
    public_id: str
    location_id: int
    service_id: int
    appointment_id: int | None
    day: date
    display_code: str
    channel: str
    priority_at: datetime
    issued_at: datetime


class CallEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket called (or called again) to a desk; ``id`` counts per location from 1."""

    location_id: int
    id: int
    kind: str
    ticket_id: int
    display_code: str
    desk_id: int
    desk_name: str
    at: datetime


class CallAheadDue(msgspec.Struct, frozen=True):
    """A waiting ticket whose citizen asked to be told, not told yet, and how many are ahead."""

    ticket_id: int
    service_id: int
    ahead: int
    notify_places: int | None
    notify_minutes: int | None


class DayAppointment(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    starts_at: datetime
    ends_at: datetime
    status: str
    citizen_name: str | None
    services: list[str]
    ticket_code: str | None
    ticket_status: str | None


# Column lists are constants, never built from input; the f-strings below only join them.
_COLUMNS = """id, public_id, location_id, service_id, appointment_id, day, display_code, status,
    channel, priority_at, desk_id, recalls, issued_at, called_at, started_at, finished_at, email,
    language, notify_places, notify_minutes"""
_SELECT = (
    "select "
    + ", ".join("t." + column.strip() for column in _COLUMNS.split(","))
    + """, s.slug as service_slug, s.name_de as service_name_de, s.name_en as service_name_en,
       d.name as desk_name, a.code as appointment_code, a.starts_at as booked_start,
       a.citizen_name"""
)
_JOIN = """join service s on s.id = t.service_id
      left join desk d on d.id = t.desk_id
      left join appointment a on a.id = t.appointment_id"""
_EVENT_COLUMNS = "location_id, id, kind, ticket_id, display_code, desk_id, desk_name, at"
_LOCATION_COLUMNS = "id, slug, name_de, name_en, time_zone, poster_secret"


async def _changed(conn: Connection, change: str, *args: object) -> Ticket:
    """Run an UPDATE of one ticket (``change`` ends before RETURNING) and read it back."""
    row = await conn.fetchrow(
        f"with t as ({change} returning {_COLUMNS}) {_SELECT} from t {_JOIN}",
        *args,
    )
    assert row is not None, "the caller locked the ticket it changes"
    return Ticket(**dict(row))


# -- locations and numbers -----------------------------------------------------------------


async def location_by_slug(conn: Connection, slug: str) -> QueueLocation | None:
    row = await conn.fetchrow(
        f"select {_LOCATION_COLUMNS} from location where slug = $1",  # noqa: S608
        slug,
    )
    return None if row is None else QueueLocation(**dict(row))


async def location_by_id(conn: Connection, location_id: int) -> QueueLocation | None:
    row = await conn.fetchrow(
        f"select {_LOCATION_COLUMNS} from location where id = $1",  # noqa: S608
        location_id,
    )
    return None if row is None else QueueLocation(**dict(row))


async def next_number(conn: Connection, location_id: int, day: date, prefix: str) -> int:
    """The next number of the day for a prefix; the counter row serialises concurrent issuers."""
    number: int = await conn.fetchval(
        """
        insert into ticket_counter (location_id, day, prefix, last_number) values ($1, $2, $3, 1)
        on conflict (location_id, day, prefix)
        do update set last_number = ticket_counter.last_number + 1
        returning last_number
        """,
        location_id, day, prefix,
    )  # fmt: skip
    return number


async def first_service(conn: Connection, appointment_id: int) -> int:
    service_id: int = await conn.fetchval(
        """
        select service_id from appointment_service
         where appointment_id = $1 order by position limit 1
        """,
        appointment_id,
    )
    return service_id


# -- tickets -------------------------------------------------------------------------------


async def insert_ticket(conn: Connection, new: NewTicket) -> Ticket:
    row = await conn.fetchrow(
        f"""
        with t as (
            insert into ticket (public_id, location_id, service_id, appointment_id, day,
                                display_code, channel, priority_at, issued_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            returning {_COLUMNS}
        )
        {_SELECT} from t {_JOIN}
        """,  # noqa: S608
        new.public_id, new.location_id, new.service_id, new.appointment_id, new.day,
        new.display_code, new.channel, new.priority_at, new.issued_at,
    )  # fmt: skip
    assert row is not None
    return Ticket(**dict(row))


async def ticket_by_public_id(
    conn: Connection, public_id: str, *, for_update: bool = False
) -> Ticket | None:
    query = (
        f"{_SELECT} from ticket t {_JOIN} where t.public_id = $1 for update of t"
        if for_update
        else f"{_SELECT} from ticket t {_JOIN} where t.public_id = $1"
    )
    row = await conn.fetchrow(query, public_id)
    return None if row is None else Ticket(**dict(row))


async def ticket_by_id(conn: Connection, ticket_id: int) -> Ticket | None:
    row = await conn.fetchrow(f"{_SELECT} from ticket t {_JOIN} where t.id = $1", ticket_id)
    return None if row is None else Ticket(**dict(row))


async def locked_ticket(conn: Connection, location_id: int, ticket_id: int) -> Ticket | None:
    row = await conn.fetchrow(
        f"""{_SELECT} from ticket t {_JOIN}
         where t.id = $2 and t.location_id = $1 for update of t""",
        location_id,
        ticket_id,
    )
    return None if row is None else Ticket(**dict(row))


async def desk_ticket(conn: Connection, desk_id: int) -> Ticket | None:
    """The desk's called or serving ticket (at most one: ticket_one_active_per_desk)."""
    row = await conn.fetchrow(
        f"""{_SELECT} from ticket t {_JOIN}
         where t.desk_id = $1 and t.status in ('called', 'serving')""",
        desk_id,
    )
    return None if row is None else Ticket(**dict(row))


async def next_waiting(
    conn: Connection, location_id: int, day: date, service_ids: list[int]
) -> int | None:
    """The first waiting ticket of the day for these services, locked for calling.

    Not ``skip locked``: callers are already serialised by ``lock_queue``, so a lock here
    is a transfer or the closing job at work, and waiting for it beats passing over the
    ticket (invariant 2 forbids skipping one).
    """
    ticket_id: int | None = await conn.fetchval(
        """
        select id from ticket
         where location_id = $1 and day = $2 and status = 'waiting'
           and service_id = any($3::bigint[])
         order by priority_at, id
         limit 1
           for update
        """,
        location_id, day, service_ids,
    )  # fmt: skip
    return ticket_id


async def call(conn: Connection, ticket_id: int, desk_id: int, now: datetime) -> Ticket:
    return await _changed(
        conn,
        "update ticket set status = 'called', desk_id = $2, called_at = $3 where id = $1",
        ticket_id,
        desk_id,
        now,
    )


async def recall(conn: Connection, ticket_id: int) -> Ticket:
    """One more call; ``called_at`` stays the first call's, which the wait is measured to."""
    return await _changed(conn, "update ticket set recalls = recalls + 1 where id = $1", ticket_id)


async def start(conn: Connection, ticket_id: int, now: datetime) -> Ticket:
    return await _changed(
        conn, "update ticket set status = 'serving', started_at = $2 where id = $1", ticket_id, now
    )


async def finish(conn: Connection, ticket_id: int, status: str, now: datetime) -> Ticket:
    """``done`` or ``no_show``; a ticket completed straight from its call started then.

    The call-ahead address has served its purpose and goes (invariant 7).
    """
    return await _changed(
        conn,
        """
        update ticket
           set status = $2, finished_at = $3, email = null,
               started_at = case when $2 = 'done' then coalesce(started_at, called_at) end
         where id = $1
        """,
        ticket_id,
        status,
        now,
    )


async def transfer(conn: Connection, ticket_id: int, service_id: int) -> Ticket:
    """Back to waiting for another service, keeping its number and ``priority_at``."""
    return await _changed(
        conn,
        """
        update ticket
           set service_id = $2, status = 'waiting', desk_id = null, called_at = null,
               started_at = null, recalls = 0
         where id = $1
        """,
        ticket_id,
        service_id,
    )


async def set_call_ahead(
    conn: Connection,
    ticket_id: int,
    *,
    email: str,
    language: str,
    places: int | None,
    minutes: int | None,
) -> Ticket:
    return await _changed(
        conn,
        """
        update ticket set email = $2, language = $3, notify_places = $4, notify_minutes = $5
         where id = $1
        """,
        ticket_id, email, language, places, minutes,
    )  # fmt: skip


async def ahead_of(conn: Connection, ticket: Ticket) -> int:
    """Waiting tickets of the same service and day that will be called before this one."""
    count: int = await conn.fetchval(
        """
        select count(*) from ticket
         where location_id = $1 and day = $2 and service_id = $3 and status = 'waiting'
           and (priority_at, id) < ($4, $5)
        """,
        ticket.location_id, ticket.day, ticket.service_id, ticket.priority_at, ticket.id,
    )  # fmt: skip
    return count


async def open_tickets(
    conn: Connection, location_id: int, day: date, service_ids: list[int] | None
) -> list[Ticket]:
    """Serving, called, then waiting tickets in calling order; all services when None."""
    rows = await conn.fetch(
        f"""
        {_SELECT} from ticket t {_JOIN}
         where t.location_id = $1 and t.day = $2 and t.status in ('waiting', 'called', 'serving')
           and ($3::bigint[] is null or t.service_id = any($3::bigint[]))
         order by case t.status when 'serving' then 0 when 'called' then 1 else 2 end,
                  t.priority_at, t.id
        """,
        location_id,
        day,
        service_ids,
    )
    return [Ticket(**dict(row)) for row in rows]


async def close_open_tickets(conn: Connection, now: datetime, grace: timedelta) -> int:
    """Close what the day left open: waiting tickets ``grace`` after the location's last
    opening window of their day, and every open ticket once its local day is over.

    A ticket still served then is done (with no finish time: nobody knows it); anything
    else is cancelled. Tickets being changed right now are left for the next run.
    """
    count: int = await conn.fetchval(
        """
        with due as (
            select t.id from ticket t join location l on l.id = t.location_id
             where t.status in ('waiting', 'called', 'serving')
               and (t.day < ($1::timestamptz at time zone l.time_zone)::date
                    or (t.status = 'waiting'
                        and $1::timestamptz > $2::interval + (
                            select max((t.day + r.closes_at) at time zone l.time_zone)
                              from opening_rule r
                             where r.location_id = t.location_id
                               and r.weekday = extract(isodow from t.day)
                               and t.day >= r.valid_from
                               and (r.valid_until is null or t.day <= r.valid_until))))
               for update of t skip locked
        ), closed as (
            update ticket t
               set status = case when t.status = 'serving' then 'done' else 'cancelled' end,
                   email = null
              from due
             where t.id = due.id
            returning 1
        )
        select count(*)::int from closed
        """,
        now,
        grace,
    )
    return count


# -- call events ---------------------------------------------------------------------------


async def lock_queue(conn: Connection, location_id: int) -> None:
    """Hold the location's queue lock until commit (see the module's docstring)."""
    await conn.execute(
        """
        insert into queue_state (location_id) values ($1)
        on conflict (location_id) do update set last_event_id = queue_state.last_event_id
        """,
        location_id,
    )


async def insert_event(
    conn: Connection, ticket: Ticket, kind: str, desk_name: str, now: datetime
) -> CallEvent:
    """The next event of the location, announced to listeners when the transaction commits."""
    row = await conn.fetchrow(
        f"""
        with n as (
            update queue_state set last_event_id = last_event_id + 1
             where location_id = $1
            returning last_event_id
        )
        insert into call_event ({_EVENT_COLUMNS})
        select $1, n.last_event_id, $2, $3, $4, $5, $6, $7 from n
        returning {_EVENT_COLUMNS}
        """,  # noqa: S608
        ticket.location_id, kind, ticket.id, ticket.display_code, ticket.desk_id, desk_name, now,
    )  # fmt: skip
    assert row is not None, "lock_queue comes first and creates the queue_state row"
    event = CallEvent(**dict(row))
    # PostgreSQL delivers a notification only when (and if) its transaction commits.
    await conn.execute(
        "select pg_notify($1, $2)", NOTIFY_CHANNEL, msgspec.json.encode(event).decode()
    )
    return event


async def events_after(
    conn: Connection, location_id: int, after: int, limit: int
) -> list[CallEvent]:
    rows = await conn.fetch(
        f"""
        select {_EVENT_COLUMNS} from call_event
         where location_id = $1 and id > $2
         order by id
         limit $3
        """,  # noqa: S608
        location_id, after, limit,
    )  # fmt: skip
    return [CallEvent(**dict(row)) for row in rows]


async def recent_events(conn: Connection, location_id: int, limit: int) -> list[CallEvent]:
    """The newest events, newest first."""
    rows = await conn.fetch(
        f"""
        select {_EVENT_COLUMNS} from call_event
         where location_id = $1
         order by id desc
         limit $2
        """,  # noqa: S608
        location_id, limit,
    )  # fmt: skip
    return [CallEvent(**dict(row)) for row in rows]


async def last_event_id(conn: Connection, location_id: int) -> int:
    last: int = await conn.fetchval(
        "select coalesce((select last_event_id from queue_state where location_id = $1), 0)",
        location_id,
    )
    return last


async def delete_events_before(conn: Connection, before: datetime) -> int:
    status = await conn.execute("delete from call_event where at < $1", before)
    return int(status.split()[-1])


# -- call-ahead ----------------------------------------------------------------------------


async def call_ahead_due(
    conn: Connection, location_id: int, day: date, service_ids: list[int]
) -> list[CallAheadDue]:
    rows = await conn.fetch(
        """
        select t.id as ticket_id, t.service_id,
               (select count(*) from ticket o
                 where o.location_id = t.location_id and o.day = t.day
                   and o.service_id = t.service_id and o.status = 'waiting'
                   and (o.priority_at, o.id) < (t.priority_at, t.id))::int as ahead,
               t.notify_places, t.notify_minutes
          from ticket t
         where t.location_id = $1 and t.day = $2 and t.status = 'waiting'
           and t.email is not null and t.service_id = any($3::bigint[])
           and not exists (select 1 from outbox m
                            where m.ticket_id = t.id and m.kind = 'call_ahead')
        """,
        location_id, day, service_ids,
    )  # fmt: skip
    return [CallAheadDue(**dict(row)) for row in rows]


async def insert_call_ahead(conn: Connection, ticket_id: int, host: str, now: datetime) -> None:
    """The outbox row of the ticket's one call-ahead mail, unless it has one already."""
    await conn.execute(
        """
        insert into outbox (kind, ticket_id, message_id, not_before)
        values ('call_ahead', $1, '<' || gen_random_uuid() || '@' || $2 || '>', $3)
        on conflict (ticket_id) where kind = 'call_ahead' do nothing
        """,
        ticket_id,
        host,
        now,
    )


# -- the day's appointments ----------------------------------------------------------------


async def day_appointments(
    conn: Connection, location_id: int, since: datetime, until: datetime
) -> list[DayAppointment]:
    """Appointments starting in [since, until) with their ticket, if they checked in."""
    rows = await conn.fetch(
        """
        select a.code, a.starts_at, a.ends_at, a.status, a.citizen_name,
               array(select s.slug from appointment_service x join service s on s.id = x.service_id
                      where x.appointment_id = a.id order by x.position) as services,
               t.display_code as ticket_code, t.status as ticket_status
          from appointment a left join ticket t on t.appointment_id = a.id
         where a.location_id = $1 and a.starts_at >= $2 and a.starts_at < $3
         order by a.starts_at, a.code
        """,
        location_id, since, until,
    )  # fmt: skip
    return [DayAppointment(**dict(row)) for row in rows]
