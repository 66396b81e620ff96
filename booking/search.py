"""Use cases for citizens' searches: free starts for a service set, earliest start anywhere.

Every search reads one location's free units over a primary-key range, so its cost depends
on the range asked for, never on bookings elsewhere or outside it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from booking.availability import free_starts, group_by_local_day, local_day_bounds, units_needed
from booking.db import Connection, slots
from booking.db import offers as q
from booking.db.offers import SetLocation
from booking.errors import FieldProblem, InvalidInput

MAX_SERVICES = 5
MAX_RANGE_DAYS = 93
DEFAULT_RANGE_DAYS = 14
# Windows never cross local midnight, so searching day by day in chunks loses no start.
_EARLIEST_CHUNK_DAYS = 14


class DayStarts(msgspec.Struct, frozen=True):
    day: date
    starts: list[datetime]


class LocationAvailability(msgspec.Struct, frozen=True):
    location: SetLocation
    first_day: date
    last_day: date
    days: list[DayStarts]


class EarliestStart(msgspec.Struct, frozen=True):
    location: SetLocation
    earliest: datetime | None


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [FieldProblem(field, message)])


async def checked_services(conn: Connection, service_slugs: list[str]) -> None:
    if not service_slugs:
        raise _invalid("service", "choose at least one service")
    if len(service_slugs) > MAX_SERVICES:
        raise _invalid("service", f"at most {MAX_SERVICES} services per appointment")
    unknown = sorted(set(service_slugs) - await q.known_service_slugs(conn, service_slugs))
    if unknown:
        raise _invalid("service", f"unknown service: {', '.join(unknown)}")


def bookable_span(location: SetLocation, now: datetime) -> tuple[datetime, datetime]:
    """From now plus the lead time until the end of the horizon's last local day."""
    today = now.astimezone(ZoneInfo(location.time_zone)).date()
    _, horizon_end = local_day_bounds(
        today + timedelta(days=location.horizon_days), location.time_zone
    )
    return now + timedelta(minutes=location.min_lead_minutes), horizon_end


async def _starts_between(
    conn: Connection, location: SetLocation, since: datetime, until: datetime
) -> list[datetime]:
    if since >= until:
        return []
    units = await slots.free_units(conn, location.id, since, until)
    needed = units_needed(location.total_minutes, location.grid_minutes)
    return free_starts(units, location.grid_minutes, needed, since, until)


async def availability(
    conn: Connection,
    *,
    location_slug: str,
    service_slugs: list[str],
    first_day: date | None,
    last_day: date | None,
    now: datetime,
) -> LocationAvailability:
    await checked_services(conn, service_slugs)
    if not await q.known_location_slugs(conn, [location_slug]):
        raise _invalid("location", f"unknown location: {location_slug}")
    offering = await q.locations_offering(conn, service_slugs, [location_slug])
    if not offering:
        raise _invalid("service", "this location does not offer all of these services online")
    location = offering[0]
    zone = ZoneInfo(location.time_zone)
    first = first_day or now.astimezone(zone).date()
    last = last_day or first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if last < first:
        raise _invalid("to", "must not be before from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise _invalid("to", f"the range may span at most {MAX_RANGE_DAYS} days")
    starts: list[datetime] = []
    # Clamp to the bookable days first: far-away dates are valid input but hold no slots.
    today = now.astimezone(zone).date()
    lo, hi = max(first, today), min(last, today + timedelta(days=location.horizon_days))
    if lo <= hi:
        earliest, latest = bookable_span(location, now)
        since = max(local_day_bounds(lo, location.time_zone)[0], earliest)
        until = min(local_day_bounds(hi, location.time_zone)[1], latest)
        starts = await _starts_between(conn, location, since, until)
    by_day = group_by_local_day(starts, location.time_zone)
    days = [
        DayStarts(day, by_day.get(day, []))
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]
    return LocationAvailability(location, first, last, days)


async def earliest_starts(
    conn: Connection, service_slugs: list[str], location_slugs: list[str] | None, now: datetime
) -> list[EarliestStart]:
    """Each location offering the whole set, earliest free start first, none-free last."""
    await checked_services(conn, service_slugs)
    if location_slugs:
        unknown = sorted(set(location_slugs) - await q.known_location_slugs(conn, location_slugs))
        if unknown:
            raise _invalid("location", f"unknown location: {', '.join(unknown)}")
    found = []
    for location in await q.locations_offering(conn, service_slugs, location_slugs or None):
        found.append(EarliestStart(location, await _earliest(conn, location, now)))
    far_future = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    return sorted(found, key=lambda e: (e.earliest or far_future, e.location.slug))


async def _earliest(conn: Connection, location: SetLocation, now: datetime) -> datetime | None:
    since, latest = bookable_span(location, now)
    zone = ZoneInfo(location.time_zone)
    while since < latest:
        chunk_day = since.astimezone(zone).date() + timedelta(days=_EARLIEST_CHUNK_DAYS)
        until = min(local_day_bounds(chunk_day, location.time_zone)[0], latest)
        starts = await _starts_between(conn, location, since, until)
        if starts:
            return starts[0].astimezone(zone)
        since = until
    return None
