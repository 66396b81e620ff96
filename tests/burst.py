"""A worker run in the test's process: what is queued and the worker's start-up jobs, then
the outbox relay until nothing is due, then stop.

Cron jobs that fire at a wall-clock minute (reminders every five minutes, the nightly
erasure) are left out: in a burst that happened to pass their minute they would run with
the test's fixed clock and, say, send a reminder no test asked for.
"""

from __future__ import annotations

import random

from arq.worker import Worker

from booking.clock import Clock
from booking.settings import Settings
from booking.workers.settings import worker_settings


async def run_burst(
    settings: Settings, clock: Clock | None = None, rng: random.Random | None = None
) -> None:
    config = worker_settings(settings, clock, rng, relay_outbox=False)
    config["cron_jobs"] = [job for job in config["cron_jobs"] if job.run_at_startup]
    worker = Worker(**config, burst=True)
    try:
        await worker.main()
        await worker.ctx["outbox"].drain()
    finally:
        await worker.close()
