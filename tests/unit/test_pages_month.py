"""The month view: weeks from Monday, free starts counted per day, neighbours only when bookable."""

from __future__ import annotations

from datetime import UTC, date, datetime

from booking.pages.month import month_grid
from booking.search import DayStarts


def test_june_2025_starts_on_a_sunday_and_counts_free_starts() -> None:
    first = date(2025, 6, 1)
    starts = [datetime(2025, 6, 3, 8, tzinfo=UTC), datetime(2025, 6, 3, 9, tzinfo=UTC)]
    month = month_grid(first, [DayStarts(date(2025, 6, 3), starts)], (first, date(2025, 7, 31)))

    assert [len(week) for week in month.weeks] == [7] * 6
    assert month.weeks[0][:6] == [None] * 6
    cells = [cell for week in month.weeks for cell in week if cell]
    assert [c.day.day for c in cells] == list(range(1, 31))
    assert {c.day.day: c.free for c in cells if c.free} == {3: 2}
    assert month.weeks[-1][1:] == [None] * 6  # the 30th is a Monday


def test_neighbours_are_offered_only_within_the_bookable_months() -> None:
    bookable = (date(2025, 6, 1), date(2025, 7, 15))
    june = month_grid(date(2025, 6, 1), [], bookable)
    july = month_grid(date(2025, 7, 1), [], bookable)
    assert (june.previous, june.next) == (None, date(2025, 7, 1))
    assert (july.previous, july.next) == (date(2025, 6, 1), None)
