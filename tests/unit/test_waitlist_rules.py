"""The waitlist's pure rules: which times suit a request, which may be offered, whose turn."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest

from booking.db.offers import SetLocation
from booking.db.quarantine import OfferableUnit
from booking.db.waitlist import Entry
from booking.settings import SettingsError, load_settings
from booking.waitlist import fits, offerable_spans, order_of_turns

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
LOCATION = SetLocation(
    id=1, slug="mitte", name_de="Mitte", name_en="Centre", street="", postal_code="", city="",
    email="", time_zone="Europe/Berlin", grid_minutes=10, horizon_days=60, min_lead_minutes=60,
    cancel_deadline_minutes=1440, reminder_minutes=1440, requires_confirmation=False,
    total_minutes=20, service_ids=[1],
)  # fmt: skip
ENTRY = Entry(
    id=1, public_id="x" * 16, email="e@example.org", citizen_name=None, language="de",
    service_ids=[1], location_ids=[1], earliest_day=date(2026, 12, 1),
    latest_day=date(2026, 12, 4), weekdays=[2, 4], time_from=time(9), time_until=time(10),
    status="active", manage_token_hash=b"", confirm_token_hash=None, token_salt=b"",
    confirm_until=None,
)  # fmt: skip


def local(day: int, clock: str) -> datetime:
    return datetime.combine(date(2026, 12, day), time.fromisoformat(clock), tzinfo=BERLIN)


def test_a_time_fits_by_local_day_weekday_and_time_of_day() -> None:
    def suits(day: int, start: str, end: str) -> bool:
        return fits(ENTRY, local(day, start), local(day, end), "Europe/Berlin")

    assert suits(1, "09:00", "09:20")  # Tuesday
    assert suits(1, "09:40", "10:00")  # ends exactly at time_until
    assert suits(3, "09:00", "09:20")  # Thursday
    assert not suits(2, "09:00", "09:20")  # Wednesday
    assert not suits(1, "08:50", "09:10")  # starts too early
    assert not suits(1, "09:50", "10:10")  # ends too late
    assert not suits(8, "09:00", "09:20")  # after latest_day, though a Tuesday


def test_an_end_at_midnight_is_the_end_of_the_day_not_its_start() -> None:
    late = msgspec.structs.replace(ENTRY, weekdays=[2], time_from=None, time_until=time(23, 59))
    assert not fits(late, local(1, "23:50"), local(2, "00:00"), "Europe/Berlin")
    open_end = msgspec.structs.replace(late, time_until=None)
    assert fits(open_end, local(1, "23:50"), local(2, "00:00"), "Europe/Berlin")


def units(*spec: tuple[str, bool], window_end: str = "12:30") -> list[OfferableUnit]:
    return [
        OfferableUnit(local(1, start).astimezone(UTC), local(1, window_end), held)
        for start, held in spec
    ]


def test_an_offer_uses_a_held_back_place_and_may_take_free_room_beside_it() -> None:
    found = units(("08:50", False), ("09:00", True), ("09:10", False), ("09:30", True))
    spans = offerable_spans(found, LOCATION, ENTRY, NOW)
    # 08:50 is before time_from; 09:00-09:20 uses the held place and the free 09:10;
    # 09:10 alone has no neighbour at 09:20; 09:30 has none at 09:40.
    assert [(s.astimezone(BERLIN).strftime("%H:%M")) for s, _ in spans] == ["09:00"]
    assert spans[0][1] - spans[0][0] == timedelta(minutes=20)


def test_free_room_alone_is_no_offer_the_public_may_book_it() -> None:
    assert offerable_spans(units(("09:00", False), ("09:10", False)), LOCATION, ENTRY, NOW) == []


def test_an_offer_never_crosses_a_window_end() -> None:
    found = units(("09:00", True), ("09:10", True), window_end="09:10")
    assert offerable_spans(found, LOCATION, ENTRY, NOW) == []


def test_first_come_first_served_keeps_the_order_and_the_lottery_shuffles_it() -> None:
    entries = [msgspec.structs.replace(ENTRY, id=n) for n in range(5)]
    assert order_of_turns(entries, "fcfs", random.Random(1)) == entries
    rng = random.Random(7)
    firsts = Counter(order_of_turns(entries, "lottery", rng)[0].id for _ in range(2000))
    # Each entry goes first about a fifth of the time, the earliest no more often.
    assert set(firsts) == set(range(5))
    assert all(320 <= n <= 480 for n in firsts.values()), firsts


def test_the_lottery_may_not_outlast_the_cooldown() -> None:
    with pytest.raises(SettingsError, match="LOTTERY_MINUTES must not exceed"):
        load_settings(
            {"BOOKING_WAITLIST_LOTTERY_MINUTES": "20", "BOOKING_WAITLIST_COOLDOWN_MINUTES": "10"}
        )
    settings = load_settings({})
    assert (settings.waitlist_offer_minutes, settings.pow_difficulty) == (120, 100_000)
