"""Every database connection busy (a rush, a slow query): a request waits for one at most
``BOOKING_DB_TIMEOUT_SECONDS`` and then gets a 503 with Retry-After, never an endless wait;
the busy request still completes, and then the next one is served."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from redis.asyncio import Redis

from booking.demo import seed_demo
from tests.faults.support import free_starts, held_booking
from tests.processes import service_env, start_serve


async def test_with_every_connection_busy_a_request_gets_a_quick_503_then_service_again(
    database_url: str, db: asyncpg.Connection, redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    await seed_demo(db, datetime.now(UTC))
    env = service_env(database_url, redis_url, db_pool_max="1", db_timeout_seconds="1")
    server = start_serve(env, tmp_path)
    try:
        # Without a bound the second request would wait as long as the first: the client's
        # timeout here is what a citizen's patience would be.
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            start = (await free_starts(http))[0]
            async with held_booking(db, http, database_url, start) as booking:
                # The waiting booking holds the pool's only connection.
                busy = await http.get("/api/v1/locations")
            assert busy.status_code == 503, busy.text
            assert busy.json()["code"] == "unavailable"
            assert int(busy.headers["Retry-After"]) > 0
            assert (await booking).status == 201
            assert (await http.get("/api/v1/locations")).status_code == 200
    finally:
        server.kill()
    assert not server.errors()
