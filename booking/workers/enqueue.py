"""Waking the waitlist matcher after a commit that freed capacity or grew the waitlist.

Mails need no such call: writing an outbox row wakes the outbox relay at commit (sql/0008).
"""

from __future__ import annotations

import logging

from arq.connections import ArqRedis
from redis.exceptions import RedisError

log = logging.getLogger("booking.waitlist")

MATCH_JOB = "match_waitlist"


async def wake_matcher(redis: ArqRedis) -> None:
    """Run the waitlist matcher now rather than at its next quarter minute.

    One fixed job id: a wake-up while one is queued or running adds nothing, and the
    schedule catches whatever a lost wake-up would have done.
    """
    try:
        await redis.enqueue_job(MATCH_JOB, _job_id="waitlist:match")
    except (RedisError, OSError):
        log.warning("queue unavailable; the waitlist matcher runs on its schedule")
