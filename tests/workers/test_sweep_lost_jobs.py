"""A worker that dies after taking a mail's job but before leasing its row leaves the job
marked as running in Redis (for arq's in-progress timeout, minutes) under the row's job id.
The sweep gives such a row a job of its own, so the mail still goes out soon."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

from booking.redis_client import create_redis
from booking.settings import Settings
from booking.workers.enqueue import enqueue_messages, job_id
from tests.processes import Inbox, service_env, start_worker, wait_for
from tests.workers.test_worker_faults import MESSAGES, queue_confirmations


async def test_mails_whose_jobs_a_dead_worker_took_are_sent_by_the_next(
    settings: Settings, db: asyncpg.Connection, redis: Redis, tmp_path: Path
) -> None:
    await queue_confirmations(db)
    # Due for longer than a lease, and each one's job taken by a worker that is gone.
    await db.execute("update outbox set not_before = now() - interval '2 minutes'")
    due = [(row["id"], 0) for row in await db.fetch("select id from outbox")]
    queue = create_redis(settings)
    try:
        await enqueue_messages(queue, due)
    finally:
        await queue.aclose()
    for outbox_id, attempts in due:
        await redis.psetex(in_progress_key_prefix + job_id(outbox_id, attempts), 300_000, b"1")

    with Inbox() as inbox:
        env = service_env(
            settings.database_url, settings.redis_url, smtp_port=str(inbox.port),
            outbox_lease_seconds="60",
        )  # fmt: skip
        worker = start_worker(env, tmp_path)

        async def all_arrived() -> bool:
            return len(inbox.received) >= MESSAGES

        try:
            await wait_for(all_arrived, 60)
        finally:
            worker.terminate()
    assert sorted(inbox.received) == sorted(f"<m{n}@test.local>" for n in range(MESSAGES))
    assert await db.fetchval("select count(*) from outbox where sent_at is null") == 0
