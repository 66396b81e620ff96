"""``make bench`` (``python -m bench [--quick]``): every scenario against the production shape,
then bench/results/report.{json,md}.

Scenario and yardstick alternate within one run, so a machine busy with something else
slows both; the ratios are the figures to compare, the absolute numbers are this machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench import availability, booking, data, fanout, outbox, queue, race, report, stack
from bench.context import Bench
from bench.report import Result
from booking.cli import apply_migrations
from booking.settings import Settings

SCENARIOS: tuple[tuple[str, Callable[[Bench], Result]], ...] = (
    ("availability", availability.run),
    ("booking", booking.run),
    ("race", race.run),
    ("call-next", queue.run),
    ("outbox", outbox.run),
    ("fan-out", fanout.run),
)

NOTES = [
    "booking serve (Granian) with one worker process per core, booking worker, PostgreSQL, "
    "Redis and the SMTP sink each in a process of their own, on the same machine as the "
    "load generators (wrk, pgbench, the bench's asyncio clients).",
    "BOOKING_POW_DIFFICULTY=0: the proof of work is the citizen's browser's cost.",
    "BOOKING_TRUSTED_PROXIES=127.0.0.1 and one X-Forwarded-For address per virtual citizen: "
    "the rate limits stay on and count per citizen, as they would behind the real proxy.",
    "BOOKING_EVENT_STREAM_SECONDS=600: boards stay connected through the fan-out scenario.",
    "pgbench runs -M prepared the statements one recorded request sent, in the same "
    "transactions (bench/recording.py); client CPU is its share of all cores' time.",
]


async def _load(database_url: str, size: data.Size) -> data.Loaded:
    await apply_migrations(Settings(database_url=database_url))
    conn = await asyncpg.connect(database_url)
    try:
        return await data.load(conn, datetime.now(UTC), size)
    finally:
        await conn.close()


def _guarded(name: str, scenario: Callable[[Bench], Result], bench: Bench) -> Result:
    """A scenario that breaks is reported as not met, and the others still run."""
    try:
        return scenario(bench)
    except Exception as exc:  # noqa: BLE001 - any failure belongs in the report
        sys.stderr.write(f"bench: {name} failed:\n{traceback.format_exc()}")
        return Result(
            scenario=name, figure=float("nan"), unit="", target="runs", met=False,
            details={"error": repr(exc)[:500]},
        )  # fmt: skip


def _raise_file_limit() -> None:
    """A thousand boards and racers need more open sockets than the usual 1024."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs on little data")
    parser.add_argument(
        "--only", action="append", choices=[name for name, _ in SCENARIOS], help="repeatable"
    )
    args = parser.parse_args()
    # SIGTERM (a timeout, a CI cancel) unwinds like Ctrl-C: every process started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _raise_file_limit()
    info = report.machine()
    info["mode"] = "quick" if args.quick else "full"
    info["noise"] = " (shared with other work: noisy)"
    began = time.monotonic()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="booking-bench-") as tmp:
        scratch = Path(tmp)
        with stack.servers(scratch) as (database_url, redis_url, _):
            loaded = asyncio.run(_load(database_url, data.QUICK if args.quick else data.FULL))
            info["data"] = {
                "locations": loaded.locations, "grid units": loaded.units,
                "appointments": loaded.appointments, "waiting tickets": loaded.tickets,
            }  # fmt: skip
            with stack.running(database_url, redis_url) as running:
                bench = Bench(
                    stack=running, loaded=loaded, seconds=2 if args.quick else 8,
                    rounds=1 if args.quick else 2, quick=args.quick, scratch=scratch,
                )  # fmt: skip
                for name, scenario in SCENARIOS:
                    if args.only and name not in args.only:
                        continue
                    sys.stderr.write(f"bench: {name} ...\n")
                    results.append(_guarded(name, scenario, bench))
                    running.check_alive()
    info["seconds"] = round(time.monotonic() - began)
    info["notes"] = [*NOTES, f"data: {info['data']}", f"whole run: {info['seconds']} s"]
    sys.stdout.write(report.write(results, info))


main()
