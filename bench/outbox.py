"""Outbox -> SMTP with one worker, against raw aiosmtplib sends to the same sink.

The sink accepts and discards; both sides send the same number of messages with the same
concurrency (the worker's max_jobs), so the ratio is what the outbox machinery costs.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from arq.worker import Worker

from booking.cli import apply_migrations
from booking.demo import seed_demo
from booking.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from booking.settings import Settings
from booking.workers.settings import worker_settings

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "400"))
CONCURRENCY = 20  # the worker's max_jobs


class _Discard:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        return "250 accepted"


async def _queue(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC)
        await seed_demo(conn, now)
        location = await conn.fetchval("select id from location where slug = 'mitte'")
        service = await conn.fetchval("select id from service where slug = 'beglaubigung'")
        await conn.execute(
            """
            with a as (
                insert into appointment (code, location_id, starts_at, ends_at, citizen_name,
                                         email, manage_token_hash, token_salt, status)
                select 'B' || lpad(n::text, 5, '0'), $1,
                       $2::timestamptz + n * interval '10 minutes',
                       $2::timestamptz + (n + 1) * interval '10 minutes',
                       'Bench ' || n, 'bench' || n || '@example.org', '\\x00', '\\x00', 'booked'
                  from generate_series(1, $3) as n
                returning id
            ), s as (
                insert into appointment_service (appointment_id, service_id, position)
                select id, $4, 0 from a
            )
            insert into outbox (kind, appointment_id, message_id, payload)
            select 'confirmation', id, '<bench' || id || '@bench.local>', '{"sequence": 0}'
              from a
            """,
            location, now + timedelta(days=2), MESSAGES, service,
        )  # fmt: skip
    finally:
        await conn.close()


async def _worker_rate(settings: Settings) -> float:
    options = {**worker_settings(settings), "max_jobs": CONCURRENCY}
    worker = Worker(**options, burst=True, poll_delay=0.01)
    started = time.perf_counter()
    try:
        await worker.main()
    finally:
        await worker.close()
    return MESSAGES / (time.perf_counter() - started)


async def _raw_rate(port: int) -> float:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@b.example", "c@d.example", "bench"
    message.set_content("x" * 4000)  # about the size of a confirmation with its calendar
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with gate:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=port)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(MESSAGES)))
    return MESSAGES / (time.perf_counter() - started)


async def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        postgres = EmbeddedPostgres(folder / "pg", delete_on_stop=True)
        redis = EmbeddedRedis(folder / "redis", persist=False)
        port = free_port()
        sink = Controller(_Discard(), hostname="127.0.0.1", port=port)
        sink.start()
        try:
            settings = Settings(
                database_url=postgres.url("booking"), redis_url=redis.url(), smtp_port=port,
                secret_key="bench-" + "k" * 40, public_url="http://bench.local",
            )  # fmt: skip
            await apply_migrations(settings)
            await _queue(settings.database_url)
            yardstick = await _raw_rate(port)
            figure = await _worker_rate(settings)
        finally:
            sink.stop()
            redis.stop()
            postgres.stop()
    return {
        "scenario": "outbox -> SMTP, one worker",
        "figure": figure,
        "yardstick": yardstick,
        "yardstick_name": "raw aiosmtplib sends to the same sink",
        "unit": "messages/s",
        "ratio": figure / yardstick,
        "messages": MESSAGES,
    }
