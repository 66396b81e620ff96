"""The month view of free days and the free times of one day, for booking and rescheduling.

``month_grid`` is pure (weeks of days, Monday first, with the number of free starts);
``time_choice`` runs the availability and earliest-start use cases to fill it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from booking.db import Connection
from booking.db.offers import SetLocation
from booking.search import DayStarts
from booking.search_cache import UNCACHED, Searches


class DayCell(msgspec.Struct, frozen=True):
    day: date
    free: int


class Month(msgspec.Struct, frozen=True):
    first: date
    # Each week has seven entries; None pads the days outside the month.
    weeks: list[list[DayCell | None]]
    previous: date | None
    next: date | None


class TimeChoice(msgspec.Struct, frozen=True):
    location: SetLocation
    month: Month
    day: date | None
    starts: list[datetime]


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def _last_of_month(day: date) -> date:
    return (first_of_month(day) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def month_grid(first: date, days: list[DayStarts], bookable: tuple[date, date]) -> Month:
    """The month starting at ``first``, with links to neighbours that hold bookable days."""
    free = {d.day: len(d.starts) for d in days}
    last = _last_of_month(first)
    cells: list[DayCell | None] = [None] * first.weekday()
    cells += [DayCell(first + timedelta(days=n), 0) for n in range((last - first).days + 1)]
    cells = [None if c is None else DayCell(c.day, free.get(c.day, 0)) for c in cells]
    cells += [None] * (-len(cells) % 7)
    earliest, latest = bookable
    return Month(
        first=first,
        weeks=[cells[i : i + 7] for i in range(0, len(cells), 7)],
        previous=first_of_month(first - timedelta(days=1)) if first > earliest else None,
        next=last + timedelta(days=1) if last < latest else None,
    )


async def time_choice(
    conn: Connection,
    now: datetime,
    *,
    location_slug: str,
    services: list[str],
    month: date | None,
    day: date | None,
    exclude: datetime | None = None,
    searches: Searches = UNCACHED,
) -> TimeChoice:
    """Free starts of a month and of its chosen day (or its first free day).

    Without a month, the month of the chosen day, else of the earliest free start.
    ``exclude`` leaves out the start a rescheduled appointment already has. Browsing pass
    the process's cached ``searches``; a page right after a conflict shows the database.
    """
    if month is None and day is not None:
        month = first_of_month(day)
    if month is None:
        found = await searches.earliest_starts(conn, services, [location_slug], now)
        earliest = found[0].earliest if found else None
        month = first_of_month(earliest.date()) if earliest else None
    if month is None:
        month = first_of_month(now.date())
    found_month = await searches.availability(
        conn,
        location_slug=location_slug,
        service_slugs=services,
        first_day=month,
        last_day=_last_of_month(month),
        now=now,
    )
    location = found_month.location
    days = [DayStarts(d.day, [s for s in d.starts if s != exclude]) for d in found_month.days]
    today = now.astimezone(ZoneInfo(location.time_zone)).date()
    grid = month_grid(
        month, days, (first_of_month(today), today + timedelta(days=location.horizon_days))
    )
    free = {d.day: d.starts for d in days if d.starts}
    # The chosen day if it has free times (it may have filled up meanwhile), else the first.
    chosen = day if day in free else next(iter(free), None)
    return TimeChoice(location, grid, chosen, free.get(chosen, []) if chosen else [])
