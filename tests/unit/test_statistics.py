"""The arithmetic of statistics and transparency: ranges, empty days, units, the wait estimate."""

from __future__ import annotations

from datetime import date

import pytest

from booking.db.statistics import AppointmentCounts, PerDay, QueueNow, SlotUse, TicketTimes
from booking.errors import InvalidInput
from booking.statistics import (
    CurrentWait,
    Durations,
    MonthFigures,
    Utilisation,
    check_range,
    combine,
    estimate_wait,
    month_figures,
    previous_month,
)


def test_a_range_spans_at_most_366_days_forwards() -> None:
    check_range(date(2028, 1, 1), date(2028, 12, 31))  # a leap year, 366 days
    check_range(date(2026, 5, 5), date(2026, 5, 5))
    with pytest.raises(InvalidInput, match="at most 366 days"):
        check_range(date(2026, 1, 1), date(2027, 1, 2))
    with pytest.raises(InvalidInput, match="must not be before from") as raised:
        check_range(date(2026, 5, 5), date(2026, 5, 4))
    assert raised.value.details[0].field == "to"


def test_quiet_days_get_zeros_and_totals_come_from_the_whole_range() -> None:
    tuesday = date(2026, 10, 20)
    counts = AppointmentCounts(booked=3, completed=2, no_show=1)
    times = TicketTimes(walk_ins=4, waited=3, wait_median=125.0, wait_p90=330.0)
    report = combine(
        date(2026, 10, 19),
        date(2026, 10, 21),
        PerDay({tuesday: counts}, counts),
        # The total's median is not any day's: it comes from the query, never from days.
        PerDay({tuesday: times}, TicketTimes(walk_ins=4, waited=3, wait_median=96.0)),
        PerDay({tuesday: SlotUse(booked_units=1, capacity_units=3)}, SlotUse()),
    )
    assert [day.day for day in report.days] == [date(2026, 10, n) for n in (19, 20, 21)]
    monday, busy, _ = report.days
    assert monday.appointments == AppointmentCounts()
    assert monday.waiting_minutes == Durations(0, None, None)
    assert monday.utilisation == Utilisation(0, 0, None)  # nothing open: no ratio, not 0
    assert busy.appointments == counts
    assert busy.walk_ins == 4
    assert busy.waiting_minutes == Durations(3, 2.1, 5.5)  # minutes to a tenth
    assert busy.service_minutes == Durations(0, None, None)
    assert busy.utilisation == Utilisation(1, 3, 0.3333)
    assert report.total.waiting_minutes == Durations(3, 1.6, None)


def queue(waiting: int, recent: float | None, desks: int, catalogue: float | None) -> QueueNow:
    return QueueNow(
        waiting=waiting,
        recent_service_median=recent,
        active_desks=desks,
        waiting_catalogue_minutes=catalogue,
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 5 waiting x 7.5 minutes / 2 desks = 18.75, rounded up.
        (queue(5, 450.0, 2, 20.0), CurrentWait(waiting=5, estimated_minutes=19,
            service_minutes=7.5, service_basis="recent", active_desks=2)),
        # Nothing served lately: the catalogue durations, and at least one desk.
        (queue(2, None, 0, 12.5), CurrentWait(waiting=2, estimated_minutes=25,
            service_minutes=12.5, service_basis="catalogue", active_desks=0)),
        (queue(0, 300.0, 3, None), CurrentWait(waiting=0, estimated_minutes=0,
            service_minutes=5.0, service_basis="recent", active_desks=3)),
        # A closed office: nobody waits, nothing to measure.
        (queue(0, None, 0, None), CurrentWait(waiting=0, estimated_minutes=0,
            service_minutes=None, service_basis=None, active_desks=0)),
    ],
)  # fmt: skip
def test_the_wait_estimate(now: QueueNow, expected: CurrentWait) -> None:
    assert estimate_wait(now) == expected


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (date(2026, 11, 10), date(2026, 10, 1), date(2026, 10, 31)),
        (date(2027, 1, 1), date(2026, 12, 1), date(2026, 12, 31)),
        (date(2028, 3, 31), date(2028, 2, 1), date(2028, 2, 29)),
    ],
)
def test_previous_month(today: date, first: date, last: date) -> None:
    assert previous_month(today) == (first, last)


def test_no_show_rate_counts_against_the_appointments_that_were_due() -> None:
    first, last = date(2026, 10, 1), date(2026, 10, 31)
    counts = AppointmentCounts(booked=9, completed=5, no_show=2, checked_in=1, cancelled=4)
    assert month_figures(first, last, counts, TicketTimes(waited=7, wait_median=90.0)) == (
        MonthFigures(first_day=first, last_day=last, waited=7, median_wait_minutes=1.5,
                     appointments_due=8, no_show_rate=0.25)
    )  # fmt: skip
    empty = month_figures(first, last, AppointmentCounts(cancelled=3), TicketTimes())
    assert (empty.appointments_due, empty.no_show_rate, empty.median_wait_minutes) == (
        0,
        None,
        None,
    )
