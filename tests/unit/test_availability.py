"""Slot grid and free starts, with every expectation worked out by hand from local wall time."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest

from booking.availability import (
    ClosedDays,
    GridUnit,
    OpeningWindow,
    SlotState,
    free_starts,
    grid_units,
    group_by_local_day,
    local_day_bounds,
    units_needed,
)

BERLIN = "Europe/Berlin"
EPOCH = date(2020, 1, 1)
MONDAY = date(2026, 1, 5)
THURSDAY = date(2026, 1, 8)
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def window(
    weekday: int,
    opens: str,
    closes: str,
    *,
    desks: int = 1,
    valid_from: date = EPOCH,
    valid_until: date | None = None,
) -> OpeningWindow:
    return OpeningWindow(
        weekday,
        time.fromisoformat(opens),
        time.fromisoformat(closes),
        desks,
        valid_from,
        valid_until,
    )


def weekdays(opens: str, closes: str, desks: int = 1) -> list[OpeningWindow]:
    return [window(weekday, opens, closes, desks=desks) for weekday in range(1, 6)]


def starts(units: Sequence[GridUnit]) -> list[datetime]:
    return [unit.starts_at for unit in units]


def days_with_units(units: Sequence[GridUnit]) -> set[date]:
    return {unit.starts_at.astimezone(UTC).date() for unit in units}


def every(first: datetime, last: datetime, minutes: int = 10) -> list[datetime]:
    result = []
    while first <= last:
        result.append(first)
        first += timedelta(minutes=minutes)
    return result


def slots(
    first: datetime,
    count: int,
    window_ends_at: datetime,
    *,
    capacity: int = 2,
    booked: dict[datetime, int] | None = None,
    grid: int = 10,
) -> list[SlotState]:
    booked = booked or {}
    result = []
    for index in range(count):
        start = first + timedelta(minutes=grid * index)
        result.append(SlotState(start, window_ends_at, capacity, booked.get(start, 0)))
    return result


# units_needed


@pytest.mark.parametrize(
    ("total", "grid", "expected"),
    [
        (20 + 15, 10, 4),
        (30, 10, 3),
        (31, 10, 4),
        (1, 10, 1),
        (10 + 10 + 10, 15, 2),
        (45, 15, 3),
        (46, 15, 4),
    ],
)
def test_units_needed_rounds_up_to_whole_units(total: int, grid: int, expected: int) -> None:
    assert units_needed(total, grid) == expected


@pytest.mark.parametrize(("total", "grid"), [(0, 10), (-5, 10), (30, 0), (30, -10)])
def test_units_needed_rejects_nonsense(total: int, grid: int) -> None:
    with pytest.raises(ValueError, match=r"total_minutes|grid_minutes"):
        units_needed(total, grid)


# grid_units: ordinary days


def test_morning_window_has_27_units_with_desk_capacity() -> None:
    units = grid_units([window(1, "08:00", "12:30", desks=4)], [], BERLIN, 10, MONDAY, MONDAY)

    assert len(units) == 27
    assert starts(units) == every(utc(2026, 1, 5, 7), utc(2026, 1, 5, 11, 20))
    assert {unit.capacity for unit in units} == {4}
    assert {unit.window_ends_at for unit in units} == {utc(2026, 1, 5, 11, 30)}
    assert all(unit.starts_at.tzinfo is UTC for unit in units)


def test_thursday_long_window_only_on_thursday() -> None:
    rules = [window(1, "08:00", "12:30", desks=4), window(4, "07:00", "18:00", desks=2)]

    units = grid_units(rules, [], BERLIN, 15, MONDAY, MONDAY + timedelta(days=6))

    thursday = [unit for unit in units if unit.starts_at.date() == THURSDAY]
    assert len(thursday) == 44
    assert thursday[0].starts_at == utc(2026, 1, 8, 6)
    assert thursday[-1].starts_at == utc(2026, 1, 8, 16, 45)
    assert {unit.capacity for unit in thursday} == {2}
    assert {unit.window_ends_at for unit in thursday} == {utc(2026, 1, 8, 17)}
    assert days_with_units(units) == {MONDAY, THURSDAY}
    assert len(units) == 18 + 44


def test_window_that_does_not_fill_a_last_unit_drops_it() -> None:
    units = grid_units([window(1, "08:00", "08:55")], [], BERLIN, 15, MONDAY, MONDAY)

    assert starts(units) == every(utc(2026, 1, 5, 7), utc(2026, 1, 5, 7, 30), minutes=15)


def test_summer_day_uses_cest() -> None:
    units = grid_units(
        [window(1, "08:00", "09:00")], [], BERLIN, 30, date(2026, 7, 6), date(2026, 7, 6)
    )

    assert starts(units) == [utc(2026, 7, 6, 6), utc(2026, 7, 6, 6, 30)]
    assert units[0].window_ends_at == utc(2026, 7, 6, 7)


def test_window_without_desks_gives_no_units() -> None:
    rules = [window(1, "08:00", "12:00", desks=0), window(1, "13:00", "14:00", desks=1)]

    units = grid_units(rules, [], BERLIN, 10, MONDAY, MONDAY)

    assert starts(units) == every(utc(2026, 1, 5, 12), utc(2026, 1, 5, 12, 50))


def test_empty_range_gives_no_units() -> None:
    assert grid_units(weekdays("08:00", "12:00"), [], BERLIN, 10, THURSDAY, MONDAY) == []


# grid_units: DST


def test_night_window_on_spring_forward_day_is_five_hours() -> None:
    rules = [window(7, "00:00", "06:00")]

    units = grid_units(rules, [], BERLIN, 10, SPRING_FORWARD, SPRING_FORWARD)

    assert len(units) == 30
    assert starts(units) == every(utc(2026, 3, 28, 23), utc(2026, 3, 29, 3, 50))
    assert {unit.window_ends_at for unit in units} == {utc(2026, 3, 29, 4)}


def test_night_window_on_fall_back_day_is_seven_hours() -> None:
    rules = [window(7, "00:00", "06:00")]

    units = grid_units(rules, [], BERLIN, 10, FALL_BACK, FALL_BACK)

    assert len(units) == 42
    assert starts(units) == every(utc(2026, 10, 24, 22), utc(2026, 10, 25, 4, 50))
    assert {unit.window_ends_at for unit in units} == {utc(2026, 10, 25, 5)}


@pytest.mark.parametrize(
    ("day", "first_utc"),
    [(SPRING_FORWARD, utc(2026, 3, 29, 6)), (FALL_BACK, utc(2026, 10, 25, 7))],
)
def test_morning_window_on_dst_days_follows_the_new_offset(day: date, first_utc: datetime) -> None:
    units = grid_units([window(7, "08:00", "12:00")], [], BERLIN, 10, day, day)

    assert len(units) == 24
    assert starts(units) == every(first_utc, first_utc + timedelta(hours=3, minutes=50))
    assert units[0].window_ends_at == first_utc + timedelta(hours=4)


def test_nonexistent_opening_time_is_read_with_the_offset_before_the_gap() -> None:
    # 02:30 does not exist on 2026-03-29; fold=0 reads it as CET, i.e. 01:30 UTC (03:30 CEST),
    # while 04:00 CEST is 02:00 UTC: half an hour remains.
    units = grid_units(
        [window(7, "02:30", "04:00")], [], BERLIN, 10, SPRING_FORWARD, SPRING_FORWARD
    )

    assert starts(units) == every(utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 50))
    assert units[0].window_ends_at == utc(2026, 3, 29, 2)


def test_ambiguous_opening_time_is_its_first_occurrence() -> None:
    # 02:00 happens twice on 2026-10-25; fold=0 takes 02:00 CEST = 00:00 UTC, and 03:00 CET is
    # 02:00 UTC: the window lasts two real hours.
    units = grid_units([window(7, "02:00", "03:00")], [], BERLIN, 10, FALL_BACK, FALL_BACK)

    assert len(units) == 12
    assert starts(units) == every(utc(2026, 10, 25, 0), utc(2026, 10, 25, 1, 50))


def test_window_inside_the_gap_is_shifted_past_it() -> None:
    # 02:15-02:45 CET would be 01:15-01:45 UTC, which is 03:15-03:45 CEST on the wall clock.
    units = grid_units(
        [window(7, "02:15", "02:45")], [], BERLIN, 10, SPRING_FORWARD, SPRING_FORWARD
    )

    assert starts(units) == every(utc(2026, 3, 29, 1, 15), utc(2026, 3, 29, 1, 35))
    assert units[0].window_ends_at == utc(2026, 3, 29, 1, 45)


def test_window_closing_at_the_end_of_the_gap_gives_no_units() -> None:
    # Opens 02:30 CET = 01:30 UTC, closes 03:00 CEST = 01:00 UTC: it closes before it opens.
    units = grid_units(
        [window(7, "02:30", "03:00")], [], BERLIN, 10, SPRING_FORWARD, SPRING_FORWARD
    )

    assert units == []


# grid_units: closures and validity


def test_single_closed_day_removes_every_unit_of_that_day() -> None:
    wednesday = MONDAY + timedelta(days=2)

    units = grid_units(
        weekdays("08:00", "12:00"),
        [ClosedDays(wednesday, wednesday)],
        BERLIN,
        10,
        MONDAY,
        MONDAY + timedelta(days=4),
    )

    assert days_with_units(units) == {MONDAY + timedelta(days=n) for n in (0, 1, 3, 4)}
    assert len(units) == 4 * 24


def test_closed_range_removes_every_day_inside_inclusive() -> None:
    closures = [
        ClosedDays(date(2026, 1, 6), date(2026, 1, 8)),
        ClosedDays(date(2025, 12, 1), date(2025, 12, 31)),
    ]

    units = grid_units(
        weekdays("08:00", "12:00"), closures, BERLIN, 10, MONDAY, MONDAY + timedelta(days=4)
    )

    assert days_with_units(units) == {MONDAY, date(2026, 1, 9)}


def test_closure_over_the_whole_range_leaves_nothing() -> None:
    closures = [ClosedDays(date(2026, 1, 1), date(2026, 1, 31))]

    assert grid_units(weekdays("08:00", "12:00"), closures, BERLIN, 10, MONDAY, THURSDAY) == []


def test_rule_validity_bounds_are_inclusive() -> None:
    old = window(1, "08:00", "12:00", valid_until=date(2026, 1, 12))
    new = window(1, "09:00", "11:00", desks=3, valid_from=date(2026, 1, 19))
    future = window(1, "14:00", "15:00", valid_from=date(2026, 1, 20))

    units = grid_units([old, new, future], [], BERLIN, 10, MONDAY, date(2026, 1, 26))

    by_day: dict[date, list[GridUnit]] = {}
    for unit in units:
        by_day.setdefault(unit.starts_at.date(), []).append(unit)
    assert sorted(by_day) == [MONDAY, date(2026, 1, 12), date(2026, 1, 19), date(2026, 1, 26)]
    assert len(by_day[date(2026, 1, 12)]) == 24
    assert by_day[date(2026, 1, 12)][0].starts_at == utc(2026, 1, 12, 7)
    assert len(by_day[date(2026, 1, 19)]) == 12
    assert by_day[date(2026, 1, 19)][0].starts_at == utc(2026, 1, 19, 8)
    assert {unit.capacity for unit in by_day[date(2026, 1, 19)]} == {3}
    assert len(by_day[date(2026, 1, 26)]) == 12 + 6


# grid_units: several windows a day


def test_lunch_break_splits_the_day_into_two_windows() -> None:
    rules = [window(1, "13:00", "15:00"), window(1, "08:00", "12:00")]

    units = grid_units(rules, [], BERLIN, 10, MONDAY, MONDAY)

    assert len(units) == 24 + 12
    assert starts(units) == sorted(starts(units))
    assert units[23].starts_at == utc(2026, 1, 5, 10, 50)
    assert units[23].window_ends_at == utc(2026, 1, 5, 11)
    assert units[24].starts_at == utc(2026, 1, 5, 12)
    assert units[24].window_ends_at == utc(2026, 1, 5, 14)


def test_overlapping_windows_share_units_and_sum_capacity() -> None:
    rules = [window(1, "10:00", "14:00", desks=1), window(1, "08:00", "12:00", desks=2)]

    units = grid_units(rules, [], BERLIN, 10, MONDAY, MONDAY)
    at = {unit.starts_at: unit for unit in units}

    assert len(units) == 36
    assert starts(units) == every(utc(2026, 1, 5, 7), utc(2026, 1, 5, 12, 50))
    assert at[utc(2026, 1, 5, 7)] == GridUnit(utc(2026, 1, 5, 7), utc(2026, 1, 5, 11), 2)
    assert at[utc(2026, 1, 5, 9)] == GridUnit(utc(2026, 1, 5, 9), utc(2026, 1, 5, 11), 3)
    assert at[utc(2026, 1, 5, 10, 50)] == GridUnit(utc(2026, 1, 5, 10, 50), utc(2026, 1, 5, 11), 3)
    assert at[utc(2026, 1, 5, 11)] == GridUnit(utc(2026, 1, 5, 11), utc(2026, 1, 5, 13), 1)


def test_windows_opening_together_keep_the_longer_end() -> None:
    rules = [window(1, "08:00", "10:00"), window(1, "08:00", "12:00")]

    units = grid_units(rules, [], BERLIN, 10, MONDAY, MONDAY)

    assert len(units) == 24
    assert {unit.window_ends_at for unit in units} == {utc(2026, 1, 5, 11)}
    assert [unit.capacity for unit in units] == [2] * 12 + [1] * 12


def test_misaligned_overlapping_windows_keep_their_own_units() -> None:
    rules = [window(1, "08:00", "08:30"), window(1, "08:05", "08:35")]

    units = grid_units(rules, [], BERLIN, 10, MONDAY, MONDAY)

    assert starts(units) == every(utc(2026, 1, 5, 7), utc(2026, 1, 5, 7, 25), minutes=5)
    assert [unit.window_ends_at.minute for unit in units] == [30, 35] * 3


# free_starts


MORNING_END = utc(2026, 1, 5, 10)


def morning(booked: dict[datetime, int] | None = None) -> list[SlotState]:
    """Twelve 10-minute units 08:00-10:00 UTC with two desks."""
    return slots(utc(2026, 1, 5, 8), 12, MORNING_END, booked=booked)


ALL_DAY = (utc(2026, 1, 1, 0), utc(2026, 2, 1, 0))


def test_every_start_with_room_for_the_whole_appointment_is_offered() -> None:
    offered = free_starts(morning(), 10, 3, *ALL_DAY)

    assert offered == every(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9, 30))


def test_a_full_unit_blocks_every_start_whose_span_covers_it() -> None:
    offered = free_starts(morning({utc(2026, 1, 5, 9): 2}), 10, 3, *ALL_DAY)

    assert offered == every(utc(2026, 1, 5, 8), utc(2026, 1, 5, 8, 30)) + every(
        utc(2026, 1, 5, 9, 10), utc(2026, 1, 5, 9, 30)
    )


def test_a_partly_booked_unit_is_still_free() -> None:
    offered = free_starts(morning({utc(2026, 1, 5, 9): 1}), 10, 3, *ALL_DAY)

    assert offered == every(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9, 30))


def test_overbooked_unit_counts_as_full() -> None:
    offered = free_starts(morning({utc(2026, 1, 5, 8): 3}), 10, 1, *ALL_DAY)

    assert offered[0] == utc(2026, 1, 5, 8, 10)
    assert len(offered) == 11


def test_a_missing_unit_breaks_the_chain() -> None:
    gappy = [slot for slot in morning() if slot.starts_at != utc(2026, 1, 5, 8, 30)]

    offered = free_starts(gappy, 10, 2, *ALL_DAY)

    assert utc(2026, 1, 5, 8, 20) not in offered
    assert utc(2026, 1, 5, 8, 30) not in offered
    assert offered[:3] == [utc(2026, 1, 5, 8), utc(2026, 1, 5, 8, 10), utc(2026, 1, 5, 8, 40)]


def test_start_is_not_offered_across_the_lunch_break() -> None:
    day = morning() + slots(utc(2026, 1, 5, 11), 6, utc(2026, 1, 5, 12))

    offered = free_starts(day, 10, 3, *ALL_DAY)

    assert offered == every(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9, 30)) + every(
        utc(2026, 1, 5, 11), utc(2026, 1, 5, 11, 30)
    )


def test_start_is_not_offered_across_adjacent_windows() -> None:
    day = morning() + slots(MORNING_END, 6, utc(2026, 1, 5, 11))

    offered = free_starts(day, 10, 2, *ALL_DAY)

    assert utc(2026, 1, 5, 9, 40) in offered
    assert utc(2026, 1, 5, 9, 50) not in offered
    assert utc(2026, 1, 5, 10) in offered
    assert len(offered) == 11 + 5


def test_units_of_different_windows_never_chain_even_inside_the_first_window() -> None:
    # Stored units can disagree with a fresh grid after a rule change; the window label decides.
    mixed = [
        SlotState(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9), 1, 0),
        SlotState(utc(2026, 1, 5, 8, 10), utc(2026, 1, 5, 8, 20), 1, 0),
        SlotState(utc(2026, 1, 5, 8, 20), utc(2026, 1, 5, 9), 1, 0),
    ]

    assert free_starts(mixed, 10, 2, *ALL_DAY) == []
    assert free_starts(mixed, 10, 1, *ALL_DAY) == [
        utc(2026, 1, 5, 8),
        utc(2026, 1, 5, 8, 10),
        utc(2026, 1, 5, 8, 20),
    ]


def test_start_must_end_by_window_end_even_if_units_reach_beyond() -> None:
    truncated = slots(utc(2026, 1, 5, 8), 6, utc(2026, 1, 5, 8, 55))

    offered = free_starts(truncated, 10, 1, *ALL_DAY)

    assert offered == every(utc(2026, 1, 5, 8), utc(2026, 1, 5, 8, 40))


def test_earliest_and_latest_bound_the_offer_half_open() -> None:
    lead_time_ends = utc(2026, 1, 5, 8, 25)
    horizon = utc(2026, 1, 5, 9)

    offered = free_starts(morning(), 10, 1, lead_time_ends, horizon)

    assert offered == [utc(2026, 1, 5, 8, 30), utc(2026, 1, 5, 8, 40), utc(2026, 1, 5, 8, 50)]
    assert free_starts(morning(), 10, 1, utc(2026, 1, 5, 8, 30), horizon)[0] == utc(
        2026, 1, 5, 8, 30
    )


def test_latest_only_limits_the_start_not_the_end() -> None:
    offered = free_starts(morning(), 10, 6, utc(2026, 1, 5, 0), utc(2026, 1, 5, 8, 1))

    assert offered == [utc(2026, 1, 5, 8)]


def test_appointment_longer_than_the_window_is_never_offered() -> None:
    assert free_starts(morning(), 10, 13, *ALL_DAY) == []


def test_slot_order_does_not_matter() -> None:
    day = morning({utc(2026, 1, 5, 9): 2}) + slots(utc(2026, 1, 5, 11), 6, utc(2026, 1, 5, 12))
    shuffled = list(day)
    random.Random(7).shuffle(shuffled)

    assert free_starts(shuffled, 10, 2, *ALL_DAY) == free_starts(day, 10, 2, *ALL_DAY)
    assert free_starts(list(reversed(day)), 10, 2, *ALL_DAY) == free_starts(day, 10, 2, *ALL_DAY)


def test_units_of_another_window_in_between_do_not_break_the_chain() -> None:
    units = grid_units(
        [window(1, "09:00", "09:30"), window(1, "09:05", "09:35")], [], BERLIN, 10, MONDAY, MONDAY
    )
    state = [SlotState(u.starts_at, u.window_ends_at, u.capacity, 0) for u in units]

    offered = free_starts(state, 10, 3, *ALL_DAY)

    assert offered == [utc(2026, 1, 5, 8), utc(2026, 1, 5, 8, 5)]


def test_grid_and_free_starts_together_on_a_booked_day() -> None:
    rules = [window(1, "08:00", "12:00", desks=2), window(1, "13:00", "15:00", desks=1)]
    units = grid_units(rules, [], BERLIN, 10, MONDAY, MONDAY)
    booked = {utc(2026, 1, 5, 7, 20): 2, utc(2026, 1, 5, 12, 30): 1}
    state = [
        SlotState(u.starts_at, u.window_ends_at, u.capacity, booked.get(u.starts_at, 0))
        for u in units
    ]
    need = units_needed(20 + 15, 10)

    offered = free_starts(state, 10, need, utc(2026, 1, 5, 7, 35), utc(2026, 1, 5, 13, 10))

    assert offered == [
        *every(utc(2026, 1, 5, 7, 40), utc(2026, 1, 5, 10, 20)),
        utc(2026, 1, 5, 12, 40),
        utc(2026, 1, 5, 12, 50),
        utc(2026, 1, 5, 13),
    ]


def test_free_starts_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="grid_minutes"):
        free_starts(morning(), 0, 1, *ALL_DAY)
    with pytest.raises(ValueError, match="needed_units"):
        free_starts(morning(), 10, 0, *ALL_DAY)
    with pytest.raises(ValueError, match="duplicate slot start"):
        free_starts(morning() + morning()[:1], 10, 1, *ALL_DAY)


# group_by_local_day and local_day_bounds


def test_late_utc_start_on_a_summer_day_belongs_to_the_next_local_day() -> None:
    late = utc(2026, 7, 6, 23, 30)
    before_midnight = utc(2026, 7, 6, 21, 59)
    midnight = utc(2026, 7, 6, 22)
    morning_start = utc(2026, 7, 6, 6)

    grouped = group_by_local_day([late, before_midnight, midnight, morning_start], BERLIN)

    assert list(grouped) == [date(2026, 7, 6), date(2026, 7, 7)]
    assert grouped[date(2026, 7, 6)] == [morning_start, before_midnight]
    assert grouped[date(2026, 7, 7)] == [midnight, late]


def test_group_by_local_day_in_winter_and_empty() -> None:
    assert group_by_local_day([utc(2026, 1, 5, 23, 30)], BERLIN) == {
        date(2026, 1, 6): [utc(2026, 1, 5, 23, 30)]
    }
    assert group_by_local_day([utc(2026, 1, 5, 23, 30)], "UTC") == {
        date(2026, 1, 5): [utc(2026, 1, 5, 23, 30)]
    }
    assert group_by_local_day([], BERLIN) == {}


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        (MONDAY, utc(2026, 1, 4, 23), utc(2026, 1, 5, 23), 24),
        (SPRING_FORWARD, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22), 23),
        (FALL_BACK, utc(2026, 10, 24, 22), utc(2026, 10, 25, 23), 25),
    ],
)
def test_local_day_bounds(day: date, start: datetime, end: datetime, hours: int) -> None:
    bounds = local_day_bounds(day, BERLIN)

    assert bounds == (start, end)
    assert bounds[1] - bounds[0] == timedelta(hours=hours)
    assert bounds[0].tzinfo is UTC


def test_local_day_bounds_when_midnight_does_not_exist() -> None:
    # Chile springs forward at midnight: 2026-09-06 begins at 01:00 -03, i.e. 04:00 UTC.
    assert local_day_bounds(date(2026, 9, 6), "America/Santiago") == (
        utc(2026, 9, 6, 4),
        utc(2026, 9, 7, 3),
    )


# invalid input


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe", "", "../etc/passwd", "europe/berlin"])
def test_unknown_time_zone_is_a_value_error(zone: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        grid_units(weekdays("08:00", "12:00"), [], zone, 10, MONDAY, MONDAY)
    with pytest.raises(ValueError, match="unknown time zone"):
        group_by_local_day([utc(2026, 1, 5, 8)], zone)
    with pytest.raises(ValueError, match="unknown time zone"):
        local_day_bounds(MONDAY, zone)


@pytest.mark.parametrize("grid", [0, -10])
def test_non_positive_grid_is_a_value_error(grid: int) -> None:
    with pytest.raises(ValueError, match="grid_minutes must be positive"):
        grid_units(weekdays("08:00", "12:00"), [], BERLIN, grid, MONDAY, MONDAY)
