"""The demo's past: what ``booking dev`` shows in statistics and on the office pages.

The demo is seeded on Friday 29 January 2027, 10:00 in Berlin: the worst day for "last
month", as five weeks back reach only the last week of December, with Christmas closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking import statistics
from booking.api.app import create_app
from booking.clock import FixedClock
from booking.demo import LOCATIONS, seed_demo, seed_demo_access
from booking.demo_history import seed_demo_history
from booking.settings import Settings
from tests.office import bearer

Client = AsyncTestClient[Litestar]
NOW = datetime(2027, 1, 29, 9, 0, tzinfo=UTC)
TODAY = date(2027, 1, 29)
BERLIN = "Europe/Berlin"


@pytest.fixture
async def history(db: asyncpg.Connection) -> str:
    await seed_demo(db, NOW)
    await seed_demo_access(db)
    return await seed_demo_history(db, NOW)


@pytest.fixture
async def client(settings: Settings, redis: Redis, history: str) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings, FixedClock(NOW))) as test_client:
        yield test_client


async def location_id(db: asyncpg.Connection, slug: str) -> int:
    found: int = await db.fetchval("select id from location where slug = $1", slug)
    return found


async def counts(db: asyncpg.Connection) -> tuple[int, int, int]:
    row = await db.fetchrow(
        """
        select (select count(*) from appointment)::int, (select count(*) from ticket)::int,
               (select count(*) from ticket_counter)::int
        """
    )
    assert row is not None
    return row[0], row[1], row[2]


@pytest.mark.parametrize("slug", [loc.slug for loc in LOCATIONS])
async def test_the_last_four_weeks_show_bookings_walk_ins_waits_and_no_shows(
    db: asyncpg.Connection, history: str, slug: str
) -> None:
    first, last = TODAY - timedelta(days=28), TODAY - timedelta(days=1)
    found = await statistics.location_statistics(
        db, await location_id(db, slug), BERLIN, first, last
    )
    total = found.total
    assert total.appointments.booked > 0
    assert total.appointments.completed > 0
    assert total.appointments.no_show > 0
    assert total.appointments.cancelled > 0
    assert total.walk_ins > 0
    assert total.waiting_minutes.median is not None
    assert 0 <= total.waiting_minutes.median <= 45
    assert total.service_minutes.median is not None
    assert 2 <= total.service_minutes.median <= 30
    rate = statistics.no_show_rate(total.appointments)
    assert rate is not None
    assert 0.02 <= rate <= 0.20
    # Weekdays have figures; weekends, Christmas and New Year's Day stay empty.
    busy = {d.day for d in found.days if d.appointments.booked or d.walk_ins}
    assert busy
    assert all(day.isoweekday() <= 5 for day in busy)
    assert date(2027, 1, 1) not in busy
    # Past slots are not made up: utilisation of the past honestly has no data.
    assert total.utilisation.ratio is None


async def test_mornings_are_busiest(db: asyncpg.Connection, history: str) -> None:
    hours = await statistics.waiting_by_hour(
        db, await location_id(db, "mitte"), BERLIN, TODAY - timedelta(days=28), TODAY
    )
    issued = {h.hour: h.waiting_minutes.count for h in hours}
    assert issued[9] > issued[15] > 0


async def test_last_month_on_the_office_pages_has_figures(
    client: Client, db: asyncpg.Connection
) -> None:
    for loc in LOCATIONS:
        answer = await client.get(f"/api/v1/locations/{loc.slug}/transparency")
        assert answer.status_code == 200, answer.text
        month: dict[str, Any] = answer.json()["last_month"]
        assert (month["first_day"], month["last_day"]) == ("2026-12-01", "2026-12-31")
        # What the admin statistics count for December, the public page shows.
        december = await statistics.location_statistics(
            db, await location_id(db, loc.slug), BERLIN, date(2026, 12, 1), date(2026, 12, 31)
        )
        assert december.total.appointments.completed > 0
        assert month["no_show_rate"] == statistics.no_show_rate(december.total.appointments)
        assert month["median_wait_minutes"] == december.total.waiting_minutes.median
        assert month["median_wait_minutes"] is not None


async def test_a_second_start_adds_no_second_past(db: asyncpg.Connection, history: str) -> None:
    appointments, tickets, counters = await counts(db)
    assert history == f"history: 35 days, {appointments:,} appointments, {tickets:,} tickets"
    assert await seed_demo_history(db, NOW) == "history: already there"
    assert await seed_demo_history(db, NOW + timedelta(days=3)) == "history: already there"
    assert await counts(db) == (appointments, tickets, counters)


async def test_the_past_holds_no_personal_data(db: asyncpg.Connection, history: str) -> None:
    kept = await db.fetchval(
        """
        select (select count(*) from appointment
                 where citizen_name is not null or email is not null or phone is not null
                    or personal_data_erased_at is null)
             + (select count(*) from ticket
                 where citizen_name is not null or email is not null
                    or personal_data_erased_at is null)
        """
    )
    assert kept == 0


async def test_past_tickets_are_numbered_per_day_and_served_by_desks_for_their_service(
    db: asyncpg.Connection, history: str
) -> None:
    wrong = await db.fetchval(
        """
        select count(*) from ticket t
         where t.display_code !~ '^[A-Z][0-9]{3}$'
            or (t.desk_id is not null and not exists (
                    select 1 from desk_service x
                     where x.desk_id = t.desk_id and x.service_id = t.service_id))
            or (t.status = 'done') is distinct from (t.started_at is not null)
            or t.called_at < t.issued_at or t.finished_at < t.called_at
        """
    )
    assert wrong == 0
    # Each day's counter is where that day's numbering stopped.
    gaps = await db.fetchval(
        """
        select count(*) from ticket_counter c
         where c.last_number <> (
                   select count(*) from ticket t
                    where t.location_id = c.location_id and t.day = c.day
                      and left(t.display_code, 1) = c.prefix)
        """
    )
    assert gaps == 0


async def test_todays_first_kiosk_ticket_is_still_number_one(client: Client) -> None:
    answer = await client.post(
        "/api/v1/kiosk/tickets",
        json={"service": "personalausweis"},
        headers=bearer("bkd_demo-kiosk-mitte"),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["code"] == "A001"
