"""1000 display boards on one office's live stream: how soon each sees a call.

The boards run in a process of their own (bench.fanout_client). A desk then calls a
ticket every half second; a call's delivery time to a board runs from the moment its call
request was sent (the commit lies somewhere before the answer, and a board may hear of it
before the desk does) to the board's receipt: an upper bound, never negative.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from bench import loadgen
from bench.context import Bench
from bench.loadgen import Http
from bench.queue import call_and_finish, free_desks
from bench.report import Result

BOARDS = 1000


async def _calls(bench: Bench, count: int) -> list[float]:
    await free_desks(bench)
    http = await Http.open(bench.stack.url)
    sent = []
    try:
        for _ in range(count):
            began = time.monotonic()
            status, _ = await call_and_finish(http, bench.loaded.desks[0].token, bench)
            if status != 200:
                raise RuntimeError(f"call next answered {status}")
            sent.append(began)
            await asyncio.sleep(0.5)
    finally:
        await http.close()
    return sent


def run(bench: Bench) -> Result:
    events = 3 if bench.quick else 10
    command = [
        sys.executable, "-m", "bench.fanout_client", bench.stack.url, bench.loaded.queue,
        bench.loaded.display_token, str(BOARDS), str(events),
    ]  # fmt: skip
    boards = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert boards.stdout is not None
    began = time.monotonic()
    try:
        said = boards.stdout.readline().strip()
        if said != "ready":
            raise RuntimeError(f"the display boards did not all subscribe: {said!r}")
        subscribed_after = time.monotonic() - began
        sent = asyncio.run(_calls(bench, events))
        found = json.loads(boards.stdout.readline())
        boards.wait(timeout=60)
    finally:
        if boards.poll() is None:
            boards.kill()
            boards.wait()
    delays = [
        (receipt - sent[k]) * 1000
        for stream in found["receipts"]
        for k, receipt in enumerate(stream[:events])
    ]
    missing = BOARDS * events - len(delays)
    p99 = loadgen.percentile(delays, 99)
    elapsed = time.monotonic() - began
    return Result(
        scenario=f"display fan-out, {BOARDS} SSE clients",
        figure=p99,
        unit="ms event delivery p99",
        p50_ms=loadgen.percentile(delays, 50),
        p99_ms=p99,
        client_cpu_share=found["cpu"] / (elapsed * loadgen.cores()),
        target="every client gets every call, p99 < 250 ms",
        met=missing == 0 and p99 < 250,
        details={
            "calls": events,
            "deliveries missing": missing,
            "max ms": round(max(delays, default=float("nan")), 1),
            "all subscribed after s": round(subscribed_after, 1),
            "reconnects while subscribing": found["reconnects"],
            "board failures": found["failures"],
        },
    )
