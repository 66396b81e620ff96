"""The arq worker's settings, built from our Settings at start instead of at import time."""

from __future__ import annotations

import asyncio
import random
from contextlib import suppress
from typing import Any

from arq import cron
from arq.worker import func

from booking.clock import Clock, SystemClock
from booking.db.pool import create_pool
from booking.redis_client import deserialize_job, redis_settings, serialize_job
from booking.settings import Settings
from booking.smtp import Relay
from booking.workers.enqueue import MATCH_JOB
from booking.workers.relay import OutboxRelay
from booking.workers.tasks import (
    close_queues,
    create_reminders,
    erase_personal_data,
    extend_grids,
    forget_idempotency_keys,
    match_waitlist,
    release_expired,
)

SHUTDOWN_GRACE_SECONDS = 12  # twice this is below compose's stop_grace_period (30 s)


async def shutdown(ctx: dict[str, Any]) -> None:
    """Finish the mails in flight, then close what ``on_startup`` opened; a second call
    does nothing (see cli.cmd_worker: arq skips it when Redis is gone)."""
    task = ctx.pop("outbox_task", None)
    if task is not None:
        # A send stuck past the grace is cancelled and its row sent again once its lease
        # runs out.
        ctx["outbox"].stop()
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), SHUTDOWN_GRACE_SECONDS)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    relay = ctx.pop("relay", None)
    if relay is not None:
        await relay.close()
    pool = ctx.pop("db_pool", None)
    if pool is not None:
        await pool.close()


def worker_settings(
    settings: Settings,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    *,
    relay_outbox: bool = True,
) -> dict[str, Any]:
    """``relay_outbox``: run the outbox relay beside the jobs (a test's burst drains it itself)."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["clock"] = clock or SystemClock()
        # The waitlist lottery's draws; tests pass a seeded one.
        ctx["rng"] = rng or random.SystemRandom()
        ctx["db_pool"] = await create_pool(settings)
        ctx["relay"] = Relay(settings)
        ctx["outbox"] = OutboxRelay(ctx["db_pool"], settings, ctx["clock"], ctx["relay"].send)
        if relay_outbox:
            ctx["outbox_task"] = asyncio.create_task(ctx["outbox"].run(), name="outbox-relay")

    return {
        "functions": [
            erase_personal_data,
            extend_grids,
            release_expired,
            forget_idempotency_keys,
            create_reminders,
            close_queues,
            # No kept result: the wake-up's fixed job id is free again once a run is done.
            func(match_waitlist, name=MATCH_JOB, keep_result=0),
        ],
        "cron_jobs": [
            cron(erase_personal_data, hour={3}, minute={17}, unique=True),
            cron(forget_idempotency_keys, hour={3}, minute={47}, unique=True),
            cron(release_expired, second={0, 30}, unique=True, run_at_startup=True),
            cron(match_waitlist, second={0, 15, 30, 45}, unique=True, run_at_startup=True),
            cron(create_reminders, minute=set(range(0, 60, 5)), unique=True),
            cron(close_queues, minute=set(range(3, 60, 10)), unique=True, run_at_startup=True),
            # Shortly after midnight in Central Europe; at startup too, so a new worker fills
            # any day a stopped one missed.
            cron(extend_grids, hour={23}, minute={5}, unique=True, run_at_startup=True),
        ],
        "redis_settings": redis_settings(settings),
        "on_startup": on_startup,
        "on_shutdown": shutdown,
        "job_serializer": serialize_job,
        "job_deserializer": deserialize_job,
        "max_jobs": 20,
        # arq looks for new jobs this often (its default is half a second): the waitlist
        # matcher woken by a cancellation runs at once.
        "poll_delay": 0.05,
        "job_timeout": 300,
        "keep_result": 3600,
        "handle_signals": True,
        # SIGTERM: take no new jobs, let running ones finish for this long, then cancel;
        # compose's stop_grace_period (30 s) is longer.
        "job_completion_wait": SHUTDOWN_GRACE_SECONDS,
    }
