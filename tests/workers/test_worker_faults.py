"""A worker killed with SIGKILL in the middle of a batch: nothing lost, nothing sent twice
that was already recorded as sent."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from booking.demo import seed_demo
from booking.embedded import EmbeddedRedis
from tests.processes import Inbox, service_env, start_worker, wait_for
from tests.reliability import record

MESSAGES = 40


async def queue_confirmations(db: asyncpg.Connection) -> None:
    """Appointments with their confirmation rows, as committed bookings leave them."""
    now = datetime.now(UTC)
    await seed_demo(db, now)
    location = await db.fetchval("select id from location where slug = 'mitte'")
    service = await db.fetchval("select id from service where slug = 'beglaubigung'")
    start = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    for n in range(MESSAGES):
        appointment_id = await db.fetchval(
            """
            insert into appointment (code, location_id, starts_at, ends_at, citizen_name, email,
                                     manage_token_hash, token_salt, status)
            values ($1, $2, $3::timestamptz, $3::timestamptz + interval '10 minutes',
                    $4, $5, $6, $7, 'booked')
            returning id
            """,
            f"K{n:05d}", location, start + timedelta(minutes=10 * n), f"Person {n}",
            f"person{n}@example.org", secrets.token_bytes(32), secrets.token_bytes(16),
        )  # fmt: skip
        await db.execute(
            "insert into appointment_service (appointment_id, service_id, position)"
            " values ($1, $2, 0)",
            appointment_id,
            service,
        )
        await db.execute(
            "insert into outbox (kind, appointment_id, message_id, payload)"
            " values ('confirmation', $1, $2, '{\"sequence\": 0}')",
            appointment_id,
            f"<m{n}@test.local>",
        )


async def test_a_killed_worker_loses_nothing_and_repeats_nothing_recorded(
    database_url: str, redis_url: str, db: asyncpg.Connection, redis: object, tmp_path: Path
) -> None:
    await queue_confirmations(db)
    inbox = Inbox(delay=0.4)
    inbox.__enter__()
    env = service_env(database_url, redis_url, smtp_port=str(inbox.port), outbox_lease_seconds="2")

    async def some_sent() -> bool:
        return len(inbox.received) >= 5

    async def all_recorded() -> bool:
        unsent = await db.fetchval("select count(*) from outbox where sent_at is null")
        return bool(unsent == 0)

    first = start_worker(env, tmp_path / "first")
    try:
        await wait_for(some_sent, 180)
    finally:
        first.kill()
    recorded = {
        r["message_id"]
        for r in await db.fetch("select message_id from outbox where sent_at is not null")
    }
    assert 0 < len(recorded) < MESSAGES, "the kill must land in the middle of the batch"

    await asyncio.sleep(
        2.5
    )  # the dead worker's leases run out; the new one's first look at start sees them
    second = start_worker(env, tmp_path / "second")
    try:
        await wait_for(all_recorded, 180)
    finally:
        second.terminate()
        inbox.__exit__()
    counts = Counter(inbox.received)
    expected = {f"<m{n}@test.local>" for n in range(MESSAGES)}
    assert set(counts) == expected  # nothing lost
    repeated = {message_id for message_id, count in counts.items() if count > 1}
    assert not repeated & recorded  # a row recorded as sent is never sent again
    record(
        "worker_sigkill",
        faults=1,
        messages_checked=MESSAGES,
        lost=len(expected - set(counts)),
        sent_again_after_kill=len(repeated),
    )


async def test_a_worker_that_loses_redis_exits_for_its_supervisor(
    database_url: str, tmp_path: Path
) -> None:
    own = EmbeddedRedis(tmp_path / "redis", persist=False)
    worker = start_worker(service_env(database_url, own.url()), tmp_path / "worker")
    try:
        await asyncio.sleep(3)
        assert worker.process.poll() is None
    finally:
        own.stop()
    assert worker.process.wait(60) == 2
    last_line = worker.log_text().strip().splitlines()[-1]
    assert last_line.startswith("booking: error: lost the queue (Redis)")


async def test_a_worker_that_loses_redis_finishes_the_mails_it_is_sending_before_it_exits(
    database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await queue_confirmations(db)
    own = EmbeddedRedis(tmp_path / "redis", persist=False)
    with Inbox(delay=2.0) as inbox:
        env = service_env(database_url, own.url(), smtp_port=str(inbox.port))
        worker = start_worker(env, tmp_path / "worker")
        try:
            await wait_for(inbox.in_conversation, 90)
        finally:
            own.stop()
        assert worker.process.wait(60) == 2, worker.log_text()
    # Every mail it had taken is recorded; none waits for its lease to run out.
    stranded = await db.fetchval(
        "select count(*) from outbox where claimed_until is not null and sent_at is null"
    )
    assert stranded == 0
    sent = {
        r["message_id"]
        for r in await db.fetch("select message_id from outbox where sent_at is not null")
    }
    assert sent == set(inbox.received)
    assert sent
