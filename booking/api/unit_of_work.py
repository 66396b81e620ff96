"""A request's change: a retried transaction, then its messages queued after commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from arq.connections import ArqRedis

from booking.appointments import Context
from booking.db import Connection
from booking.db.transaction import in_transaction
from booking.workers.enqueue import enqueue_messages, wake_matcher

T = TypeVar("T")


class UnitOfWork:
    def __init__(self, pool: asyncpg.Pool, queue: ArqRedis) -> None:
        self._pool = pool
        self._queue = queue

    async def run(
        self, work: Callable[[Connection], Awaitable[T]], ctx: Context | None = None
    ) -> T:
        async def attempt(conn: Connection) -> T:
            if ctx is not None:
                # A retried attempt starts over; rolled-back rows are gone.
                ctx.outbox.clear()
                ctx.rematch.clear()
            return await work(conn)

        result = await in_transaction(self._pool, attempt)
        if ctx is not None and ctx.outbox:
            # Only now: a job must never see a row its transaction might still roll back.
            await enqueue_messages(self._queue, [(outbox_id, 0) for outbox_id in ctx.outbox])
        if ctx is not None and ctx.rematch:
            await wake_matcher(self._queue)
        return result
