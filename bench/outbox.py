"""Outbox -> SMTP with the one ``booking worker``, against raw aiosmtplib sends to the same sink.

Confirmations for booked appointments are written to the outbox as the API writes them
(their commit wakes the worker's relay); the figure is how fast the worker empties it. The
yardstick sends as many copies of one real confirmation, built once beforehand, with the
relay's concurrency (mails in flight) straight to the same sink process: one
``aiosmtplib.send`` each, connection and all, as a script mailing a ready-made message would.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from email.message import Message

import aiosmtplib
import asyncpg

from bench.context import Bench
from bench.report import Result
from booking import notifications
from booking.db.outbox import OutboxMessage
from booking.db.pool import create_pool
from booking.workers import relay

CONCURRENCY: int = relay.LANES * relay.BATCH


async def _confirmation(bench: Bench) -> Message:
    """The confirmation the worker would send for one of the booked appointments."""
    pool = await create_pool(bench.settings)
    try:
        async with pool.acquire() as conn:
            appointment_id = await conn.fetchval(
                "select id from appointment where status = 'booked' and email like 'citizen%'"
                " order by id limit 1"
            )
            row = OutboxMessage(
                id=0, kind="confirmation", appointment_id=appointment_id,
                waitlist_entry_id=None, ticket_id=None, message_id="<bench-raw@bench.local>",
                sequence=0, attempts=0,
            )  # fmt: skip
            built = await notifications.build(conn, bench.settings, datetime.now(UTC), row)
    finally:
        await pool.close()
    assert isinstance(built, Message), built
    return built


async def _raw(bench: Bench, messages: int) -> float:
    message = await _confirmation(bench)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with gate:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=bench.stack.smtp_port)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(messages)))
    return messages / (time.perf_counter() - started)


async def _worker(bench: Bench, messages: int) -> float:
    """Write confirmations for ``messages`` booked appointments; time until all are sent."""
    conn = await asyncpg.connect(bench.stack.database_url)
    try:
        started = time.perf_counter()  # the relay wakes at the insert's commit
        ids = [
            row["id"]
            for row in await conn.fetch(
                """
                insert into outbox (kind, appointment_id, message_id, payload)
                select 'confirmation', a.id, '<bench-' || gen_random_uuid() || '@bench.local>',
                       '{"sequence": 0}'
                  from appointment a
                 where a.status = 'booked' and a.email like 'citizen%'
                   and not exists (select 1 from outbox o where o.appointment_id = a.id)
                 order by a.id
                 limit $1
                returning id
                """,
                messages,
            )
        ]
        while await conn.fetchval(
            "select count(*) from outbox where id = any($1::bigint[]) and sent_at is null", ids
        ):
            if time.perf_counter() - started > 120:
                raise RuntimeError("the worker did not send the outbox within 2 minutes")
            await asyncio.sleep(0.02)
        return len(ids) / (time.perf_counter() - started)
    finally:
        await conn.close()


def run(bench: Bench) -> Result:
    messages = 150 if bench.quick else 600
    raw, worker = [], []
    for _ in range(bench.rounds):
        raw.append(asyncio.run(_raw(bench, messages)))
        worker.append(asyncio.run(_worker(bench, messages)))
    yardstick = len(raw) / sum(1 / r for r in raw)  # the rate over all rounds' messages
    figure = len(worker) / sum(1 / w for w in worker)
    ratio = figure / yardstick
    return Result(
        scenario="outbox -> SMTP, one worker",
        figure=figure,
        unit="messages/s",
        yardstick=yardstick,
        yardstick_name="raw aiosmtplib sends to the same sink",
        ratio=ratio,
        target=">= 0.50",
        met=ratio >= 0.5,
        details={"messages per round": messages, "concurrency": CONCURRENCY},
    )
