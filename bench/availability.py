"""Availability for a 14-day window and one service set, against ``/healthz`` of the same
server: how much of the framework's request rate the search keeps."""

from __future__ import annotations

from bench import loadgen
from bench.context import Bench
from bench.data import SERVICE
from bench.report import Result, combine

CONNECTIONS = 64


def run(bench: Bench) -> Result:
    base = bench.stack.url
    search = f"{base}/api/v1/availability?location={bench.loaded.book}&service={SERVICE}"
    trivial, searched = [], []
    for _ in range(bench.rounds):
        trivial.append(
            loadgen.wrk(
                f"{base}/healthz", "get.lua", seconds=bench.seconds, connections=CONNECTIONS
            )
        )
        searched.append(
            loadgen.wrk(search, "get.lua", seconds=bench.seconds, connections=CONNECTIONS)
        )
    rate, p50, p99, share = combine(searched)
    yardstick, _, trivial_p99, _ = combine(trivial)
    ratio = rate / yardstick
    failed = sum(r.failed for r in searched)
    return Result(
        scenario="availability, 14 days, one service set",
        figure=rate,
        unit="requests/s",
        yardstick=yardstick,
        yardstick_name="GET /healthz, same server",
        ratio=ratio,
        p50_ms=p50,
        p99_ms=p99,
        client_cpu_share=share,
        target=">= 0.40 and p99 < 50 ms",
        met=ratio >= 0.4 and p99 < 50 and failed == 0,
        # The trivial endpoint's own tail tells what the machine's noise adds to every p99.
        details={"connections": CONNECTIONS, "failed": failed, "yardstick p99 ms": trivial_p99},
    )
