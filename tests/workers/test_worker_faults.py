"""A worker killed with SIGKILL in the middle of a batch: nothing lost, nothing sent twice
that was already recorded as sent."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import asyncpg
import msgspec
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from booking.demo import seed_demo
from booking.embedded import EmbeddedRedis, free_port
from booking.settings import Settings
from tests.reliability import record

MESSAGES = 40


class SlowInbox:
    """A real SMTP server that takes a while per message, like a busy relay."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[str] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        await asyncio.sleep(0.4)
        parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        self.received.append(str(parsed["Message-ID"]))
        return "250 accepted"


@pytest.fixture
def inbox() -> Iterator[SlowInbox]:
    box = SlowInbox()
    box._controller.start()
    yield box
    box._controller.stop()


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


def start_worker(
    settings: Settings, smtp_port: int, *, output: bool = False
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BOOKING_DATABASE_URL": settings.database_url,
        "BOOKING_REDIS_URL": settings.redis_url,
        "BOOKING_SMTP_PORT": str(smtp_port),
        "BOOKING_SECRET_KEY": settings.secret_key,
        "BOOKING_OUTBOX_LEASE_SECONDS": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "booking", "worker"],
        env=env,
        stdout=subprocess.PIPE if output else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


async def wait_for(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert callable(condition)
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def test_a_killed_worker_loses_nothing_and_repeats_nothing_recorded(
    settings: Settings, db: asyncpg.Connection, inbox: SlowInbox, redis: object
) -> None:
    await queue_confirmations(db)

    async def some_sent() -> bool:
        return len(inbox.received) >= 5

    async def all_recorded() -> bool:
        unsent = await db.fetchval("select count(*) from outbox where sent_at is null")
        return bool(unsent == 0)

    first = start_worker(settings, inbox.port)
    try:
        await wait_for(some_sent, 60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    recorded = {
        r["message_id"]
        for r in await db.fetch("select message_id from outbox where sent_at is not null")
    }
    assert 0 < len(recorded) < MESSAGES, "the kill must land in the middle of the batch"

    await asyncio.sleep(
        2.5
    )  # the dead worker's leases run out; the new one's first sweep sees them
    second = start_worker(settings, inbox.port)
    try:
        await wait_for(all_recorded, 60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
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
    settings: Settings, tmp_path: Path
) -> None:
    own = EmbeddedRedis(tmp_path / "redis", persist=False)
    worker = start_worker(
        msgspec.structs.replace(settings, redis_url=own.url()), free_port(), output=True
    )
    try:
        await asyncio.sleep(3)
        assert worker.poll() is None
    finally:
        own.stop()
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 2
    assert (
        output.decode()
        .strip()
        .splitlines()[-1]
        .startswith("booking: error: lost the queue (Redis)")
    )
