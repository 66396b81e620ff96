"""SIGTERM, as an orchestrator stops a process for a deploy: work in flight finishes first.

The API: a booking made slow by a row lock that the test holds is still answered 201 after
SIGTERM, and only then does the process exit, with status 0. The worker: a mail in the middle
of its SMTP conversation is delivered and recorded as sent before the worker exits.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.demo import seed_demo
from tests.faults.support import Attempt, free_starts, held_booking
from tests.processes import Inbox, service_env, start_serve, start_worker, wait_for
from tests.reliability import record

DRAINING_SECONDS = 1.0


async def test_sigterm_lets_a_slow_booking_finish_before_the_api_exits(
    database_url: str, db: asyncpg.Connection, redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    await seed_demo(db, datetime.now(UTC))
    server = start_serve(service_env(database_url, redis_url), tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            start = (await free_starts(http))[0]
            async with held_booking(db, http, database_url, start) as booking:
                server.process.send_signal(signal.SIGTERM)
                await asyncio.sleep(DRAINING_SECONDS)
                assert server.process.poll() is None, "the API quit with a request in flight"
            attempt = await booking
        assert attempt.status == 201, attempt.body
        assert server.process.wait(15) == 0
    finally:
        server.kill()
    assert await db.fetchval("select count(*) from appointment") == 1
    record("api_sigterm", faults=1, requests=1, bookings_checked=1, lost=0)


async def test_sigterm_lets_the_worker_finish_the_mail_it_is_sending(
    client: AsyncTestClient[Litestar],
    db: asyncpg.Connection,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    await seed_demo(db, datetime.now(UTC))
    attempt = await Attempt(0, (await free_starts(client))[0]).send(client)
    assert attempt.status == 201, attempt.body
    with Inbox(delay=3.0) as inbox:
        worker = start_worker(
            service_env(database_url, redis_url, smtp_port=str(inbox.port)), tmp_path
        )
        try:
            await wait_for(inbox.in_conversation, 90)
            worker.process.send_signal(signal.SIGTERM)
            assert worker.process.wait(30) == 0, worker.log_text()
        finally:
            worker.kill()
    assert len(inbox.received) == 1
    assert await db.fetchval("select count(*) from outbox where sent_at is not null") == 1
    record("worker_sigterm", faults=1, messages_checked=1, lost=0)
