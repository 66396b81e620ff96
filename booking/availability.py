"""Slot-grid and free-start rules, kept pure so DST and capacity edge cases are testable offline.

Every instant is timezone-aware UTC; local wall time only appears in opening rules and closures,
and is converted with ``zoneinfo`` using ``fold=0``: a nonexistent local time (spring-forward gap)
is read with the offset in force before the gap, so it lands as far after the gap as it was inside
it (02:30 on 2026-03-29 in Europe/Berlin is 03:30 CEST); an ambiguous one (fall-back) is its first
occurrence (02:30 on 2026-10-25 in Europe/Berlin is 02:30 CEST). Windows keep their real elapsed
length, so a night window is an hour shorter or longer on DST days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

__all__ = [
    "ClosedDays",
    "GridUnit",
    "OpeningWindow",
    "SlotState",
    "free_starts",
    "grid_units",
    "group_by_local_day",
    "local_day_bounds",
    "units_needed",
]


class OpeningWindow(msgspec.Struct, frozen=True):
    """A weekly opening rule in local wall time; ``valid_until`` is inclusive, ``None`` is open."""

    weekday: int
    opens_at: time
    closes_at: time
    desks: int
    valid_from: date
    valid_until: date | None = None


class ClosedDays(msgspec.Struct, frozen=True):
    """An inclusive range of local dates on which the location is shut."""

    first_day: date
    last_day: date


class GridUnit(msgspec.Struct, frozen=True):
    """One grid step; ``window_ends_at`` keeps appointments from spilling over a break."""

    starts_at: datetime
    window_ends_at: datetime
    capacity: int


class SlotState(msgspec.Struct, frozen=True):
    """A grid unit together with how many appointments already occupy it."""

    starts_at: datetime
    window_ends_at: datetime
    capacity: int
    booked: int


def units_needed(total_minutes: int, grid_minutes: int) -> int:
    """Round up, because a partly used unit still blocks its desk for the whole step."""
    _check_grid(grid_minutes)
    if total_minutes < 1:
        raise ValueError(f"total_minutes must be at least 1, got {total_minutes}")
    return -(-total_minutes // grid_minutes)


def grid_units(  # noqa: PLR0917 - positional order is the agreed interface
    windows: Sequence[OpeningWindow],
    closures: Sequence[ClosedDays],
    time_zone: str,
    grid_minutes: int,
    first_day: date,
    last_day: date,
) -> list[GridUnit]:
    """Expand the rules for ``first_day..last_day`` (inclusive, local dates) into UTC units.

    Steps are taken in UTC from each window's opening, so DST days get the units they really
    have. Units of overlapping windows that share a start are merged: capacities add up and
    ``window_ends_at`` is that of the earlier-opening window (the longer one on a tie), because
    an appointment that started there may run on until that window closes.
    """
    _check_grid(grid_minutes)
    zone = _zone(time_zone)
    step = timedelta(minutes=grid_minutes)
    by_weekday: dict[int, list[OpeningWindow]] = {}
    for window in windows:
        if window.desks > 0:
            by_weekday.setdefault(window.weekday, []).append(window)

    spans: list[tuple[datetime, datetime, int]] = []
    day = first_day
    while day <= last_day:
        if not any(c.first_day <= day <= c.last_day for c in closures):
            for window in by_weekday.get(day.isoweekday(), ()):
                if window.valid_from <= day and (
                    window.valid_until is None or day <= window.valid_until
                ):
                    opens = _to_utc(day, window.opens_at, zone)
                    closes = _to_utc(day, window.closes_at, zone)
                    spans.append((opens, closes, window.desks))
        day += timedelta(days=1)

    spans.sort(key=lambda span: (span[0], -span[1].timestamp()))
    merged: dict[datetime, GridUnit] = {}
    for opens, closes, desks in spans:
        start = opens
        while start + step <= closes:
            existing = merged.get(start)
            if existing is None:
                merged[start] = GridUnit(start, closes, desks)
            else:
                merged[start] = GridUnit(start, existing.window_ends_at, existing.capacity + desks)
            start += step
    return [merged[start] for start in sorted(merged)]


def free_starts(
    slots: Sequence[SlotState],
    grid_minutes: int,
    needed_units: int,
    earliest: datetime,
    latest: datetime,
) -> list[datetime]:
    """Starts in ``[earliest, latest)`` where ``needed_units`` free units follow back to back.

    All units of a start must belong to the same window (same ``window_ends_at``), so a booking
    never straddles a lunch break, even when the next window opens the minute the first closes.
    """
    _check_grid(grid_minutes)
    if needed_units < 1:
        raise ValueError(f"needed_units must be at least 1, got {needed_units}")
    step = timedelta(minutes=grid_minutes)
    span = step * needed_units
    ordered = sorted(slots, key=lambda slot: slot.starts_at)
    by_start: dict[datetime, SlotState] = {}
    for slot in ordered:
        if slot.starts_at in by_start:
            raise ValueError(f"duplicate slot start {slot.starts_at.isoformat()}")
        by_start[slot.starts_at] = slot

    # Free units chained from each start within one window; scanning backwards makes every
    # start an O(1) decision, and lookups by instant tolerate other windows' misaligned units.
    run: dict[datetime, int] = {}
    for slot in reversed(ordered):
        if slot.booked >= slot.capacity:
            continue
        following = by_start.get(slot.starts_at + step)
        chained = 0
        if following is not None and following.window_ends_at == slot.window_ends_at:
            chained = run.get(following.starts_at, 0)
        run[slot.starts_at] = 1 + chained

    return [
        slot.starts_at
        for slot in ordered
        if run.get(slot.starts_at, 0) >= needed_units
        and earliest <= slot.starts_at < latest
        and slot.starts_at + span <= slot.window_ends_at
    ]


def group_by_local_day(starts: Iterable[datetime], time_zone: str) -> dict[date, list[datetime]]:
    """Group starts by the local date a citizen sees, as local times, days and starts in order."""
    zone = _zone(time_zone)
    grouped: dict[date, list[datetime]] = {}
    for start in sorted(starts):
        local = start.astimezone(zone)
        grouped.setdefault(local.date(), []).append(local)
    return grouped


def local_day_bounds(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """UTC start and end of a local day, which is 23 or 25 hours long on DST days.

    With ``fold=0`` a midnight that falls into a gap resolves to the first real instant of the day.
    """
    zone = _zone(time_zone)
    return _to_utc(day, time(0), zone), _to_utc(day + timedelta(days=1), time(0), zone)


def _check_grid(grid_minutes: int) -> None:
    if grid_minutes <= 0:
        raise ValueError(f"grid_minutes must be positive, got {grid_minutes}")


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {time_zone!r}") from exc


def _to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).replace(fold=0).astimezone(UTC)
