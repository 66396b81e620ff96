"""PostgreSQL restarted under load, and under a worker.

A ``booking serve`` of its own talks to a PostgreSQL of its own while citizens keep booking.
The database is shut down fast (as an operator's restart does: sessions are ended), stays
away for two seconds and starts again. While it is away every request must get a quick 503
in the common error format, never a 500 and never a hang; afterwards the same server process
must serve again by itself (its pool reconnects). Then the database is the judge: every
request either committed its appointment with its message or left nothing, and sending the
unanswered ones again with their Idempotency-Key books each exactly once. A worker lives
through the restart too: its outbox relay listens again and sends the mails that follow.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from booking.db.database import ensure_database
from booking.db.migrations import load_migrations, migrate
from booking.demo import seed_demo
from booking.embedded import EmbeddedPostgres
from tests.faults.support import Attempt, free_starts
from tests.integrity import assert_units_match_appointments, booked_emails
from tests.processes import Inbox, reached, service_env, start_serve, start_worker, wait_for
from tests.reliability import record
from tests.workers.test_worker_faults import MESSAGES, queue_confirmations

CLIENTS = 6
DOWN_SECONDS = 2.0
FAST_FAIL_SECONDS = 1.0  # a 503 while the database is away comes at once, not after a wait
RECOVERY_SECONDS = 10.0
PAUSE_SECONDS = 0.05  # between one citizen's requests: about 100 requests a second in all


@pytest.fixture
async def own_postgres() -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    # Outside pytest's temporary folders, which are private to root; PostgreSQL runs as
    # another user there.
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="booking-pg-")), delete_on_stop=True)
    url = server.url("booking")
    await ensure_database(url)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, load_migrations())
        await seed_demo(conn, datetime.now(UTC))
    finally:
        await conn.close()
    yield server, url
    server.stop()


async def test_a_postgres_restart_under_load_gives_fast_503s_and_loses_nothing(
    own_postgres: tuple[EmbeddedPostgres, str], redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    postgres, url = own_postgres
    server = start_serve(service_env(url, redis_url, db_pool_min="2"), tmp_path)
    phase = "before"
    seen: list[tuple[str, Attempt, float]] = []  # phase, attempt, seconds to answer
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            starts = await free_starts(http)
            numbers = itertools.count()
            stop = asyncio.Event()

            async def citizen() -> None:
                while not stop.is_set() and (n := next(numbers)) < len(starts):
                    began, at = time.monotonic(), phase
                    attempt = await Attempt(n, starts[n]).send(http)
                    seen.append((at, attempt, time.monotonic() - began))
                    await asyncio.sleep(PAUSE_SECONDS)

            clients = [asyncio.create_task(citizen()) for _ in range(CLIENTS)]
            await asyncio.sleep(1.0)
            phase = "down"
            await asyncio.to_thread(postgres.interrupt)
            await asyncio.sleep(DOWN_SECONDS)
            phase = "restarting"
            await asyncio.to_thread(postgres.resume)
            back = time.monotonic()
            phase = "after"
            while not any(p == "after" and a.status == 201 for p, a, *_ in seen):
                assert time.monotonic() - back < RECOVERY_SECONDS, "no recovery"
                await asyncio.sleep(0.05)
            recovered_in = time.monotonic() - back
            await asyncio.sleep(1.0)
            stop.set()
            await asyncio.gather(*clients)
            ready = await http.get("/readyz")
            unanswered = [a for _, a, *_ in seen if a.status != 201]
            retried = await asyncio.gather(*(Attempt(a.n, a.start).send(http) for a in unanswered))
    finally:
        exit_status = server.terminate()

    statuses = Counter((p, a.status) for p, a, *_ in seen)
    assert {status for _, status in statuses} <= {201, 503}, statuses  # no 500, no lost answer
    assert statuses["down", 503] > 0, f"the outage was not felt: {statuses}"
    assert statuses["after", 201] > 0, statuses
    for _, attempt, seconds in seen:
        if attempt.status == 503:
            assert attempt.body["code"] == "unavailable", attempt.body
            assert set(attempt.body) == {"status", "code", "message", "details"}
            assert seconds < FAST_FAIL_SECONDS, f"a 503 took {seconds:.2f} s"
    assert ready.status_code == 200, ready.text
    assert all(a.status == 201 for a in retried), [a.body for a in retried if a.status != 201]
    assert server.errors() == [], "\n".join(server.errors()[:20])
    assert exit_status == 0

    conn = await asyncpg.connect(url)
    try:
        booked = await booked_emails(conn)
        await assert_units_match_appointments(conn)
    finally:
        await conn.close()
    attempted = {a.email for _, a, *_ in seen}
    lost = attempted - set(booked)
    assert not lost, f"{len(lost)} booking request(s) neither booked nor refused"
    assert set(booked) == attempted  # and nothing booked that nobody asked for
    record(
        "postgres_restart",
        faults=1,
        requests=len(seen) + len(retried),
        unavailable_answers=sum(n for (_, status), n in statuses.items() if status == 503),
        recovered_seconds=round(recovered_in, 2),
        bookings_checked=len(booked),
        messages_checked=len(booked),
        lost=len(lost),
    )


async def test_the_worker_listens_again_after_a_postgres_restart_and_sends_what_follows(
    own_postgres: tuple[EmbeddedPostgres, str], redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    postgres, url = own_postgres
    # The relay looks on its own only once an hour: after the restart, only its listening
    # connection, opened again, can wake it for the rows that follow.
    with Inbox() as inbox:
        env = service_env(url, redis_url, smtp_port=str(inbox.port), outbox_poll_seconds="3600")
        worker = start_worker(env, tmp_path)

        def listened() -> int:
            return worker.logged("listening on outbox")

        try:
            await wait_for(reached(listened, 1), 60)
            await asyncio.to_thread(postgres.interrupt)
            await asyncio.sleep(DOWN_SECONDS)
            await asyncio.to_thread(postgres.resume)
            await wait_for(reached(listened, 2), 60)
            conn = await asyncpg.connect(url)
            try:
                await queue_confirmations(conn)
                await wait_for(reached(lambda: len(inbox.received), MESSAGES), 60)
            finally:
                await conn.close()
            assert worker.process.poll() is None, worker.log_text()
        finally:
            exit_status = worker.terminate()
    expected = {f"<m{n}@test.local>" for n in range(MESSAGES)}
    assert sorted(inbox.received) == sorted(expected)
    assert exit_status == 0
    record(
        "worker_postgres_restart", faults=1, messages_checked=MESSAGES,
        lost=len(expected - set(inbox.received)),
    )  # fmt: skip
