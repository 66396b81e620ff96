"""Queries behind admin statistics and public transparency figures.

They read statuses, timestamps and the slot grid only, never a citizen's name, email or
phone, so erasing personal data (invariant 7) leaves every figure as it was. Local days are
cut with ``at time zone`` and the location's zone in SQL, bounds and buckets alike, so a
row can never fall between the range's edges and its days, also on 23- and 25-hour days.
Per-day queries use ``grouping sets ((day), ())``: the row whose ``day`` is null is the
whole range, which medians and percentiles need (they cannot be summed from days).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

import msgspec
from asyncpg import Record

from booking.db import Connection

T = TypeVar("T", bound=msgspec.Struct)


class AppointmentCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Appointments by the local day of their start, counted by their current status.

    ``booked`` is every appointment that held a confirmed booking and was not given up:
    still booked, checked in, completed or no-show. The others count single statuses.
    """

    booked: int = 0
    completed: int = 0
    no_show: int = 0
    checked_in: int = 0
    cancelled: int = 0
    expired: int = 0
    pending: int = 0


class TicketTimes(msgspec.Struct, frozen=True, kw_only=True):
    """Tickets by the local day they were issued; durations in seconds."""

    walk_ins: int = 0
    waited: int = 0
    wait_median: float | None = None
    wait_p90: float | None = None
    served: int = 0
    service_median: float | None = None
    service_p90: float | None = None


class SlotUse(msgspec.Struct, frozen=True, kw_only=True):
    """Online grid units starting on a local day: desk-units booked and open."""

    booked_units: int = 0
    capacity_units: int = 0


class PerDay(msgspec.Struct, Generic[T], frozen=True):
    """Only days that have rows; callers fill the others with the zero value."""

    days: dict[date, T]
    total: T


class OnlineService(msgspec.Struct, frozen=True):
    slug: str
    name_de: str
    name_en: str


class PublicLocation(msgspec.Struct, frozen=True):
    id: int
    slug: str
    name_de: str
    name_en: str
    time_zone: str
    services: list[OnlineService]


class QueueNow(msgspec.Struct, frozen=True):
    """Today's queue at one location, the inputs of the public wait estimate."""

    waiting: int
    recent_service_median: float | None  # seconds
    active_desks: int
    waiting_catalogue_minutes: float | None


def _per_day(rows: Sequence[Record], row_type: type[T]) -> PerDay[T]:
    days: dict[date, T] = {}
    total = row_type()
    for row in rows:
        fields = dict(row)
        day = fields.pop("day")
        if day is None:
            total = row_type(**fields)
        else:
            days[day] = row_type(**fields)
    return PerDay(days, total)


async def appointment_counts(
    conn: Connection, location_id: int, time_zone: str, first: date, last: date
) -> PerDay[AppointmentCounts]:
    rows = await conn.fetch(
        """
        with a as (
            select (starts_at at time zone $2)::date as day, status
              from appointment
             where location_id = $1
               and starts_at >= $3::date::timestamp at time zone $2
               and starts_at < ($4::date + 1)::timestamp at time zone $2
        )
        select day,
               count(*) filter (where status in ('booked', 'checked_in', 'completed', 'no_show'))
                   ::int as booked,
               count(*) filter (where status = 'completed')::int as completed,
               count(*) filter (where status = 'no_show')::int as no_show,
               count(*) filter (where status = 'checked_in')::int as checked_in,
               count(*) filter (where status = 'cancelled')::int as cancelled,
               count(*) filter (where status = 'expired')::int as expired,
               count(*) filter (where status = 'pending')::int as pending
          from a
         group by grouping sets ((day), ())
        """,
        location_id,
        time_zone,
        first,
        last,
    )
    return _per_day(rows, AppointmentCounts)


# Ticket waits and service times per bucket: a local day, or an hour of the local day.
# ``{bucket}`` is one of the two constants below, never input.
_TICKET_TIMES = """
        with t as (
            select {bucket},
                   t.appointment_id is null as walk_in,
                   -- greatest() skips nulls: so walk-ins (no appointment) wait from issue,
                   -- and an uncalled ticket would wait 0 without the case.
                   case when t.called_at is not null then
                       greatest(0, extract(epoch from
                           t.called_at - greatest(t.issued_at, a.starts_at)))::float8
                   end as wait,
                   extract(epoch from t.finished_at - t.started_at)::float8 as service
              from ticket t
              left join appointment a on a.id = t.appointment_id
             where t.location_id = $1
               -- ticket.day is the local issue day; the margin only lets the index help.
               and t.day between $3::date - 1 and $4::date + 1
               and t.issued_at >= $3::date::timestamp at time zone $2
               and t.issued_at < ($4::date + 1)::timestamp at time zone $2
        )
        select {key},
               count(*) filter (where walk_in)::int as walk_ins,
               count(wait)::int as waited,
               percentile_cont(0.5) within group (order by wait) as wait_median,
               percentile_cont(0.9) within group (order by wait) as wait_p90,
               count(service)::int as served,
               percentile_cont(0.5) within group (order by service) as service_median,
               percentile_cont(0.9) within group (order by service) as service_p90
          from t
         group by grouping sets (({key}), ())
        """
