"""Use cases for admins' statistics and the public transparency figures.

Every figure comes from statuses, ticket timestamps and the slot grid, never from a
citizen's name, email or phone, so erasing personal data (invariant 7) changes none of
them. The arithmetic (filling empty days, units, rates, the wait estimate) is pure here;
the queries are in ``booking.db.statistics``.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from booking import search
from booking.db import Connection
from booking.db import statistics as q
from booking.db.statistics import (
    AppointmentCounts,
    OnlineService,
    PerDay,
    PublicLocation,
    QueueNow,
    SlotUse,
    TicketTimes,
)
from booking.errors import InvalidInput, NotFound

MAX_RANGE_DAYS = 366
# The wait estimate: service times finished this recently, desks that called this recently.
SERVICE_TIME_WINDOW = timedelta(hours=2)
ACTIVE_DESK_WINDOW = timedelta(minutes=30)

ServiceBasis = Literal["recent", "catalogue"]


class Durations(msgspec.Struct, frozen=True):
    """Minutes to a tenth; median and p90 are null when nothing was measured."""

    count: int
    median: float | None
    p90: float | None


class Utilisation(msgspec.Struct, frozen=True):
    """Booked over open desk-units of the online grid; null ratio when nothing was open."""

    booked_units: int
    capacity_units: int
    ratio: float | None


class Figures(msgspec.Struct, frozen=True, kw_only=True):
    appointments: AppointmentCounts
    walk_ins: int
    waiting_minutes: Durations
    service_minutes: Durations
    utilisation: Utilisation


class DayFigures(Figures, frozen=True, kw_only=True):
    day: date


class LocationStatistics(msgspec.Struct, frozen=True):
    first_day: date
    last_day: date
    days: list[DayFigures]
    total: Figures


class NextFree(msgspec.Struct, frozen=True):
    service: OnlineService
    earliest: datetime | None


class CurrentWait(msgspec.Struct, frozen=True, kw_only=True):
    """``service_basis`` says where ``service_minutes`` came from: "recent" or "catalogue"."""

    waiting: int
    estimated_minutes: int
    service_minutes: float | None
    service_basis: ServiceBasis | None
    active_desks: int


class MonthFigures(msgspec.Struct, frozen=True, kw_only=True):
    first_day: date
    last_day: date
    waited: int
    median_wait_minutes: float | None
    appointments_due: int
    no_show_rate: float | None


class LocationTransparency(msgspec.Struct, frozen=True, kw_only=True):
    location: PublicLocation
    next_free: list[NextFree]
    current_wait: CurrentWait
    last_month: MonthFigures


def check_range(first: date, last: date) -> None:
    if last < first:
        raise InvalidInput.field("to", "must not be before from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput.field("to", f"the range may span at most {MAX_RANGE_DAYS} days")


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(counts: AppointmentCounts, times: TicketTimes, slots: SlotUse) -> Figures:
    return Figures(
        appointments=counts,
        walk_ins=times.walk_ins,
        waiting_minutes=Durations(
            times.waited, _minutes(times.wait_median), _minutes(times.wait_p90)
        ),
        service_minutes=Durations(
            times.served, _minutes(times.service_median), _minutes(times.service_p90)
        ),
        utilisation=Utilisation(
            slots.booked_units,
            slots.capacity_units,
            _ratio(slots.booked_units, slots.capacity_units),
        ),
    )


def combine(
    first: date,
    last: date,
    counts: PerDay[AppointmentCounts],
    times: PerDay[TicketTimes],
    slots: PerDay[SlotUse],
) -> LocationStatistics:
    """Every day of the range, quiet ones with zeros, and the totals of the whole range."""
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        figures = _figures(
            counts.days.get(day, AppointmentCounts()),
            times.days.get(day, TicketTimes()),
            slots.days.get(day, SlotUse()),
        )
        days.append(DayFigures(day=day, **msgspec.structs.asdict(figures)))
    return LocationStatistics(first, last, days, _figures(counts.total, times.total, slots.total))


async def location_statistics(
    conn: Connection, location_id: int, time_zone: str, first: date, last: date
) -> LocationStatistics:
    check_range(first, last)
    return combine(
        first,
        last,
        await q.appointment_counts(conn, location_id, time_zone, first, last),
        await q.ticket_times(conn, location_id, time_zone, first, last),
        await q.slot_use(conn, location_id, time_zone, first, last),
    )


class HourWait(msgspec.Struct, frozen=True):
    """Waits of the tickets issued in one local hour of the day, over a range of days."""

    hour: int
    waiting_minutes: Durations


async def waiting_by_hour(
    conn: Connection, location_id: int, time_zone: str, first: date, last: date
) -> list[HourWait]:
    """Every hour that had a ticket, in order: when in the day people wait longest."""
    check_range(first, last)
    found = await q.ticket_times_by_hour(conn, location_id, time_zone, first, last)
    return [
        HourWait(hour, Durations(t.waited, _minutes(t.wait_median), _minutes(t.wait_p90)))
        for hour, t in sorted(found.items())
    ]


def estimate_wait(queue: QueueNow) -> CurrentWait:
    """How long someone joining the queue now would wait, roughly.

    waiting x median service time / desks: the median of the service times finished in the
    last two hours, or else the catalogue durations of the waiting tickets' services; the
    desks that called or finished a ticket in the last 30 minutes, at least one.
    """
    basis: ServiceBasis
    if queue.recent_service_median is not None:
        service, basis = queue.recent_service_median / 60, "recent"
    elif queue.waiting_catalogue_minutes is not None:
        service, basis = queue.waiting_catalogue_minutes, "catalogue"
    else:
        # Every waiting ticket's service has a catalogue duration: here nobody waits.
        return CurrentWait(
            waiting=queue.waiting,
            estimated_minutes=0,
            service_minutes=None,
            service_basis=None,
            active_desks=queue.active_desks,
        )
    return CurrentWait(
        waiting=queue.waiting,
        estimated_minutes=math.ceil(queue.waiting * service / max(1, queue.active_desks)),
        service_minutes=round(service, 1),
        service_basis=basis,
        active_desks=queue.active_desks,
    )


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def appointments_due(counts: AppointmentCounts) -> int:
    """The appointments no-shows count against: completed, no-show, checked in."""
    return counts.completed + counts.no_show + counts.checked_in


def no_show_rate(counts: AppointmentCounts) -> float | None:
    return _ratio(counts.no_show, appointments_due(counts))


def month_figures(
    first: date, last: date, counts: AppointmentCounts, times: TicketTimes
) -> MonthFigures:
    due = appointments_due(counts)
    return MonthFigures(
        first_day=first,
        last_day=last,
        waited=times.waited,
        median_wait_minutes=_minutes(times.wait_median),
        appointments_due=due,
        no_show_rate=no_show_rate(counts),
    )


async def transparency(
    conn: Connection, slug: str | None, now: datetime
) -> list[LocationTransparency]:
    """Open data for every active location, or only the one ``slug`` names (404 if none)."""
    locations = await q.public_locations(conn, slug)
    if slug is not None and not locations:
        raise NotFound("No such location.")
    earliest = await _earliest_per_service(conn, locations, now)
    return [
        LocationTransparency(
            location=location,
            next_free=[
                NextFree(service, earliest.get((location.slug, service.slug)))
                for service in location.services
            ],
            current_wait=await _current_wait(conn, location, now),
            last_month=await _last_month(conn, location, now),
        )
        for location in locations
    ]


async def _earliest_per_service(
    conn: Connection, locations: list[PublicLocation], now: datetime
) -> dict[tuple[str, str], datetime | None]:
    """(location, service) -> next free start, searching one service at a time at all of them."""
    slugs = [location.slug for location in locations]
    found: dict[tuple[str, str], datetime | None] = {}
    for service in sorted({s.slug for location in locations for s in location.services}):
        for entry in await search.earliest_starts(conn, [service], slugs, now):
            found[entry.location.slug, service] = entry.earliest
    return found


def _today(location: PublicLocation, now: datetime) -> date:
    return now.astimezone(ZoneInfo(location.time_zone)).date()


async def _current_wait(conn: Connection, location: PublicLocation, now: datetime) -> CurrentWait:
    queue = await q.queue_now(
        conn,
        location.id,
        _today(location, now),
        now,
        service_window=SERVICE_TIME_WINDOW,
        desk_window=ACTIVE_DESK_WINDOW,
    )
    return estimate_wait(queue)


async def _last_month(conn: Connection, location: PublicLocation, now: datetime) -> MonthFigures:
    first, last = previous_month(_today(location, now))
    counts = await q.appointment_counts(conn, location.id, location.time_zone, first, last)
    times = await q.ticket_times(conn, location.id, location.time_zone, first, last)
    return month_figures(first, last, counts.total, times.total)
