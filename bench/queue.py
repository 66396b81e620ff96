"""Call next at 30 desks at once, against pgbench running the same SQL.

Each desk's member of staff calls the next ticket and marks it a no-show, again and again
(a desk must finish its ticket before the next call); a call is that pair of requests.
pgbench replays the SQL of one recorded pair, each client at a desk of its own.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from bench import loadgen
from bench.context import Bench, recording_app
from bench.loadgen import Http, Run
from bench.recording import pgbench_script
from bench.report import RESULTS, Result, combine
from booking.tokens import token_hash


def _paths(bench: Bench) -> tuple[str, str]:
    base = f"/api/v1/staff/locations/{bench.loaded.queue}"
    return f"{base}/call-next", f"{base}/tickets/{{}}/no-show"


async def call_and_finish(http: Http, token: str, bench: Bench) -> tuple[int, float]:
    """One call at a desk and its no-show: (status of the call, when its answer came)."""
    call, finish = _paths(bench)
    auth = {"Authorization": f"Bearer {token}"}
    status, body = await http.request("POST", call, auth)
    answered = time.monotonic()
    if status == 200 and body["ticket"] is not None:
        await http.request("POST", finish.format(body["ticket"]["id"]), auth)
    return status, answered


async def free_desks(bench: Bench) -> None:
    """A pgbench client stopped between its call and its no-show leaves a desk busy."""
    conn = await asyncpg.connect(bench.stack.database_url)
    try:
        await conn.execute(
            "update ticket set status = 'no_show', finished_at = now()"
            " where status in ('called', 'serving')"
        )
    finally:
        await conn.close()


async def _desks(bench: Bench, seconds: float) -> Run:
    await free_desks(bench)
    clients = [await Http.open(bench.stack.url) for _ in bench.loaded.desks]
    latencies: list[float] = []
    failed = 0
    deadline = time.monotonic() + seconds

    async def desk(http: Http, token: str) -> None:
        nonlocal failed
        while time.monotonic() < deadline:
            began = time.monotonic()
            status, answered = await call_and_finish(http, token, bench)
            if status == 200:
                latencies.append(answered - began)
            else:
                failed += 1

    cpu = loadgen.cpu_now()
    began = time.monotonic()
    await asyncio.gather(
        *(desk(h, d.token) for h, d in zip(clients, bench.loaded.desks, strict=True))
    )
    elapsed = time.monotonic() - began
    cpu = loadgen.cpu_now() - cpu
    for http in clients:
        await http.close()
    latencies.sort()
    return Run(
        ok=len(latencies),
        failed=failed,
        seconds=elapsed,
        p50_ms=loadgen.percentile(latencies, 50) * 1000,
        p99_ms=loadgen.percentile(latencies, 99) * 1000,
        client_cpu_seconds=cpu,
    )


async def _script(bench: Bench) -> str:
    conn = await asyncpg.connect(bench.stack.database_url)
    try:
        await conn.execute("create table bench_client (n int primary key, token_hash bytea)")
        await conn.executemany(
            "insert into bench_client values ($1, $2)",
            [(n, token_hash(d.token)) for n, d in enumerate(bench.loaded.desks)],
        )
    finally:
        await conn.close()
    first = bench.loaded.desks[0]
    call, finish = _paths(bench)
    auth = {"Authorization": f"Bearer {first.token}"}
    async with recording_app(bench) as (client, recording):
        answer = await client.post(call, headers=auth)
        if answer.status_code != 200 or answer.json()["ticket"] is None:
            raise RuntimeError(f"recording a call failed: {answer.status_code} {answer.text}")
        done = await client.post(finish.format(answer.json()["ticket"]["id"]), headers=auth)
        if done.status_code != 200:
            raise RuntimeError(f"recording a no-show failed: {done.status_code} {done.text}")
    preamble = ["select token_hash::text as th from bench_client where n = :client_id \\gset"]
    return pgbench_script(
        recording, preamble=preamble, varying={token_hash(first.token): "(:th::bytea)"}
    )


def run(bench: Bench) -> Result:
    script = asyncio.run(_script(bench))
    (RESULTS / "call-next.pgbench.sql").write_text(script)
    clients = len(bench.loaded.desks)
    http, sql = bench.against_pgbench(
        lambda _: asyncio.run(_desks(bench, bench.seconds)), script, clients
    )
    rate, p50, p99, share = combine(http)
    yardstick, *_ = combine(sql)
    ratio = rate / yardstick
    failed = sum(r.failed for r in http)
    return Result(
        scenario=f"call next, {clients} desks at once",
        figure=rate,
        unit="calls/s",
        yardstick=yardstick,
        yardstick_name="pgbench, the same SQL (call + no-show)",
        ratio=ratio,
        p50_ms=p50,
        p99_ms=p99,
        client_cpu_share=share,
        target=">= 0.30",
        met=ratio >= 0.3 and failed == 0,
        details={"failed calls": failed, "latency": "of the call request"},
    )
