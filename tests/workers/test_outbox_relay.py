"""The outbox relay in real worker processes: woken by the commit, shared by several workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import asyncpg

from booking.settings import Settings
from tests.processes import Inbox, reached, service_env, start_worker, wait_for
from tests.workers.test_worker_faults import MESSAGES, queue_confirmations


async def test_a_mail_goes_out_when_its_row_commits_without_waiting_for_a_poll(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    # The relay looks on its own only once an hour here: only the commit can wake it in time.
    with Inbox() as inbox:
        env = service_env(
            settings.database_url, settings.redis_url, smtp_port=str(inbox.port),
            outbox_poll_seconds="3600",
        )  # fmt: skip
        worker = start_worker(env, tmp_path)
        try:
            # Its first look, at start, finds nothing; then the rows commit.
            await wait_for(reached(lambda: worker.logged("listening on outbox"), 1), 60)
            async with db.transaction():
                await queue_confirmations(db)
                await asyncio.sleep(0.5)
                assert inbox.received == [], "nothing may go out before the commit"
            await wait_for(reached(lambda: len(inbox.received), MESSAGES), 60)
        finally:
            worker.terminate()
    assert sorted(inbox.received) == sorted(f"<m{n}@test.local>" for n in range(MESSAGES))


async def test_two_workers_share_the_outbox_and_send_each_mail_once(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await queue_confirmations(db)
    with Inbox(delay=0.05) as inbox:
        env = service_env(settings.database_url, settings.redis_url, smtp_port=str(inbox.port))
        workers = [start_worker(env, tmp_path / name) for name in ("first", "second")]

        async def all_recorded() -> bool:
            unsent = await db.fetchval("select count(*) from outbox where sent_at is null")
            return bool(unsent == 0)

        try:
            await wait_for(all_recorded, 120)
        finally:
            for worker in workers:
                worker.terminate()
    counts = Counter(inbox.received)
    assert set(counts) == {f"<m{n}@test.local>" for n in range(MESSAGES)}
    assert max(counts.values()) == 1
    assert await db.fetchval("select max(attempts) from outbox") == 1