_BY_DAY = _TICKET_TIMES.format(bucket="(t.issued_at at time zone $2)::date as day", key="day")
_BY_HOUR = _TICKET_TIMES.format(
    bucket="extract(hour from t.issued_at at time zone $2)::int as hour", key="hour"
)


async def ticket_times(
    conn: Connection, location_id: int, time_zone: str, first: date, last: date
) -> PerDay[TicketTimes]:
    """Waits and service times of the tickets issued on each local day.

    A wait runs from issue to the call; for a checked-in appointment it starts no earlier
    than the booked start (coming early is not waiting), and a call before the booked start
    is no wait at all. Tickets never called have no wait; never finished, no service time.
    """
    rows = await conn.fetch(_BY_DAY, location_id, time_zone, first, last)
    return _per_day(rows, TicketTimes)


async def ticket_times_by_hour(
    conn: Connection, location_id: int, time_zone: str, first: date, last: date
) -> dict[int, TicketTimes]:
    """As ``ticket_times``, per local hour of issue (0-23) over the whole range."""
    rows = await conn.fetch(_BY_HOUR, location_id, time_zone, first, last)
    found = {}
    for row in rows:
        fields = dict(row)
        hour = fields.pop("hour")
        if hour is not None:
            found[hour] = TicketTimes(**fields)
    return found


async def slot_use(
    conn: Connection, location_id: int, time_zone: str, first: date, last: date
) -> PerDay[SlotUse]:
    rows = await conn.fetch(
        """
        with s as (
            select (starts_at at time zone $2)::date as day, booked, capacity
              from slot
             where location_id = $1
               and starts_at >= $3::date::timestamp at time zone $2
               and starts_at < ($4::date + 1)::timestamp at time zone $2
        )
        select day, coalesce(sum(booked), 0)::int as booked_units,
               coalesce(sum(capacity), 0)::int as capacity_units
          from s
         group by grouping sets ((day), ())
        """,
        location_id,
        time_zone,
        first,
        last,
    )
    return _per_day(rows, SlotUse)


async def public_locations(conn: Connection, slug: str | None) -> list[PublicLocation]:
    """Active locations (all, or the one named) with the services they offer online."""
    rows = await conn.fetch(
        """
        select l.id, l.slug, l.name_de, l.name_en, l.time_zone,
               coalesce(
                   (select jsonb_agg(
                               jsonb_build_object('slug', s.slug, 'name_de', s.name_de,
                                                  'name_en', s.name_en)
                               order by s.name_de)
                      from location_service ls join service s on s.id = ls.service_id
                     where ls.location_id = l.id and ls.bookable_online and s.active),
                   '[]') as services
          from location l
         where l.active and ($1::text is null or l.slug = $1)
         order by l.name_de
        """,
        slug,
    )
    return [msgspec.convert(dict(row), PublicLocation) for row in rows]


async def queue_now(
    conn: Connection,
    location_id: int,
    today: date,
    now: datetime,
    *,
    service_window: timedelta,
    desk_window: timedelta,
    service_id: int | None = None,
) -> QueueNow:
    """Waiting tickets of today, the median service time and the desks calling lately.

    With ``service_id``, of that service alone, and only the desks that serve it.
    """
    row = await conn.fetchrow(
        """
        select
            (select count(*) from ticket
              where location_id = $1 and day = $2 and status = 'waiting'
                and ($6::bigint is null or service_id = $6))::int as waiting,
            -- The day bound only lets the index help: recent means today or last night.
            (select percentile_cont(0.5) within group (
                        order by extract(epoch from finished_at - started_at)::float8)
               from ticket
              where location_id = $1 and day >= $2 - 1
                and finished_at > $3::timestamptz - $4::interval and finished_at <= $3
                and started_at is not null
                and ($6::bigint is null or service_id = $6)) as recent_service_median,
            (select count(distinct desk_id) from ticket
              where location_id = $1 and day >= $2 - 1 and desk_id is not null
                and ($6::bigint is null
                     or desk_id in (select desk_id from desk_service where service_id = $6))
                and (status in ('called', 'serving')
                     or called_at > $3::timestamptz - $5::interval
                     or finished_at > $3::timestamptz - $5::interval))::int as active_desks,
            (select avg(coalesce(ls.duration_minutes, s.duration_minutes))::float8
               from ticket t
               join service s on s.id = t.service_id
               left join location_service ls
                 on ls.location_id = t.location_id and ls.service_id = t.service_id
              where t.location_id = $1 and t.day = $2 and t.status = 'waiting'
                and ($6::bigint is null or t.service_id = $6)) as waiting_catalogue_minutes
        """,
        location_id,
        today,
        now,
        service_window,
        desk_window,
        service_id,
    )
    assert row is not None  # a select without from yields exactly one row
    return QueueNow(**dict(row))
