"""Redis stopped and started again under a running ``booking serve`` and ``booking worker``.

Redis carries the job queue and the rate-limit counters, never the truth. While it is away,
bookings still succeed (their messages wait in the outbox), readiness says what is missing
and the limiter lets requests through. The worker exits for its supervisor, as arq cannot
reconnect; the test restarts it as a supervisor would. Once Redis is back, every booking's
mail arrives exactly once and the rate limits count again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from booking.demo import seed_demo
from booking.embedded import EmbeddedRedis
from tests.faults.support import Attempt, citizen_headers, free_starts
from tests.integrity import booked_emails
from tests.processes import Inbox, Service, service_env, start_serve, start_worker, wait_for
from tests.reliability import record

PER_PHASE = 3
LOOKUP_LIMIT = 30  # booking.api.appointments.LOOKUP_LIMIT, per minute


async def book(http: httpx.AsyncClient, numbers: range, starts: list[str]) -> list[Attempt]:
    attempts = await asyncio.gather(*(Attempt(n, starts[n]).send(http) for n in numbers))
    assert [a.status for a in attempts] == [201] * len(numbers), [a.body for a in attempts]
    return list(attempts)


async def lookups(http: httpx.AsyncClient, code: str, times: int) -> Counter[int]:
    """One client reading an appointment ``times`` times (a wrong token: 404 until limited)."""
    answers = Counter[int]()
    for _ in range(times):
        answer = await http.get(
            f"/api/v1/appointments/{code}",
            headers={**citizen_headers(999), "Authorization": "Bearer not-the-token"},
        )
        answers[answer.status_code] += 1
    return answers


async def test_redis_down_and_back_loses_no_booking_and_no_mail(
    database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await seed_demo(db, datetime.now(UTC))
    redis = EmbeddedRedis(tmp_path / "redis", persist=False)
    workers: list[Service] = []
    with Inbox() as inbox:
        env = service_env(database_url, redis.url(), smtp_port=str(inbox.port))
        server = start_serve(env, tmp_path)
        try:
            workers.append(start_worker(env, tmp_path))
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                starts = await free_starts(http)
                first = await book(http, range(PER_PHASE), starts)

                async def mailed(count: int) -> bool:
                    return len(inbox.received) >= count

                await wait_for(lambda: mailed(PER_PHASE), 90)

                redis.stop()
                during = await book(http, range(PER_PHASE, 2 * PER_PHASE), starts)
                ready = await http.get("/readyz")
                assert ready.status_code == 503, ready.text
                assert ready.json()["details"] == [{"field": "redis", "message": "unavailable"}]
                # The abuse guard cannot count, so it lets citizens through.
                unguarded = await lookups(http, first[0].body["code"], LOOKUP_LIMIT + 5)
                assert unguarded == {404: LOOKUP_LIMIT + 5}, unguarded
                assert workers[0].process.wait(30) == 2, workers[0].log_text()
                assert "lost the queue (Redis)" in workers[0].log_text()

                redis = EmbeddedRedis(tmp_path / "redis", persist=False, port=redis.port)
                workers.append(start_worker(env, tmp_path))  # as the supervisor does
                after = await book(http, range(2 * PER_PHASE, 3 * PER_PHASE), starts)
                await wait_for(lambda: mailed(3 * PER_PHASE), 180)
                assert (await http.get("/readyz")).status_code == 200
                # Two windows at most: one of them sees more than the limit.
                guarded = await lookups(http, first[0].body["code"], 2 * LOOKUP_LIMIT + 1)
                assert guarded[429] > 0, guarded
                await asyncio.sleep(1)  # a duplicate would come now, if ever
        finally:
            for worker in workers:
                worker.terminate()
            assert server.terminate() == 0
            redis.stop()
        assert server.errors() == [], "\n".join(server.errors()[:20])

    booked = await booked_emails(db)
    attempts = [*first, *during, *after]
    assert set(booked) == {a.email for a in attempts}
    unsent = await db.fetchval("select count(*) from outbox where sent_at is null")
    expected_ids = {r["message_id"] for r in await db.fetch("select message_id from outbox")}
    received = Counter(inbox.received)
    assert set(received) == expected_ids, "a mail was lost"
    assert max(received.values()) == 1, f"a mail was sent twice: {received}"
    assert unsent == 0
    record(
        "redis_restart",
        faults=1,
        requests=len(attempts) + sum(unguarded.values()) + sum(guarded.values()),
        bookings_checked=len(booked),
        messages_checked=len(received),
        lost=len(expected_ids - set(received)),
    )
