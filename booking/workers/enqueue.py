"""Putting outbox rows on the arq queue: after commit (fast path) and from the sweep.

The job id is derived from the row and its attempt count, so the fast path and the sweep
never queue the same attempt twice, and a kept result never blocks the next attempt.
PostgreSQL stays the truth: when Redis is down nothing is lost, the sweep catches up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from arq.connections import ArqRedis
from arq.constants import default_queue_name, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.exceptions import RedisError

log = logging.getLogger("booking.outbox")

SEND_JOB = "send_message"
MATCH_JOB = "match_waitlist"

# ArqRedis.enqueue_job's check-and-set (no job and no kept result under the id: store the
# job, then queue its id), as one script for a whole batch: one round trip where arq's
# WATCH, EXISTS and MULTI/EXEC take three per job. The keys and the job's encoding are
# arq's own, so its worker runs these jobs like any other.
# KEYS: queue, then job key and result key per job; ARGV: expiry ms, score, then the
# serialised job and its id per job. Returns how many were newly queued.
_ENQUEUE = """
local queued = 0
for n = 1, (#KEYS - 1) / 2 do
  if redis.call('EXISTS', KEYS[2 * n], KEYS[2 * n + 1]) == 0 then
    redis.call('PSETEX', KEYS[2 * n], ARGV[1], ARGV[2 * n + 1])
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[2 * n + 2])
    queued = queued + 1
  end
end
return queued
"""


def job_id(outbox_id: int, attempts: int, again: str = "") -> str:
    """``again`` tells a later job for the same attempt from one that was lost."""
    return f"outbox:{outbox_id}:{attempts}" + (f":{again}" if again else "")


async def _enqueue(
    redis: ArqRedis, function: str, jobs: Sequence[tuple[str, tuple[Any, ...]]]
) -> int:
    """Queue (job id, arguments) pairs to run now; ids already queued or kept are skipped."""
    now = timestamp_ms()
    keys: list[str] = [default_queue_name]
    args: list[bytes | str | int] = [redis.expires_extra_ms, now]
    for one, arguments in jobs:
        keys += [job_key_prefix + one, result_key_prefix + one]
        job = serialize_job(function, arguments, {}, None, now, serializer=redis.job_serializer)
        args += [job, one]
    return int(await redis.register_script(_ENQUEUE)(keys=keys, args=args))


async def enqueue_messages(redis: ArqRedis, due: list[tuple[int, int]], again: str = "") -> int:
    """Queue (outbox id, attempts so far) pairs; returns how many were newly queued."""
    if not due:
        return 0
    try:
        return await _enqueue(
            redis,
            SEND_JOB,
            [(job_id(outbox_id, attempts, again), (outbox_id,)) for outbox_id, attempts in due],
        )
    except (RedisError, OSError):
        log.warning("queue unavailable; %d message(s) left for the sweep", len(due))
        return 0


async def wake_matcher(redis: ArqRedis) -> None:
    """Run the waitlist matcher now rather than at its next quarter minute.

    One fixed job id: a wake-up while one is queued or running adds nothing, and the
    schedule catches whatever a lost wake-up would have done.
    """
    try:
        await _enqueue(redis, MATCH_JOB, [("waitlist:match", ())])
    except (RedisError, OSError):
        log.warning("queue unavailable; the waitlist matcher runs on its schedule")
