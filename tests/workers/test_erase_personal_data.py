from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from redis.asyncio import Redis

from booking.redis_client import create_redis
from booking.settings import Settings
from tests.burst import run_burst


async def _appointment(db: asyncpg.Connection, location_id: int, ends: datetime, code: str) -> int:
    appointment_id: int = await db.fetchval(
        """
        insert into appointment (code, location_id, starts_at, ends_at, citizen_name, email,
                                 phone, manage_token_hash)
        values ($1, $2, $3::timestamptz - interval '20 minutes', $3, 'Erika Mustermann',
                'erika@example.org', '+49 170 1234567', '\\x00')
        returning id
        """,
        code, location_id, ends,
    )  # fmt: skip
    return appointment_id


async def test_worker_erases_contact_data_after_the_retention_period(
    settings: Settings, db: asyncpg.Connection, redis: Redis
) -> None:
    location_id = await db.fetchval(
        "insert into location (slug, name_de, name_en) values ('mitte', 'Mitte', 'Centre') "
        "returning id"
    )
    now = datetime.now(UTC)
    old = await _appointment(db, location_id, now - timedelta(days=3), "OLD234")
    recent = await _appointment(db, location_id, now - timedelta(days=1), "NEW234")

    queue = create_redis(settings)
    job = await queue.enqueue_job("erase_personal_data")
    assert job is not None
    await run_burst(settings)
    assert await job.result(timeout=5) == {"appointments": 1, "tickets": 0, "waitlist_entries": 0}
    await queue.aclose()

    rows = {
        r["id"]: r
        for r in await db.fetch(
            "select id, citizen_name, email, phone, personal_data_erased_at, code from appointment"
        )
    }
    assert (rows[old]["citizen_name"], rows[old]["email"], rows[old]["phone"]) == (None, None, None)
    assert rows[old]["personal_data_erased_at"] is not None
    assert rows[old]["code"] == "OLD234"  # the anonymised record survives for statistics
    assert rows[recent]["email"] == "erika@example.org"
