"""An API process killed (SIGKILL, no chance to clean up) in the middle of a booking storm.

Each booking is one transaction that writes the appointment, takes its units and writes its
message; a process that dies mid-way leaves PostgreSQL to roll back whatever it had not
committed. Afterwards the database must hold, for every request, either the whole booking
with its message or nothing at all. The citizens whose answers were lost send their request
again with the same Idempotency-Key to a new process: the committed ones get their booking
back, the others book now, nobody twice. A worker then mails every booking exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from redis.asyncio import Redis

from booking.demo import seed_demo
from tests.faults.support import Attempt, free_starts
from tests.integrity import assert_units_match_appointments, booked_emails
from tests.processes import Inbox, service_env, start_serve, start_worker, wait_for
from tests.reliability import record

CITIZENS = 300
KILL_AFTER_ANSWERS = 40


async def test_a_killed_api_leaves_every_booking_whole_or_absent(
    database_url: str, db: asyncpg.Connection, redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    await seed_demo(db, datetime.now(UTC))
    env = service_env(database_url, redis_url)
    server = start_serve(env, tmp_path / "first", workers=2)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            starts = await free_starts(http)
            attempts = [Attempt(n, start) for n, start in enumerate(starts[:CITIZENS])]
            storm = [asyncio.create_task(a.send(http)) for a in attempts]

            async def some_answered() -> bool:
                return sum(a.status is not None for a in attempts) >= KILL_AFTER_ANSWERS

            await wait_for(some_answered, 90)
            server.kill()
            await asyncio.gather(*storm)
    finally:
        server.kill()
    answered = [a for a in attempts if a.status is not None]
    unanswered = [a for a in attempts if a.status is None]
    assert {a.status for a in answered} == {201}, Counter(a.status for a in answered)
    assert unanswered, "the kill came too late: every request had its answer"

    # Whole or absent: each appointment has its message, the units agree, and every 201 is in.
    booked = await booked_emails(db)
    await assert_units_match_appointments(db)
    assert {a.email for a in answered} <= set(booked)
    assert set(booked) <= {a.email for a in attempts}
    committed_unanswered = {a.email for a in unanswered} & set(booked)

    again = start_serve(env, tmp_path / "second")
    try:
        async with httpx.AsyncClient(base_url=again.url, timeout=30) as http:
            retried = await asyncio.gather(*(Attempt(a.n, a.start).send(http) for a in unanswered))
    finally:
        assert again.terminate() == 0
    assert {a.status for a in retried} == {201}, [a.body for a in retried if a.status != 201]
    for attempt in retried:
        if attempt.email in committed_unanswered:  # replayed, not booked a second time
            assert attempt.body["code"] == booked[attempt.email]
    booked = await booked_emails(db)
    await assert_units_match_appointments(db)
    assert set(booked) == {a.email for a in attempts}

    with Inbox() as inbox:
        worker = start_worker({**env, "BOOKING_SMTP_PORT": str(inbox.port)}, tmp_path)
        try:

            async def all_sent() -> bool:
                unsent = await db.fetchval("select count(*) from outbox where sent_at is null")
                return bool(unsent == 0)

            await wait_for(all_sent, 180)
        finally:
            assert worker.terminate() == 0
    expected = {r["message_id"] for r in await db.fetch("select message_id from outbox")}
    received = Counter(inbox.received)
    assert set(received) == expected
    assert max(received.values()) == 1
    record(
        "api_sigkill",
        faults=1,
        requests=len(attempts) + len(retried),
        unanswered_at_kill=len(unanswered),
        committed_but_unanswered=len(committed_unanswered),
        bookings_checked=len(booked),
        messages_checked=len(received),
        lost=len({a.email for a in attempts} - set(booked)) + len(expected - set(received)),
    )
