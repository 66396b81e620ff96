"""1000 citizens at once on one start with 30 places: exactly 30 booked, 970 told 409.

Every client opens its connection first; then all requests go out together. The database
is the judge of correctness afterwards, the clients' clocks of the time to settle.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime

import asyncpg

from bench import loadgen
from bench.context import Bench
from bench.data import RACE_CAPACITY, SERVICE, free_starts
from bench.loadgen import Http
from bench.report import Result

CLIENTS = 1000


async def _race(bench: Bench, start: datetime) -> tuple[list[int], list[float], float, float]:
    clients = await asyncio.gather(*(Http.open(bench.stack.url) for _ in range(CLIENTS)))
    done: list[float] = []

    async def one(n: int, http: Http) -> int:
        await http.writer.drain()
        status, _ = await http.answer()
        done.append(time.monotonic())
        return status

    cpu = loadgen.cpu_now()
    began = time.monotonic()
    for n, http in enumerate(clients):
        http.send(
            "POST", "/api/v1/appointments",
            {"Idempotency-Key": f"race-{n}", "X-Forwarded-For": f"10.9.{n // 256}.{n % 256}"},
            {"location": bench.loaded.race, "services": [SERVICE], "start": start.isoformat(),
             "name": "Racing Citizen", "email": f"race{n}@example.org"},
        )  # fmt: skip
    statuses = await asyncio.gather(*(one(n, http) for n, http in enumerate(clients)))
    settled = time.monotonic() - began
    cpu = loadgen.cpu_now() - cpu
    await asyncio.gather(*(http.close() for http in clients))
    return statuses, [t - began for t in done], settled, cpu


async def _measure(bench: Bench) -> Result:
    conn = await asyncpg.connect(bench.stack.database_url)
    try:
        start = (await free_starts(conn, bench.loaded.race, await conn.fetchval("select now()")))[0]
        statuses, latencies, settled, cpu = await _race(bench, start)
        booked = await conn.fetchval(
            """
            select s.booked from slot s join location l on l.id = s.location_id
             where l.slug = $1 and s.starts_at = $2
            """,
            bench.loaded.race, start,
        )  # fmt: skip
        appointments = await conn.fetchval(
            """
            select count(*) from appointment a join location l on l.id = a.location_id
             where l.slug = $1 and a.starts_at = $2 and a.status in ('pending', 'booked')
            """,
            bench.loaded.race, start,
        )  # fmt: skip
    finally:
        await conn.close()
    counts = Counter(statuses)
    correct = (
        counts[201] == RACE_CAPACITY == booked == appointments
        and counts[409] == CLIENTS - RACE_CAPACITY
    )
    return Result(
        scenario=f"booking race, {CLIENTS} clients on {RACE_CAPACITY} places",
        figure=settled * 1000,
        unit="ms to settle",
        p50_ms=loadgen.percentile(latencies, 50) * 1000,
        p99_ms=loadgen.percentile(latencies, 99) * 1000,
        client_cpu_share=cpu / (settled * loadgen.cores()),
        target=f"exactly {RACE_CAPACITY} booked, all others 409, no 5xx",
        met=correct,
        details={
            "answers": dict(sorted(counts.items())),
            "slot.booked": booked,
            "active appointments": appointments,
        },
    )


def run(bench: Bench) -> Result:
    return asyncio.run(_measure(bench))
