"""Putting outbox rows on the arq queue: after commit (fast path) and from the sweep.

The job id is derived from the row and its attempt count, so the fast path and the sweep
never queue the same attempt twice, and a kept result never blocks the next attempt.
PostgreSQL stays the truth: when Redis is down nothing is lost, the sweep catches up.
"""

from __future__ import annotations

import logging

from arq.connections import ArqRedis
from redis.exceptions import RedisError

log = logging.getLogger("booking.outbox")

SEND_JOB = "send_message"
MATCH_JOB = "match_waitlist"


def job_id(outbox_id: int, attempts: int) -> str:
    return f"outbox:{outbox_id}:{attempts}"


async def enqueue_messages(redis: ArqRedis, due: list[tuple[int, int]]) -> int:
    """Queue (outbox id, attempts so far) pairs; returns how many were newly queued."""
    queued = 0
    try:
        for outbox_id, attempts in due:
            job = await redis.enqueue_job(SEND_JOB, outbox_id, _job_id=job_id(outbox_id, attempts))
            queued += job is not None
    except (RedisError, OSError):
        log.warning("queue unavailable; %d message(s) left for the sweep", len(due) - queued)
    return queued


async def wake_matcher(redis: ArqRedis) -> None:
    """Run the waitlist matcher now rather than at its next quarter minute.

    One fixed job id: a wake-up while one is queued or running adds nothing, and the
    schedule catches whatever a lost wake-up would have done.
    """
    try:
        await redis.enqueue_job(MATCH_JOB, _job_id="waitlist:match")
    except (RedisError, OSError):
        log.warning("queue unavailable; the waitlist matcher runs on its schedule")
