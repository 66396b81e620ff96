"""Booking distinct starts over HTTP, against pgbench running the same SQL transaction.

wrk books the free places of one office, each request a new citizen; pgbench replays the
statements one real booking sent (bench.recording) at a twin office, each transaction at
a random free place of its own, with the same 64 connections.

The mail worker is paused while both run: every booking queues a confirmation, and on two
shared cores its sending would take CPU from whichever side happens to run with the
backlog (the mails are the outbox scenario's figure). Afterwards it sends them all before
the next scenario starts.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg

from bench import loadgen
from bench.context import Bench, recording_app
from bench.data import SERVICE, free_starts
from bench.recording import pgbench_script
from bench.report import RESULTS, Result, combine

CONNECTIONS = 64
_MESSAGE_ID = re.compile(r"^<[0-9a-f-]{36}@")


async def _places(bench: Bench) -> tuple[list[str], int]:
    """wrk's starts (ISO lines) and the number of pgbench's places (table bench_place)."""
    conn = await asyncpg.connect(bench.stack.database_url)
    try:
        now = await conn.fetchval("select now()")
        starts = await free_starts(conn, bench.loaded.book, now)
        places = await free_starts(conn, bench.loaded.pgbench, now)
        await conn.execute(
            "create table bench_place (n int primary key, starts_at timestamptz not null)"
        )
        await conn.copy_records_to_table(
            "bench_place", records=[(n, start) for n, start in enumerate(places, 1)]
        )
    finally:
        await conn.close()
    return [start.isoformat() for start in starts], len(places)


async def _script(bench: Bench, places: int) -> tuple[str, int]:
    conn = await asyncpg.connect(bench.stack.database_url)
    try:
        start = await conn.fetchval("select starts_at from bench_place where n = 1")
    finally:
        await conn.close()
    key, email = f"record-{uuid.uuid4()}", "recorded@example.org"
    async with recording_app(bench) as (client, recording):
        answer = await client.post(
            "/api/v1/appointments",
            json={"location": bench.loaded.pgbench, "services": [SERVICE],
                  "start": start.isoformat(), "name": "Bench Citizen", "email": email},
            headers={"Idempotency-Key": key},
        )  # fmt: skip
    if answer.status_code != 201:
        raise RuntimeError(f"recording a booking failed: {answer.status_code} {answer.text}")
    varying: dict[object, str] = {
        email: "('b'::text || :u::text || '@example.org')",
        key: "('k'::text || :u::text)",
        answer.json()["code"]: "('P'::text || :u::text)",
        start: "(:ps::timestamptz)",
        start + timedelta(minutes=10): "(:pe::timestamptz)",
    }
    for statement in recording.statements:
        for value in statement.args:
            if isinstance(value, str) and _MESSAGE_ID.match(value):
                varying[value] = "('<'::text || :u::text || '@bench.local>')"
    preamble = [
        "\\set u random(1, 1000000000000000)",
        f"\\set n random(1, {places})",
        "select starts_at::text as ps, (starts_at + interval '10 minutes')::text as pe "
        "from bench_place where n = :n \\gset",
    ]
    script = pgbench_script(recording, preamble=preamble, varying=varying)
    return script, len(recording.statements)


def _book(bench: Bench, starts_file: Path, round_: int) -> loadgen.Run:
    args = [str(starts_file), bench.loaded.book, SERVICE, str(loadgen.cores()), f"r{round_}"]
    return loadgen.wrk(
        bench.stack.url, "book.lua", seconds=bench.seconds, connections=CONNECTIONS, args=args
    )


async def _drain(bench: Bench, patience: float = 300) -> int:
    """Drop the pgbench side's mails (rows of the yardstick, nobody queued them), then wait
    until the worker has sent the HTTP side's; how many those were."""
    conn = await asyncpg.connect(bench.stack.database_url)
    unsent = """
        select count(*) from outbox o join appointment a on a.id = o.appointment_id
         join location l on l.id = a.location_id
         where l.slug = $1 and o.sent_at is null and o.failed_at is null
    """
    try:
        await conn.execute(
            """
            delete from outbox o using appointment a, location l
             where a.id = o.appointment_id and l.id = a.location_id and l.slug = $1
            """,
            bench.loaded.pgbench,
        )
        queued: int = await conn.fetchval(unsent, bench.loaded.book)
        deadline = time.monotonic() + patience
        while await conn.fetchval(unsent, bench.loaded.book):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not send {queued} mails in {patience:.0f} s")
            await asyncio.sleep(0.2)
        return queued
    finally:
        await conn.close()


def run(bench: Bench) -> Result:
    starts, places = asyncio.run(_places(bench))
    script, statements = asyncio.run(_script(bench, places))
    (RESULTS / "booking.pgbench.sql").write_text(script)
    starts_file = bench.scratch / "starts.txt"
    starts_file.write_text("\n".join(starts) + "\n")
    with bench.stack.paused("worker"):
        http, sql = bench.against_pgbench(
            lambda round_: _book(bench, starts_file, round_), script, CONNECTIONS
        )
    drained = asyncio.run(_drain(bench))
    rate, p50, p99, share = combine(http)
    yardstick, _, sql_p99, _ = combine(sql)
    ratio = rate / yardstick
    refused = sum(r.failed for r in http)
    return Result(
        scenario="booking, distinct starts",
        figure=rate,
        unit="bookings/s",
        yardstick=yardstick,
        yardstick_name="pgbench, the same SQL transaction",
        ratio=ratio,
        p50_ms=p50,
        p99_ms=p99,
        client_cpu_share=share,
        target=">= 0.35 and p99 < 100 ms at 64 connections",
        met=ratio >= 0.35 and p99 < 100,
        details={
            "not 201": refused,
            "free places offered to wrk": len(starts),
            "pgbench p99 ms": round(sql_p99, 1),
            "statements per booking": statements,
            "mail worker": f"paused during the load; then sent the {drained} mails in the queue",
        },
    )
