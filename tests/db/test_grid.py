"""The slot grid in the database: DST days, closures, conflicts, the daily extension job."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import asyncpg
from redis.asyncio import Redis

from booking.clock import FixedClock
from booking.db.catalogue import (
    NewClosure,
    NewLocation,
    NewOpeningRule,
    insert_closures,
    insert_location_if_missing,
    insert_opening_rules,
)
from booking.grid import grid_conflicts, regenerate_location_grid
from booking.redis_client import create_redis
from booking.settings import Settings
from tests.burst import run_burst


async def night_office(db: asyncpg.Connection, horizon_days: int = 30) -> int:
    """An office open 00:00-06:00 every day: it feels every daylight-saving change."""
    location_id = await insert_location_if_missing(
        db,
        NewLocation(
            slug="nacht", name_de="Nachtamt", name_en="Night office", street="", postal_code="",
            city="", horizon_days=horizon_days, min_lead_minutes=0,
        ),
    )  # fmt: skip
    assert location_id is not None
    await insert_opening_rules(
        db, location_id, [NewOpeningRule(day, time(0), time(6), 2) for day in range(1, 8)]
    )
    return location_id


async def units_on(db: asyncpg.Connection, location_id: int, day: str) -> int:
    count: int = await db.fetchval(
        """
        select count(*) from slot
         where location_id = $1 and (starts_at at time zone 'Europe/Berlin')::date = $2::date
        """,
        location_id,
        date.fromisoformat(day),
    )
    return count


async def test_daylight_saving_days_have_the_right_number_of_units(db: asyncpg.Connection) -> None:
    location_id = await night_office(db)
    await regenerate_location_grid(db, location_id, datetime(2026, 3, 20, tzinfo=UTC))
    await regenerate_location_grid(db, location_id, datetime(2026, 10, 20, tzinfo=UTC))
    assert await units_on(db, location_id, "2026-03-28") == 36
    assert await units_on(db, location_id, "2026-03-29") == 30  # clocks jump 02:00 -> 03:00
    assert await units_on(db, location_id, "2026-10-25") == 42  # 02:00-03:00 happens twice
    first_after_change = await db.fetchval(
        "select min(starts_at) from slot"
        " where location_id = $1 and starts_at >= '2026-03-29 00:00+01'",
        location_id,
    )
    assert first_after_change == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)


async def test_a_closure_removes_free_units_and_keeps_booked_ones_as_conflicts(
    db: asyncpg.Connection,
) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    location_id = await night_office(db)
    await regenerate_location_grid(db, location_id, now)
    # Two citizens hold 03:00-03:20 local on 10 December (simulated booking).
    await db.execute(
        """
        update slot set booked = 1 where location_id = $1
           and starts_at >= '2026-12-10 03:00+01' and starts_at < '2026-12-10 03:20+01'
        """,
        location_id,
    )
    await db.execute(
        """
        insert into appointment (code, location_id, starts_at, ends_at, manage_token_hash)
        values ('KQ7X2M', $1, '2026-12-10 03:00+01', '2026-12-10 03:20+01', '\\x00')
        """,
        location_id,
    )
    await insert_closures(
        db,
        location_id,
        [NewClosure(date(2026, 12, 10), date(2026, 12, 10), "Schulung", "Training")],
    )
    report = await regenerate_location_grid(db, location_id, now)
    assert report.removed == 34
    assert [(u.starts_at, u.rule_capacity, u.booked) for u in report.conflict_units] == [
        (datetime(2026, 12, 10, 2, 0, tzinfo=UTC), 0, 1),
        (datetime(2026, 12, 10, 2, 10, tzinfo=UTC), 0, 1),
    ]
    assert [a.code for a in report.conflicting_appointments] == ["KQ7X2M"]
    left = await db.fetch(
        "select capacity, booked from slot where location_id = $1"
        " and starts_at >= '2026-12-10 00:00+01' and starts_at < '2026-12-11 00:00+01'",
        location_id,
    )
    assert [(r["capacity"], r["booked"]) for r in left] == [(1, 1), (1, 1)]
    standing = await grid_conflicts(db, location_id, now)
    assert [a.code for a in standing.conflicting_appointments] == ["KQ7X2M"]
    # Lifting the closure restores full capacity and the conflict disappears.
    await db.execute("delete from closure where location_id = $1", location_id)
    healed = await regenerate_location_grid(db, location_id, now)
    assert healed.conflict_units == []
    assert healed.created == 34


async def test_the_daily_job_moves_the_horizon_on(
    settings: Settings, db: asyncpg.Connection, redis: Redis
) -> None:
    location_id = await night_office(db, horizon_days=3)
    clock = FixedClock(datetime(2026, 12, 1, 12, tzinfo=UTC))

    async def run_job() -> None:
        queue = create_redis(settings)
        await queue.enqueue_job("extend_grids")
        await queue.aclose()
        await run_burst(settings, clock)

    await run_job()
    last = await db.fetchval("select max(starts_at) from slot where location_id = $1", location_id)
    clock.instant += timedelta(days=1)
    await run_job()
    moved = await db.fetchval("select max(starts_at) from slot where location_id = $1", location_id)
    assert moved - last == timedelta(days=1)


async def test_a_shorter_horizon_drops_free_units_beyond_it(db: asyncpg.Connection) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    location_id = await night_office(db, horizon_days=10)
    await regenerate_location_grid(db, location_id, now)
    await db.execute("update location set horizon_days = 5 where id = $1", location_id)
    report = await regenerate_location_grid(db, location_id, now)
    assert report.removed == 5 * 36
    last = await db.fetchval("select max(starts_at) from slot where location_id = $1", location_id)
    assert last == datetime(2026, 12, 6, 4, 50, tzinfo=UTC)  # 05:50 local on day five
